"""The index directory: manifest.json, documents.jsonl, chunks.jsonl, vectors.npy, rows.npy, dense.faiss,
bm25/ (with the token table), userdict.txt, and sentences.npy with sentence_rows.npy (retrieval/sentences.py).

An index is built in a temporary folder next to the live one and swapped in with renames, so a crash or
an error mid-build leaves the previous index intact. Loading checks the manifest against the configured
embedder and fails with a message that says what to run.

Builds are incremental: every row (chunk) has a stable vector id and a content key (the hash of its
indexed text) in rows.npy. A build matches the new chunks to the live index's rows by key; matched rows
keep their id, vector and tokens, so adding or removing a document only embeds and tokenises the new
chunks, and the FAISS index is loaded and changed in place (new ids added; removed ids deleted from a
flat index, tombstoned in an HNSW graph until COMPACT_FRACTION of it is dead, then rebuilt) before it is
written to the temporary folder. BM25 has no incremental update: it is recomputed from the kept tokens
(array operations, about a second at 100k chunks). `incremental=False` (`policyqa ingest --rebuild`)
builds every part from scratch, embeddings still coming from the cache.

With the Milvus store (StoreConfig.backend "milvus") the folder has no dense.faiss and no bm25/: each build
writes a new Milvus collection holding every row's vector, document id and text, with BM25 computed by
Milvus (retrieval/milvus_store.py), and dense.milvus.json names it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import numpy as np

import retrieval.tokenize as tokenize_module
from policyqa.models import Chunk, Document
from retrieval.cache import EmbeddingCache, remove_dead_leftovers, text_key
from retrieval.embedders import Embedder, model_parts
from retrieval.milvus_store import MilvusLexicalStore, MilvusStore, MilvusStoreError
from retrieval.sentences import SentenceVectors, sentence_texts
from retrieval.stores import HNSW_EF_SEARCH, DenseStore, DenseStoreError, LexicalStore, TokenTable, dense_kind
from retrieval.tokenize import STOPWORDS, add_user_words, tokenize

FORMAT_VERSION = 1
# Bump when ingest output changes for the same input, so stale indexes are rebuilt.
PIPELINE_VERSION = "ingest-13"  # 8: articles numbered in the thousands (第一千二百六十条); 9: one chunk per article;
# 10: a list's last short items stay with it (ingest/chunking.ending_the_list_before); 11: an article's paragraph
# after its list is the article's, not its last item's (ingest/structure.ending_lists_at_their_last_item); 12: a
# code's parts and sections (编, 分编, 节) are clauses, not text closing the article above them; 13: and its
# closing provisions' unnumbered 附则 line


class IndexError_(RuntimeError):
    """The index is missing or does not match the configuration; the message says what to do."""


@dataclass(frozen=True)
class StoreConfig:
    """Where the search structures live: FAISS and bm25s in the index folder (default), or both dense vectors
    and BM25 in a Milvus collection (then API processes hold no search state and share one Milvus)."""

    backend: str = "faiss"  # faiss | milvus
    ann_threshold: int = 50_000  # FAISS: HNSW above this many chunks
    milvus_uri: str = ""  # a Milvus Lite file (*.db) or http://host:19530
    milvus_token: str = ""
    milvus_collection: str = "policyqa"  # prefix; each build gets its own collection
    ef_search: int = HNSW_EF_SEARCH  # FAISS HNSW search breadth (recall vs latency)


@dataclass
class Index:
    path: Path
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: DenseStore | MilvusStore
    lexical: LexicalStore | MilvusLexicalStore
    version: tuple = ()  # manifest_version() when loaded: a process sees another's new index by it
    sentences: SentenceVectors | None = None  # each chunk's sentences' vectors, when built with them


def manifest_version(index_dir: Path) -> tuple:
    """Which index is live in the folder, cheaply (a stat): each build swaps in a new manifest.json, so
    its inode and time change. () when there is none."""
    try:
        st = (index_dir / "manifest.json").stat()
    except OSError:
        return ()
    return st.st_ino, st.st_mtime_ns, st.st_size


def corpus_hash(doc_hashes: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(doc_hashes.items())).encode()).hexdigest()


def expected_manifest_fields(embedder_name: str, dim: int, chunking: dict) -> dict:
    return {"format_version": FORMAT_VERSION, "pipeline_version": PIPELINE_VERSION,
            "embedder": {"name": embedder_name, "dim": dim}, "chunking": chunking}


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def user_dictionary(documents: list[Document]) -> list[str]:
    """Office names, task names and 文号 from the corpus, so jieba keeps them whole."""
    words = set()
    for doc in documents:
        if doc.doc_number:
            words.add(doc.doc_number)
        for r in doc.records:
            words.update([r.task, *r.lead, *r.assisting])
    return sorted(w for w in words if len(w) >= 2)


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


ROW_DTYPE = np.dtype([("id", "<i8"), ("key", "S32")])  # rows.npy: per chunk row, its vector id and content key


@lru_cache(maxsize=1)
def tokenizer_fingerprint() -> str:
    """Changes when tokenisation may change (retrieval/tokenize.py, its glossary, jieba): kept tokens are
    reused only by a build with the same fingerprint."""
    module = Path(tokenize_module.__file__)
    h = hashlib.sha256(module.read_bytes())
    h.update(module.with_name("glossary.json").read_bytes())
    h.update(jieba.__version__.encode())
    return h.hexdigest()[:16]


@dataclass
class LiveRows:
    """What a build can take over from the live index: per row its id, content key and tokens."""

    path: Path
    manifest: dict
    ids: np.ndarray
    keys: list[bytes]
    tokens: TokenTable | None  # None when the tokenizer changed since (or the table is missing)
    words: set[str]


def live_rows(index_dir: Path, embedder_name: str, dim: int) -> LiveRows | None:
    """The live index's rows if a build with this embedder can reuse them; None otherwise (no index,
    another embedder or format, or an index written before rows.npy existed)."""
    manifest = read_manifest(index_dir)
    if (manifest is None or manifest.get("format_version") != FORMAT_VERSION
            or manifest.get("embedder") != {"name": embedder_name, "dim": dim}):
        return None
    try:
        rows = np.load(index_dir / "rows.npy")
        words = {w for w in (index_dir / "userdict.txt").read_text(encoding="utf-8").splitlines() if w}
    except (OSError, ValueError):
        return None
    if rows.dtype != ROW_DTYPE or len(rows) != manifest.get("n_chunks"):
        return None
    tokens = TokenTable.load(index_dir / "bm25") if manifest.get("tokenizer") == tokenizer_fingerprint() else None
    if tokens is not None and len(tokens) != len(rows):
        tokens = None
    return LiveRows(index_dir, manifest, rows["id"].astype(np.int64), rows["key"].tolist(), tokens, words)


@dataclass
class RowPlan:
    sources: np.ndarray  # per new row: the live row it reuses, or -1 for a new chunk
    ids: np.ndarray  # per new row: its vector id
    removed_ids: np.ndarray  # live ids no new row reuses
    next_id: int


def plan_rows(new_keys: list[bytes], live_keys: list[bytes], live_ids: np.ndarray, next_id: int) -> RowPlan:
    """Match new rows to live rows with the same content key (each live row used once); unmatched new
    rows get fresh ids from next_id on."""
    pool: dict[bytes, list[int]] = {}
    for row, key in enumerate(live_keys):
        pool.setdefault(key, []).append(row)
    sources = np.full(len(new_keys), -1, np.int64)
    for row, key in enumerate(new_keys):
        candidates = pool.get(key)
        if candidates:
            sources[row] = candidates.pop()
    reused = sources >= 0
    ids = np.empty(len(new_keys), np.int64)
    ids[reused] = live_ids[sources[reused]]
    n_new = int((~reused).sum())
    ids[~reused] = np.arange(next_id, next_id + n_new, dtype=np.int64)
    kept = np.zeros(len(live_keys), bool)
    kept[sources[reused]] = True
    return RowPlan(sources, ids, live_ids[~kept], next_id + n_new)


def rows_containing(texts: list[str], words: set[str]) -> set[int]:
    """Rows whose (lower-cased) text contains one of the words: the ones a change of jieba's user
    dictionary can tokenise differently."""
    words = {w.lower() for w in words if w}
    if not words or not texts:
        return set()
    lowered = [t.lower() for t in texts]  # (lower() may change a text's length: offsets come from these)
    starts, pos = [], 0
    for t in lowered:
        starts.append(pos)
        pos += len(t) + 1
    joined = "\n".join(lowered)
    found: set[int] = set()
    for word in words:
        at = joined.find(word)
        while at >= 0:
            found.add(bisect_right(starts, at) - 1)
            at = joined.find(word, at + 1)
    return found


def build_index(index_dir: Path, documents: list[Document], chunks: list[Chunk], embedder: Embedder,
                chunking: dict, cache_dir: Path, progress=None, batch_size: int = 32,
                store: StoreConfig = StoreConfig(), incremental: bool = True,
                sentence_vectors: bool = False) -> dict:
    """Write the index of these documents and chunks to a temp folder, then swap it in. With
    `incremental`, rows of the live index with the same indexed text are reused (vector, vector id,
    tokens) and the FAISS index is updated in place; new chunks are embedded (cache first) and tokenised.
    With `sentence_vectors`, each chunk's sentences are embedded too (retrieval/sentences.py; from the
    cache: unchanged chunks' sentences are not embedded again)."""
    started = time.perf_counter()
    recover(index_dir)
    texts = [c.index_text for c in chunks]
    keys = [text_key(t).encode() for t in texts]
    live = live_rows(index_dir, embedder.name, embedder.dim) if incremental else None
    if live is not None:
        plan = plan_rows(keys, live.keys, live.ids, int(live.manifest.get("next_id", len(live.ids))))
    else:
        plan = plan_rows(keys, [], np.zeros(0, np.int64), 0)
    reused = plan.sources >= 0
    new_rows = np.flatnonzero(~reused)

    vectors, embedded = _row_vectors(texts, new_rows, plan, live, embedder, cache_dir, progress, batch_size)
    sentences, embedded_sentences = None, 0
    if sentence_vectors:
        titles = {d.doc_id: d.title for d in documents}
        sentences, embedded_sentences = _sentence_vectors([c.text for c in chunks], [titles[c.doc_id] for c in chunks],
                                                          vectors, plan, live, embedder, cache_dir, progress,
                                                          batch_size)

    words = user_dictionary(documents)
    add_user_words(words)
    retokenize: set[int] = set()
    if live is not None and live.tokens is not None:
        # A changed user dictionary can change how the texts holding its new or dropped words are cut.
        changed = set(words) ^ live.words
        reused_rows = np.flatnonzero(reused)
        retokenize = {int(reused_rows[i]) for i in rows_containing([texts[r] for r in reused_rows], changed)}
        token_sources = np.where(reused, plan.sources, -1)
        token_sources[list(retokenize)] = -1
    else:
        token_sources = np.full(len(texts), -1, np.int64)
    doc_hashes = {d.doc_id: d.source_hash for d in documents}
    if store.backend == "milvus":
        # BM25 lives in the Milvus collection too, from the texts (Milvus's jieba analyzer tokenises them).
        fresh, lexical = [], None
        dense, dense_update = _dense_store(vectors, new_rows, plan, live, store, doc_hashes,
                                           texts, [c.doc_id for c in chunks], words)
    else:
        fresh = [tokenize(texts[r]) for r in np.flatnonzero(token_sources < 0)]
        lexical = LexicalStore(TokenTable.assemble(token_sources, live.tokens if live else None, fresh))
        dense, dense_update = _dense_store(vectors, new_rows, plan, live, store, doc_hashes)

    manifest = expected_manifest_fields(embedder.name, embedder.dim, chunking) | {
        "corpus_hash": corpus_hash(doc_hashes), "documents": doc_hashes, "n_chunks": len(chunks),
        "dense_index": dense.kind, "vector_store": store.backend, "hnsw_ef_search": store.ef_search,
        "lexical_store": "milvus" if lexical is None else "bm25s",
        "dense_tombstones": len(getattr(dense, "tombstones", ())), "next_id": plan.next_id,
        "sentences": 0 if sentences is None else len(sentences.rows), "sentences_embedded_now": embedded_sentences,
        "tokenizer": tokenizer_fingerprint(), "embedded_now": embedded,
        "update": {"mode": "incremental" if live is not None else "full", "reused_rows": int(reused.sum()),
                   "added_rows": len(new_rows), "removed_rows": len(plan.removed_ids),
                   "tokenized_rows": len(fresh), "dense": dense_update},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    previous = live_milvus(index_dir)
    tmp = index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_jsonl(tmp / "documents.jsonl", (d.to_dict() for d in documents))
        _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in chunks))
        np.save(tmp / "vectors.npy", vectors)
        rows = np.empty(len(chunks), ROW_DTYPE)
        rows["id"], rows["key"] = plan.ids, keys
        np.save(tmp / "rows.npy", rows)
        if sentences is not None:
            sentences.save(tmp)
        dense.save(tmp / ("dense.milvus.json" if dense.kind == "milvus" else "dense.faiss"))
        if lexical is not None:
            lexical.save(tmp / "bm25")
        (tmp / "userdict.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
        manifest["build_seconds"] = round(time.perf_counter() - started, 3)
        # The manifest goes last: a folder without one is never loaded.
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        swap_in(tmp, index_dir)
    except BaseException:
        if dense.kind == "milvus":
            dense.drop()  # the new collection never went live
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if dense.kind == "milvus":
        # The previous collection stays until the next build: other processes on this Milvus search it until
        # they see the new manifest (server/replicas.py); older ones go.
        same_place = previous is not None and previous[0] == dense.uri
        dense.drop_older(store.milvus_collection, {dense.collection, previous[1] if same_place else ""})
        if previous is not None and not same_place:
            MilvusStore(previous[0], previous[1], store.milvus_token).drop()
    elif previous is not None:
        MilvusStore(previous[0], previous[1], store.milvus_token).drop()
    return manifest


def embed_ahead(documents: list[Document], chunks: list[Chunk], embedder: Embedder, cache_dir: Path,
                progress=None, batch_size: int = 32, sentence_vectors: bool = False) -> tuple[int, int]:
    """Put into the embedding cache every vector build_index would embed for these chunks (their index
    texts and, with `sentence_vectors`, their sentences), without touching the index; how many chunk texts
    and sentences were embedded. A long import does this before it takes the index lock, so the build under
    the lock only reads the cache and other changes of the index are not held up for the length of it."""
    embedded = cached_vectors([c.index_text for c in chunks], embedder, cache_dir, progress, batch_size)[1]
    if not sentence_vectors:
        return embedded, 0
    titles = {d.doc_id: d.title for d in documents}
    texts = sentence_texts([c.text for c in chunks], [titles[c.doc_id] for c in chunks])[0]
    return embedded, cached_vectors(texts, embedder, cache_dir, progress, batch_size)[1]


def _row_vectors(texts: list[str], new_rows: np.ndarray, plan: RowPlan, live: LiveRows | None, embedder: Embedder,
                 cache_dir: Path, progress, batch_size: int) -> tuple[np.ndarray, int]:
    """Every row's vector: reused rows from the live index's vectors.npy, new rows from the embedding
    cache (embedding what it lacks). Returns the vectors and how many texts were embedded now."""
    vectors = np.zeros((len(texts), embedder.dim), np.float32)
    reused = np.flatnonzero(plan.sources >= 0)
    if len(reused):
        vectors[reused] = np.load(live.path / "vectors.npy", mmap_mode="r")[plan.sources[reused]]
    if not len(new_rows):
        return vectors, 0  # nothing new (a deletion): the cache is not even read
    vectors[new_rows], embedded = cached_vectors([texts[r] for r in new_rows], embedder, cache_dir, progress,
                                                 batch_size)
    return vectors, embedded


def _sentence_vectors(chunk_texts: list[str], titles: list[str], vectors: np.ndarray, plan: RowPlan,
                      live: LiveRows | None, embedder: Embedder, cache_dir: Path, progress,
                      batch_size: int) -> tuple[SentenceVectors, int]:
    """Every chunk's sentence vectors: a reused row's from the live index's sentences.npy (its text is the
    same, title included), the rest from the embedding cache (embedding what it lacks)."""
    texts, rows = sentence_texts(chunk_texts, titles)
    matrix = np.zeros((len(texts), embedder.dim), np.float32)
    todo = np.ones(len(texts), bool)
    old = SentenceVectors.load(live.path) if live is not None else None
    if old is not None:
        for row in np.flatnonzero(plan.sources >= 0):
            new_at = slice(*np.searchsorted(rows, [row, row + 1]))
            old_at = slice(*np.searchsorted(old.rows, [plan.sources[row], plan.sources[row] + 1]))
            if new_at.stop - new_at.start == old_at.stop - old_at.start > 0:
                matrix[new_at] = old.vectors[old_at]
                todo[new_at] = False
    missing = np.flatnonzero(todo)
    matrix[missing], embedded = cached_vectors([texts[i] for i in missing], embedder, cache_dir, progress,
                                               batch_size)
    return SentenceVectors(matrix, rows, vectors), embedded


def cached_vectors(texts: list[str], embedder: Embedder, cache_dir: Path, progress=None,
                   batch_size: int = 32) -> tuple[np.ndarray, int]:
    """The texts' passage vectors from the embedding cache, embedding (and caching) what it lacks; and how
    many texts were embedded now."""
    vectors = np.zeros((len(texts), embedder.dim), np.float32)
    embedded = 0
    if not texts:
        return vectors, 0
    for name, model, columns in model_parts(embedder):  # each model of a paired embedder has its own cache
        cache = EmbeddingCache(cache_dir, name, model.dim)
        todo = cache.missing(texts)
        batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
        try:
            for batch in progress(batches) if progress else batches:
                cache.put(batch, model.embed_passages(batch))
        finally:  # a build cancelled or failed half-way keeps what it embedded: the next one goes on from there
            if todo:
                cache.save()
        vectors[:, columns] = cache.get(texts)
        embedded = max(embedded, len(todo))
    return vectors, embedded


def _dense_store(vectors: np.ndarray, new_rows: np.ndarray, plan: RowPlan, live: LiveRows | None,
                 store: StoreConfig, doc_hashes: dict[str, str], texts: list[str] | None = None,
                 doc_ids: list[str] | None = None, words=()) -> tuple[DenseStore | MilvusStore, str]:
    """The dense store for the new rows, and how it was made: "updated" in place from the live FAISS
    index, "compacted" (HNSW rebuilt: too many tombstones) or "built" (always, on Milvus: a new collection,
    with BM25 over `texts` when given)."""
    if store.backend == "milvus":
        name = f"{store.milvus_collection}_{corpus_hash(doc_hashes)[:10]}_{time.time_ns()}"
        return MilvusStore.build(vectors, store.milvus_uri, name, store.milvus_token, texts=texts,
                                 doc_ids=doc_ids, words=words, stop_words=STOPWORDS), "built"
    if store.backend != "faiss":
        raise ValueError(f"unknown vector store '{store.backend}': use faiss or milvus")
    kind = dense_kind(len(vectors), store.ann_threshold)
    how = "built"
    if (live is not None and live.manifest.get("vector_store", "faiss") == "faiss"
            and live.manifest.get("dense_index") == kind and (live.path / "dense.faiss").exists()):
        try:
            dense = DenseStore.load(live.path / "dense.faiss", live.ids, store.ef_search)
            dense.update(vectors[new_rows], plan.ids[new_rows], plan.removed_ids, plan.ids)
        except DenseStoreError:
            dense = None
        if dense is not None and not dense.needs_compaction():
            return dense, "updated"
        how = "compacted" if dense is not None else how
    return DenseStore(vectors, kind=kind, ids=plan.ids, ef_search=store.ef_search), how


def live_milvus(index_dir: Path) -> tuple[str, str] | None:
    """(uri, collection) of the live index's Milvus collection, if it has one."""
    path = index_dir / "dense.milvus.json"
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    return info["uri"], info["collection"]


def swap_in(new: Path, live: Path) -> None:
    old = live.with_name(f".{live.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if live.exists():
        os.replace(live, old)
    os.replace(new, live)
    shutil.rmtree(old, ignore_errors=True)


def recover(index_dir: Path) -> None:
    """If a crash happened between the two renames of swap_in, put the previous index back; remove the
    temporary folders of builds whose process is gone (killed mid-build), never one of a running build."""
    old = index_dir.with_name(f".{index_dir.name}.old")
    if not index_dir.exists() and (old / "manifest.json").exists():
        os.replace(old, index_dir)
    if index_dir.parent.is_dir():
        remove_dead_leftovers(index_dir.parent, f".{index_dir.name}.tmp-*",
                              lambda p: shutil.rmtree(p, ignore_errors=True))


def read_contents(index_dir: Path) -> tuple[list[Document], list[Chunk]]:
    """The documents and chunks of an index, without loading its search structures."""
    documents = [Document.from_dict(d) for d in _read_jsonl(index_dir / "documents.jsonl")]
    chunks = [Chunk.from_dict(c) for c in _read_jsonl(index_dir / "chunks.jsonl")]
    return documents, chunks


def load_index(index_dir: Path, embedder_name: str, dim: int, milvus_token: str = "",
               ef_search: int | None = None) -> Index:
    """Load the index for search. `ef_search`: HNSW search breadth; by default the one the index was
    built with (the POLICYQA_HNSW_EF_SEARCH setting at ingest time)."""
    recover(index_dir)
    version = manifest_version(index_dir)  # before reading: a swap in between makes the next check reload
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexError_(f"no index at {index_dir}; run `policyqa ingest` first.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexError_(f"index at {index_dir} has format {manifest.get('format_version')}, this version "
                          f"reads {FORMAT_VERSION}; run `policyqa ingest --rebuild`.")
    built = manifest.get("embedder", {})
    if built.get("name") != embedder_name or built.get("dim") != dim:
        raise IndexError_(
            f"index at {index_dir} was built with embedder {built.get('name')} (dim {built.get('dim')}), "
            f"but the configured embedder is {embedder_name} (dim {dim}); run `policyqa ingest --rebuild` "
            "or set POLICYQA_EMBEDDER back."
        )
    words = (index_dir / "userdict.txt").read_text(encoding="utf-8").split()
    add_user_words(words)
    documents, chunks = read_contents(index_dir)
    milvus = index_dir / "dense.milvus.json"
    ef_search = ef_search or manifest.get("hnsw_ef_search") or HNSW_EF_SEARCH
    try:
        if milvus.exists():
            dense = MilvusStore.load(milvus, milvus_token)
        else:
            rows = index_dir / "rows.npy"
            row_ids = np.load(rows)["id"].astype(np.int64) if rows.exists() else None  # none: ids are rows
            dense = DenseStore.load(index_dir / "dense.faiss", row_ids, ef_search)
    except (MilvusStoreError, DenseStoreError) as exc:
        raise IndexError_(f"index at {index_dir}: {exc}") from exc
    if isinstance(dense, MilvusStore):
        dense.doc_of = np.array([c.doc_id for c in chunks], dtype=object)  # filters by document
    lexical = MilvusLexicalStore(dense) if getattr(dense, "bm25", False) else LexicalStore.load(index_dir / "bm25")
    return Index(index_dir, manifest, {d.doc_id: d for d in documents}, chunks, dense, lexical, version,
                 SentenceVectors.load(index_dir))
