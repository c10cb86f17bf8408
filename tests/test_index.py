"""The index folder with the hashing embedder: build, load, manifest checks, skip, cache, crash safety."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from helpers import DOC_IDS, JINGYUAN, RENHUAI, make_settings

from ingest.pipeline import doc_id_for, file_hash
from policyqa import service
from policyqa.service import QAService, index_dir
from retrieval.embedders import HashingEmbedder
from retrieval.index import IndexError_, corpus_hash, load_index, read_manifest
from retrieval.stores import LexicalStore


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
    assert manifest["chunking"] == {"max_chars": 400, "min_chars": 20}
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


def test_changed_chunk_settings_rebuild(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    smaller = settings.model_copy(update={"chunk_max_chars": 200})
    outcome = ingest(smaller, hashing_embedder)
    assert not outcome.skipped
    assert outcome.manifest["chunking"] == {"max_chars": 200, "min_chars": 20}
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


def test_hashing_search_plumbing(settings, hashing_embedder):
    ingest(settings, hashing_embedder)
    svc = QAService(settings, hashing_embedder)
    for mode in ("hybrid", "dense", "bm25"):
        hits = svc.search("实施特色创新课程构建工程", top_k=4, mode=mode)
        assert 0 < len(hits) <= 4
        assert all(set(h.signals) <= {"dense", "bm25", "dense_zh"} for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert set(svc.search("实施特色创新课程构建工程", mode="bm25")[0].signals) == {"bm25"}
    assert set(svc.search("实施特色创新课程构建工程", mode="dense")[0].signals) <= {"dense", "dense_zh"}
    with pytest.raises(ValueError, match="mode"):
        svc.search("x", mode="fuzzy")
