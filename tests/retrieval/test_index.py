"""The index folder with the hashing embedder: build, load, manifest checks, skip, cache, crash safety,
incremental updates (vector ids, in-place FAISS changes, HNSW tombstones, kept tokens) and the stores."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import bm25s
import faiss
import numpy as np
import pytest
from helpers import DOC_IDS, JINGYUAN, RENHUAI, make_settings

import retrieval.index as index_module
from ingest.pipeline import doc_id_for, file_hash
from policyqa import service
from policyqa.service import QAService, index_dir
from policyqa.settings import Settings
from retrieval.embedders import HashingEmbedder
from retrieval.filters import SearchFilters
from retrieval.index import IndexError_, corpus_hash, load_index, read_contents, read_manifest
from retrieval.stores import (
    HNSW_EF_SEARCH,
    DenseStore,
    DenseStoreError,
    LexicalStore,
    TokenTable,
    bm25_index,
)
from retrieval.tokenize import tokenize


@pytest.fixture
def corpus_copy(tmp_path, corpus_dir):
    """A private copy of the corpus that a test may change."""
    dst = tmp_path / "corpus"
    shutil.copytree(corpus_dir, dst)
    return dst


@pytest.fixture
def settings(tmp_path, corpus_copy):
    return make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, embedder="hashing")


def ingest(settings, embedder, rebuild=False):
    return service.ingest(settings, [settings.corpus_dir], embedder, rebuild=rebuild)


def snapshot(path):
    """Every file of the index folder with its bytes."""
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_build_then_load(settings, hashing_embedder):
    outcome = ingest(settings, hashing_embedder)
    assert not outcome.skipped and outcome.report.ok
    index = load_index(index_dir(settings), hashing_embedder.name, hashing_embedder.dim)
    assert sorted(index.documents) == DOC_IDS
    assert len(index.chunks) == outcome.manifest["n_chunks"] == len(outcome.report.chunks)
    assert index.dense.index.ntotal == len(index.chunks)
    assert [c.chunk_id for c in index.chunks] == [c.chunk_id for c in outcome.report.chunks]
    # documents survive the JSON round trip with clauses and records
    renhuai = index.documents[RENHUAI]
    original = next(d for d in outcome.report.documents if d.doc_id == RENHUAI)
    assert renhuai.text == original.text and renhuai.clauses == original.clauses and renhuai.records == original.records
    assert next(c for c in index.chunks if c.chunk_id == f"{RENHUAI}#三.3").records == original.records[2:3]


def test_manifest_fields(settings, hashing_embedder, corpus_copy):
    manifest = ingest(settings, hashing_embedder).manifest
    on_disk = read_manifest(index_dir(settings))
    assert on_disk == manifest
    assert manifest["embedder"] == {"name": "hashing:256", "dim": 256}
    assert manifest["chunking"] == {"max_chars": 400, "min_chars": 20, "whole_clauses": True, "context": "parent",
                                    "sentence_vectors": True}
    hashes = {doc_id_for(p): file_hash(p) for p in sorted(corpus_copy.glob("*.txt"))}
    assert manifest["documents"] == hashes
    assert manifest["corpus_hash"] == corpus_hash(hashes)
    assert manifest["n_chunks"] > 100
    assert manifest["embedded_now"] == manifest["n_chunks"]


def test_corpus_hash_changes_with_the_corpus(settings, hashing_embedder, corpus_copy):
    before = ingest(settings, hashing_embedder).manifest["corpus_hash"]
    with (corpus_copy / f"{JINGYUAN}.txt").open("a", encoding="utf-8") as f:
        f.write("\n(五)加强宣传引导。营造全社会关心支持新优质学校建设的良好氛围。\n")
    after = ingest(settings, hashing_embedder).manifest["corpus_hash"]
    assert before != after


def test_loading_with_another_embedder_fails_with_rebuild_hint(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    other = HashingEmbedder(128)
    with pytest.raises(IndexError_) as exc:
        load_index(index_dir(settings), other.name, other.dim)
    message = str(exc.value)
    assert "--rebuild" in message and "hashing:256" in message and "hashing:128" in message
    with pytest.raises(IndexError_, match="--rebuild"):
        QAService(settings, other)


def test_loading_without_index_says_to_ingest(settings, hashing_embedder):
    with pytest.raises(IndexError_, match="policyqa ingest"):
        load_index(index_dir(settings), hashing_embedder.name, hashing_embedder.dim)


def test_unchanged_corpus_is_skipped(settings, hashing_embedder):
    first = ingest(settings, hashing_embedder)
    before = snapshot(index_dir(settings))
    again = ingest(settings, hashing_embedder)
    assert again.skipped is True
    assert again.manifest == first.manifest
    assert again.report.documents == []  # nothing was even parsed
    assert snapshot(index_dir(settings)) == before


def test_rebuild_embeds_nothing_thanks_to_the_cache(settings, hashing_embedder, monkeypatch):
    first = ingest(settings, hashing_embedder)
    calls = []
    original = HashingEmbedder._embed

    def counting(self, texts):
        calls.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(HashingEmbedder, "embed_passages", counting)
    rebuilt = ingest(settings, hashing_embedder, rebuild=True)
    assert rebuilt.skipped is False
    assert rebuilt.manifest["embedded_now"] == 0
    assert rebuilt.manifest["n_chunks"] == first.manifest["n_chunks"]
    assert calls == []


def test_changed_file_embeds_only_its_new_chunks(settings, hashing_embedder, corpus_copy):
    first = ingest(settings, hashing_embedder)
    with (corpus_copy / f"{JINGYUAN}.txt").open("a", encoding="utf-8") as f:
        f.write("\n(五)加强宣传引导。营造全社会关心支持新优质学校建设的良好氛围。\n")
    second = ingest(settings, hashing_embedder)
    assert not second.skipped
    assert 0 < second.manifest["embedded_now"] < first.manifest["n_chunks"] / 4
    index = load_index(index_dir(settings), hashing_embedder.name, hashing_embedder.dim)
    assert any("加强宣传引导" in c.text for c in index.chunks if c.doc_id == JINGYUAN)


def test_sentence_vectors_are_built_and_kept_for_unchanged_chunks(settings, hashing_embedder, corpus_copy):
    first = ingest(settings, hashing_embedder).manifest
    folder = index_dir(settings)
    # (a sentence repeated word for word is embedded once)
    assert first["sentences"] > first["n_chunks"] and 0.9 * first["sentences"] < first["sentences_embedded_now"]
    before = load_index(folder, hashing_embedder.name, hashing_embedder.dim)
    old_rows = {c.chunk_id: row for row, c in enumerate(before.chunks)}
    old_vectors = np.array(before.sentences.vectors)
    old_owner = before.sentences.rows.copy()
    with (corpus_copy / f"{JINGYUAN}.txt").open("a", encoding="utf-8") as f:
        f.write("\n(五)加强宣传引导。营造全社会关心支持新优质学校建设的良好氛围。组织媒体报道典型经验。\n")
    second = ingest(settings, hashing_embedder).manifest
    assert 0 < second["sentences_embedded_now"] < first["sentences"] / 4  # only the changed chunks' sentences
    after = load_index(folder, hashing_embedder.name, hashing_embedder.dim)
    row, chunk = next((r, c) for r, c in enumerate(after.chunks) if c.doc_id == RENHUAI and c.text.count("。") > 1)
    kept = np.flatnonzero(after.sentences.rows == row)
    was = np.flatnonzero(old_owner == old_rows[chunk.chunk_id])
    assert len(kept) == len(was) > 1 and np.array_equal(after.sentences.vectors[kept], old_vectors[was])


def test_search_ranks_candidates_by_their_sentences(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    hits = QAService(settings, hashing_embedder).retriever.search("教研室牵头实施特色创新课程构建工程", 5)
    assert any("sentences" in h.signals for h in hits)
    plain = make_settings(data_dir=settings.data_dir.parent / "plain", corpus_dir=settings.corpus_dir,
                          embedder="hashing", chunk_sentence_vectors=False)
    manifest = ingest(plain, hashing_embedder).manifest
    assert manifest["sentences"] == 0 and not (index_dir(plain) / "sentences.npy").exists()
    hits = QAService(plain, hashing_embedder).retriever.search("教研室牵头实施特色创新课程构建工程", 5)
    assert hits and not any("sentences" in h.signals for h in hits)


def test_changed_chunk_settings_rebuild(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    smaller = settings.model_copy(update={"chunk_max_chars": 200})
    outcome = ingest(smaller, hashing_embedder)
    assert not outcome.skipped
    assert outcome.manifest["chunking"]["max_chars"] == 200
    assert all(len(c.text) <= 200 for c in outcome.report.chunks)


def test_sidecar_change_makes_the_index_stale(settings, hashing_embedder, corpus_copy):
    ingest(settings, hashing_embedder)
    side = corpus_copy / f"{RENHUAI}.meta.json"
    data = json.loads(side.read_text(encoding="utf-8"))
    data["issuer"] = "仁怀市教育局(更正)"
    side.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    outcome = ingest(settings, hashing_embedder)
    assert not outcome.skipped
    index = load_index(index_dir(settings), hashing_embedder.name, hashing_embedder.dim)
    assert index.documents[RENHUAI].issuer == "仁怀市教育局(更正)"


def test_failure_mid_build_leaves_previous_index(settings, hashing_embedder, corpus_copy, monkeypatch):
    ingest(settings, hashing_embedder)
    live = index_dir(settings)
    before = snapshot(live)
    (corpus_copy / f"{JINGYUAN}.txt").unlink()  # the next build would drop a document...

    def broken_save(self, path):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(LexicalStore, "save", broken_save)
    with pytest.raises(OSError, match="simulated"):
        ingest(settings, hashing_embedder, rebuild=True)
    monkeypatch.undo()
    # ...but it failed, so the previous index is untouched and loads
    assert snapshot(live) == before
    index = load_index(live, hashing_embedder.name, hashing_embedder.dim)
    assert sorted(index.documents) == DOC_IDS
    leftovers = [p.name for p in live.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers
    svc = QAService(settings, hashing_embedder)
    assert svc.search("品牌学校", top_k=3)


def test_crash_between_swap_renames_is_recovered(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    live = index_dir(settings)
    before = snapshot(live)
    os.replace(live, live.with_name(f".{live.name}.old"))  # as if killed between the two renames
    index = load_index(live, hashing_embedder.name, hashing_embedder.dim)
    assert sorted(index.documents) == DOC_IDS
    assert snapshot(live) == before


def test_build_folders_of_killed_ingests_are_removed_and_running_ones_kept(settings, hashing_embedder, corpus_copy):
    ingest(settings, hashing_embedder)
    live = index_dir(settings)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # another ingest, running
    try:
        def leftover(pid):
            folder = live.with_name(f".{live.name}.tmp-{pid}")
            folder.mkdir()
            (folder / "vectors.npy").write_bytes(b"half written")
            return folder
        dead, running, mine = leftover(999_999_999), leftover(other.pid), leftover(os.getpid())
        load_index(live, hashing_embedder.name, hashing_embedder.dim)  # the server's start runs recover()
        assert not dead.exists() and running.exists() and mine.exists()
        dead = leftover(999_999_998)
        (corpus_copy / "renhuai-brand-schools-2017.txt").write_text("仁怀市教育局通知\n\n一、目标\n\n建成品牌学校。\n",
                                                                  encoding="utf-8")
        assert not ingest(settings, hashing_embedder).skipped  # a build removes them too
        assert not dead.exists() and running.exists()
    finally:
        other.kill()
        other.wait()


def test_hashing_search_plumbing(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    svc = QAService(settings, hashing_embedder)
    for mode in ("hybrid", "dense", "bm25"):
        hits = svc.search("实施特色创新课程构建工程", top_k=4, mode=mode)
        assert 0 < len(hits) <= 4
        assert all(set(h.signals) <= {"dense", "bm25", "doc", "sentences"} for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert set(svc.search("实施特色创新课程构建工程", mode="bm25")[0].signals) == {"bm25"}
    assert set(svc.search("实施特色创新课程构建工程", mode="dense")[0].signals) == {"dense", "sentences"}
    with pytest.raises(ValueError, match="mode"):
        svc.search("x", mode="fuzzy")


# -- incremental updates: stable vector ids, the dense index changed in place, kept tokens ---------------

QUERIES = ["实施特色创新课程构建工程", "新优质学校建设", "Which office leads the curriculum project?", "教师培训"]


@pytest.fixture
def later(tmp_path, corpus_copy):
    """RENHUAI moved out of the corpus copy, so a test can add it to an index of the other four."""
    folder = tmp_path / "later"
    folder.mkdir()
    for f in corpus_copy.glob(f"{RENHUAI}*"):
        shutil.move(f, folder / f.name)
    return folder


@pytest.fixture
def count_tokenize(monkeypatch):
    """The texts build_index runs through jieba."""
    calls: list[str] = []
    original = index_module.tokenize

    def counting(text):
        calls.append(text)
        return original(text)

    monkeypatch.setattr(index_module, "tokenize", counting)
    return calls


def results(svc, filters=None):
    return {(q, mode): [(h.chunk.chunk_id, round(h.score, 6)) for h in svc.search(q, 5, mode, filters)]
            for q in QUERIES for mode in ("hybrid", "dense", "bm25")}


def rebuilt_twin(settings, paths, embedder, name="twin"):
    """The same files indexed from scratch in another data dir."""
    twin = settings.model_copy(update={"data_dir": settings.data_dir.parent / name})
    outcome = service.ingest(twin, paths, embedder, rebuild=True)
    assert outcome.manifest["update"]["mode"] == "full"
    return QAService(twin, embedder)


def rows_of(settings):
    rows = np.load(index_dir(settings) / "rows.npy")
    return dict(zip(rows["key"].tolist(), rows["id"].tolist(), strict=True))


def test_adding_a_document_updates_the_index_in_place(settings, hashing_embedder, corpus_copy, later,
                                                      count_tokenize):
    first = ingest(settings, hashing_embedder).manifest
    assert first["update"]["mode"] == "full" and first["next_id"] == first["n_chunks"]
    ids_before = rows_of(settings)
    count_tokenize.clear()
    manifest = service.ingest(settings, [corpus_copy, later], hashing_embedder).manifest
    update = manifest["update"]
    added = manifest["n_chunks"] - first["n_chunks"]
    assert update["mode"] == "incremental" and update["dense"] == "updated"
    assert (update["reused_rows"], update["added_rows"], update["removed_rows"]) == (first["n_chunks"], added, 0)
    assert manifest["embedded_now"] == added > 10
    # jieba ran on the new chunks, plus the few old ones holding a user word the new document brought
    assert len(count_tokenize) == update["tokenized_rows"]
    assert added <= update["tokenized_rows"] <= added + 5
    # kept chunks keep their vector ids; new ones get fresh ids
    ids_after = rows_of(settings)
    assert all(ids_after[key] == i for key, i in ids_before.items())
    assert sorted(set(ids_after.values()) - set(ids_before.values())) == list(range(first["n_chunks"],
                                                                                     manifest["next_id"]))
    index = load_index(index_dir(settings), hashing_embedder.name, hashing_embedder.dim)
    assert index.dense.index.ntotal == len(index.chunks) == manifest["n_chunks"]
    # the same search results as the same files indexed from scratch
    twin = rebuilt_twin(settings, [corpus_copy, later], hashing_embedder)
    assert results(QAService(settings, hashing_embedder)) == results(twin)


def test_kept_tokens_equal_a_fresh_tokenisation(settings, hashing_embedder, corpus_copy, later):
    ingest(settings, hashing_embedder)
    service.ingest(settings, [corpus_copy, later], hashing_embedder)
    service.delete_documents(settings, [JINGYUAN], hashing_embedder)
    table = TokenTable.load(index_dir(settings) / "bm25")
    _, chunks = read_contents(index_dir(settings))
    assert len(table) == len(chunks)
    fresh = [tokenize(c.index_text) for c in chunks]
    assert [table.row(r) for r in range(len(chunks))] == fresh
    assert sorted(table.vocab) == sorted({t for toks in fresh for t in toks})  # no token of a deleted document


def test_deleting_a_document_removes_its_vectors_in_place(settings, hashing_embedder, corpus_copy, count_tokenize,
                                                          monkeypatch):
    first = ingest(settings, hashing_embedder).manifest
    count_tokenize.clear()
    calls = []
    monkeypatch.setattr(HashingEmbedder, "embed_passages", lambda self, texts: calls.append(texts))
    manifest = service.delete_documents(settings, [JINGYUAN], hashing_embedder)
    index = load_index(index_dir(settings), hashing_embedder.name, hashing_embedder.dim)
    removed = first["n_chunks"] - manifest["n_chunks"]
    assert removed > 10 and manifest["update"]["removed_rows"] == removed
    assert manifest["update"]["dense"] == "updated" and manifest["dense_index"] == "flat"
    assert index.dense.index.ntotal == len(index.chunks) and manifest["dense_tombstones"] == 0
    assert count_tokenize == [] and calls == [] and manifest["embedded_now"] == 0
    monkeypatch.undo()
    svc = QAService(settings, hashing_embedder)
    assert all(h.chunk.doc_id != JINGYUAN for q in QUERIES for h in svc.search(q, 10))
    remaining = [p for p in corpus_copy.iterdir() if not p.name.startswith(JINGYUAN)]
    assert results(svc) == results(rebuilt_twin(settings, remaining, hashing_embedder))


def test_hnsw_deletes_are_tombstones_until_compaction(tmp_path, corpus_copy, hashing_embedder):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, embedder="hashing", ann_threshold=0)
    first = ingest(settings, hashing_embedder).manifest
    assert first["dense_index"] == "hnsw"
    sizes = {d: sum(1 for c in read_contents(index_dir(settings))[1] if c.doc_id == d) for d in DOC_IDS}
    small = min(sizes, key=sizes.get)
    assert sizes[small] < 0.2 * first["n_chunks"]
    manifest = service.delete_documents(settings, [small], hashing_embedder)
    assert manifest["update"]["dense"] == "updated" and manifest["dense_tombstones"] == sizes[small]
    svc = QAService(settings, hashing_embedder)
    assert svc.index.dense.index.ntotal == first["n_chunks"]  # still in the graph...
    for q in QUERIES:  # ...but never found, with or without filters
        assert all(h.chunk.doc_id != small for h in svc.search(q, 20, "dense"))
        assert len(svc.search(q, 5, "dense")) == 5
    only = SearchFilters(doc_ids=[RENHUAI])
    assert {h.chunk.doc_id for h in svc.search(QUERIES[0], 5, "dense", only)} == {RENHUAI}
    # deleting more: over COMPACT_FRACTION of the graph is dead, so it is rebuilt from the live vectors
    rest = sorted((d for d in DOC_IDS if d != small), key=sizes.get)
    manifest = service.delete_documents(settings, rest[:2], hashing_embedder)
    assert manifest["update"]["dense"] == "compacted" and manifest["dense_tombstones"] == 0
    svc = QAService(settings, hashing_embedder)
    assert svc.index.dense.index.ntotal == len(svc.index.chunks) == manifest["n_chunks"]
    assert {h.chunk.doc_id for q in QUERIES for h in svc.search(q, 10)} <= set(rest[2:])


def test_failure_mid_update_leaves_previous_index(settings, hashing_embedder, corpus_copy, monkeypatch):
    ingest(settings, hashing_embedder)
    live = index_dir(settings)
    before = snapshot(live)

    def broken_save(self, path):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(DenseStore, "save", broken_save)
    with pytest.raises(OSError, match="simulated"):
        service.delete_documents(settings, [JINGYUAN], hashing_embedder)  # the FAISS index was changed in memory
    monkeypatch.undo()
    assert snapshot(live) == before
    assert [p.name for p in live.parent.iterdir() if p.name.startswith(".")] == []
    assert JINGYUAN in load_index(live, hashing_embedder.name, hashing_embedder.dim).documents


def test_rebuild_starts_from_scratch(settings, hashing_embedder, count_tokenize):
    first = ingest(settings, hashing_embedder).manifest
    count_tokenize.clear()
    rebuilt = ingest(settings, hashing_embedder, rebuild=True).manifest
    assert rebuilt["update"] == {"mode": "full", "reused_rows": 0, "added_rows": first["n_chunks"], "removed_rows": 0,
                                 "tokenized_rows": first["n_chunks"], "dense": "built"}
    assert len(count_tokenize) == first["n_chunks"]


def test_changed_tokenizer_tokenises_again(settings, hashing_embedder, monkeypatch, count_tokenize):
    first = ingest(settings, hashing_embedder).manifest
    count_tokenize.clear()
    monkeypatch.setattr(index_module, "tokenizer_fingerprint", lambda: "another-tokenizer")
    manifest = service.delete_documents(settings, [JINGYUAN], hashing_embedder)
    assert manifest["update"]["tokenized_rows"] == manifest["n_chunks"] == len(count_tokenize)
    assert manifest["update"]["dense"] == "updated" and manifest["tokenizer"] == "another-tokenizer"
    assert first["tokenizer"] != "another-tokenizer"


def test_index_without_vector_ids_loads_and_is_rebuilt(settings, hashing_embedder, corpus_copy):
    """An index written before rows.npy: a bare FAISS index whose ids are its rows, no kept tokens."""
    ingest(settings, hashing_embedder)
    live = index_dir(settings)
    bare = faiss.IndexFlatIP(hashing_embedder.dim)
    bare.add(np.load(live / "vectors.npy"))
    faiss.write_index(bare, str(live / "dense.faiss"))
    for old in [live / "rows.npy", *(live / "bm25").glob("tokens.*")]:
        old.unlink()
    svc = QAService(settings, hashing_embedder)
    assert svc.search(QUERIES[0], 3, "dense")[0].chunk.doc_id == RENHUAI
    manifest = service.delete_documents(settings, [JINGYUAN], hashing_embedder)
    assert manifest["update"]["mode"] == "full" and manifest["update"]["dense"] == "built"
    assert (live / "rows.npy").exists()


def test_milvus_reuses_tokens_and_swaps_collections(tmp_path, corpus_copy, hashing_embedder, count_tokenize):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, embedder="hashing",
                             vector_store="milvus")
    ingest(settings, hashing_embedder)
    first = QAService(settings, hashing_embedder).index.dense.collection
    count_tokenize.clear()
    manifest = service.delete_documents(settings, [JINGYUAN], hashing_embedder)
    assert manifest["update"]["mode"] == "incremental" and count_tokenize == []
    svc = QAService(settings, hashing_embedder)
    assert svc.index.dense.collection != first
    assert all(h.chunk.doc_id != JINGYUAN for q in QUERIES for h in svc.search(q, 10, "dense"))


def test_hnsw_ef_search_setting(tmp_path, corpus_copy, hashing_embedder):
    assert Settings.model_fields["hnsw_ef_search"].default == HNSW_EF_SEARCH
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, embedder="hashing",
                             ann_threshold=0, hnsw_ef_search=48)
    assert ingest(settings, hashing_embedder).manifest["hnsw_ef_search"] == 48
    dense = QAService(settings, hashing_embedder).index.dense
    assert dense.ef_search == 48 and dense._base.hnsw.efSearch == 48
    again = load_index(index_dir(settings), hashing_embedder.name, hashing_embedder.dim, ef_search=300)
    assert again.dense._base.hnsw.efSearch == 300


# -- the stores on their own ----------------------------------------------------------------------------


def unit_vectors(n, dim=32, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_dense_store_rows_and_ids(kind, tmp_path):
    vectors = unit_vectors(300)
    ids = np.arange(300, dtype=np.int64) * 7 + 1000  # any stable ids
    store = DenseStore(vectors, kind=kind, ids=ids)
    assert store.search(vectors[5], 1) == [(5, pytest.approx(1.0, abs=1e-5))]
    # drop rows 0-49, add 20 new vectors as rows at the end
    extra = unit_vectors(20, seed=1)
    new_ids = np.concatenate([ids[50:], np.arange(20, dtype=np.int64) + 99_000])
    store.update(extra, new_ids[-20:], ids[:50], new_ids)
    assert len(store.tombstones) == (50 if kind == "hnsw" else 0)
    store.save(tmp_path / "d.faiss")
    loaded = DenseStore.load(tmp_path / "d.faiss", new_ids)
    current = np.concatenate([vectors[50:], extra])
    for s in (store, loaded):
        assert s.n_rows == 270
        for row in (0, 100, 255, 269):
            assert s.search(current[row], 1)[0][0] == row
            assert np.allclose(s.vector(row), current[row])
        found = {r for q in vectors[:50] for r, _ in s.search(q, 10)}
        assert found <= set(range(270))
        allowed = np.array([3, 260, 269])
        assert {r for r, _ in s.search(vectors[0], 10, allowed)} == {3, 260, 269}
        # A filter allowing most rows is searched by the few it leaves out (and the tombstones)
        most = np.setdiff1d(np.arange(270), [0, 100, 255])
        for row in (0, 100, 255):
            assert row not in {r for r, _ in s.search(current[row], 10, most)}
        assert s.search(current[7], 1, most)[0][0] == 7
        exact = np.argsort(-(current[most] @ current[7]))[:10]
        if kind == "flat":
            assert [r for r, _ in s.search(current[7], 10, most)] == most[exact].tolist()
        for r, score in s.search(vectors[0], 10, np.arange(270)):  # near a removed vector: no tombstone found
            assert score == pytest.approx(float(current[r] @ vectors[0]), abs=1e-5)
    with pytest.raises(DenseStoreError, match="--rebuild"):
        DenseStore.load(tmp_path / "d.faiss", np.array([1, 2, 123456789]))


def test_bm25_matches_bm25s_on_the_corpus(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    _, chunks = read_contents(index_dir(settings))
    rows = [tokenize(c.index_text) for c in chunks] + [[]]  # and an empty row
    reference = bm25s.BM25()
    reference.index([r or [""] for r in rows], show_progress=False)
    ours = bm25_index(TokenTable.from_token_lists(rows))
    for q in QUERIES:
        toks = [t for t in tokenize(q) if t in reference.vocab_dict]
        assert toks
        assert np.array_equal(ours.get_scores(toks), reference.get_scores(toks))


def test_bm25_search_ranks_as_the_whole_score_array_does(settings, hashing_embedder):
    """LexicalStore.search scores only the rows a query word occurs in; its list must be the one the whole
    score array gives (bm25s.get_scores, the allowed rows kept, best first), with or without collections."""
    ingest(settings, hashing_embedder)
    _, chunks = read_contents(index_dir(settings))
    store = LexicalStore([tokenize(c.index_text) for c in chunks])
    n = len(chunks)
    allowed = np.arange(0, n, 3)
    groups = np.array([i % 2 for i in range(n)])  # two collections, rows interleaved
    for q in QUERIES:
        toks = [t for t in tokenize(q) if t in store.bm25.vocab_dict]
        for rows_allowed in (None, allowed):
            for row_groups in (None, groups):
                full = (store.bm25.get_scores(toks) if row_groups is None
                        else store.grouped_scores(toks, row_groups))
                keep = np.ones(n, bool) if rows_allowed is None else np.isin(np.arange(n), rows_allowed)
                expected = sorted(((float(full[r]), r) for r in np.flatnonzero(keep & (full > 0))),
                                  key=lambda pair: (-pair[0], pair[1]))[:20]
                found = store.search(toks, 20, rows_allowed, row_groups)
                assert [(score, row) for row, score in found] == expected
                assert len(found) == min(20, int((keep & (full > 0)).sum())) > 0
    assert store.search(["不在索引里的词"], 5) == []
    assert store.search(tokenize(QUERIES[0]), 5, np.array([], np.int64)) == []


def test_plan_rows_matches_by_content_and_hands_out_fresh_ids():
    plan = index_module.plan_rows([b"a", b"x", b"b", b"a", b"a"], [b"a", b"b", b"c", b"a"],
                                  np.array([10, 11, 12, 13]), next_id=20)
    assert sorted(plan.sources[[0, 3]].tolist()) == [0, 3] and plan.sources[2] == 1  # duplicates used once each
    assert plan.sources[[1, 4]].tolist() == [-1, -1]
    assert sorted(plan.ids.tolist()) == [10, 11, 13, 20, 21]
    assert plan.removed_ids.tolist() == [12] and plan.next_id == 22


def test_rows_containing_finds_every_row_with_a_word():
    texts = ["教研室牵头", "基教股协助", "无关内容", "ABC教研室"]
    assert index_module.rows_containing(texts, {"教研室"}) == {0, 3}
    assert index_module.rows_containing(texts, {"abc", "协助"}) == {1, 3}
    assert index_module.rows_containing(texts, set()) == set()


def test_a_build_stopped_half_way_keeps_what_it_embedded(tmp_path):
    """A laws import cancelled in the admin console (or failing) stops inside the embedding loop: the
    batches done are in the cache, and the next run embeds only the rest."""
    from retrieval.cache import EmbeddingCache
    from retrieval.index import cached_vectors

    embedder, texts = HashingEmbedder(), [f"第{i}条 学校应当保障学生安全。" for i in range(10)]

    def stop_after_two(batches):
        for n, batch in enumerate(batches):
            if n == 2:
                raise KeyboardInterrupt("cancelled")
            yield batch

    with pytest.raises(KeyboardInterrupt):
        cached_vectors(texts, embedder, tmp_path, stop_after_two, batch_size=3)
    assert len(EmbeddingCache(tmp_path, embedder.name, embedder.dim).missing(texts)) == 4
    vectors, embedded = cached_vectors(texts, embedder, tmp_path, batch_size=3)
    assert embedded == 4 and np.allclose(vectors, embedder.embed_passages(texts))
