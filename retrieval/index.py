"""The index directory: manifest.json, documents.jsonl, chunks.jsonl, vectors.npy, dense.faiss, bm25/.

An index is built in a temporary folder next to the live one and swapped in with renames, so a crash or
an error mid-build leaves the previous index intact. Loading checks the manifest against the configured
embedder and fails with a message that says what to run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policyqa.models import Chunk, Document
from retrieval.cache import EmbeddingCache
from retrieval.embedders import Embedder
from retrieval.milvus_store import MilvusStore, MilvusStoreError
from retrieval.stores import DenseStore, LexicalStore
from retrieval.tokenize import add_user_words, tokenize

FORMAT_VERSION = 1
# Bump when ingest output changes for the same input, so stale indexes are rebuilt.
PIPELINE_VERSION = "ingest-6"


class IndexError_(RuntimeError):
    """The index is missing or does not match the configuration; the message says what to do."""


@dataclass(frozen=True)
class StoreConfig:
    """Where dense vectors live: FAISS in the index folder (default) or a Milvus collection."""

    backend: str = "faiss"  # faiss | milvus
    ann_threshold: int = 50_000  # FAISS: HNSW above this many chunks
    milvus_uri: str = ""  # a Milvus Lite file (*.db) or http://host:19530
    milvus_token: str = ""
    milvus_collection: str = "policyqa"  # prefix; each build gets its own collection


@dataclass
class Index:
    path: Path
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: DenseStore | MilvusStore
    lexical: LexicalStore


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


def build_index(index_dir: Path, documents: list[Document], chunks: list[Chunk], embedder: Embedder,
                chunking: dict, cache_dir: Path, progress=None, batch_size: int = 32,
                store: StoreConfig = StoreConfig()) -> dict:
    """Embed (cache first), build both stores, write everything to a temp folder, then swap it in."""
    cache = EmbeddingCache(cache_dir, embedder.name, embedder.dim)
    texts = [c.index_text for c in chunks]
    todo = cache.missing(texts)
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    started = time.perf_counter()
    for batch in progress(batches) if progress else batches:
        cache.put(batch, embedder.embed_passages(batch))
    if todo:
        cache.save()
    vectors = cache.get(texts)

    words = user_dictionary(documents)
    add_user_words(words)
    lexical = LexicalStore([tokenize(t) for t in texts])
    doc_hashes = {d.doc_id: d.source_hash for d in documents}
    if not len(vectors):
        vectors = np.zeros((0, embedder.dim), np.float32)
    if store.backend == "milvus":
        name = f"{store.milvus_collection}_{corpus_hash(doc_hashes)[:10]}_{time.time_ns()}"
        dense = MilvusStore.build(vectors, store.milvus_uri, name, store.milvus_token)
    elif store.backend == "faiss":
        dense = DenseStore(vectors, ann_threshold=store.ann_threshold)
    else:
        raise ValueError(f"unknown vector store '{store.backend}': use faiss or milvus")

    manifest = expected_manifest_fields(embedder.name, embedder.dim, chunking) | {
        "corpus_hash": corpus_hash(doc_hashes), "documents": doc_hashes, "n_chunks": len(chunks),
        "dense_index": dense.kind, "vector_store": store.backend,
        "embedded_now": len(todo), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "build_seconds": round(time.perf_counter() - started, 3),
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
        dense.save(tmp / ("dense.milvus.json" if dense.kind == "milvus" else "dense.faiss"))
        lexical.save(tmp / "bm25")
        (tmp / "userdict.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
        # The manifest goes last: a folder without one is never loaded.
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        swap_in(tmp, index_dir)
    except BaseException:
        if dense.kind == "milvus":
            dense.drop()  # the new collection never went live
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if previous is not None and previous[1] != getattr(dense, "collection", None):
        MilvusStore(previous[0], previous[1], store.milvus_token).drop()
    return manifest


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
    """If a crash happened between the two renames of swap_in, put the previous index back."""
    old = index_dir.with_name(f".{index_dir.name}.old")
    if not index_dir.exists() and (old / "manifest.json").exists():
        os.replace(old, index_dir)


def read_contents(index_dir: Path) -> tuple[list[Document], list[Chunk]]:
    """The documents and chunks of an index, without loading its search structures."""
    documents = [Document.from_dict(d) for d in _read_jsonl(index_dir / "documents.jsonl")]
    chunks = [Chunk.from_dict(c) for c in _read_jsonl(index_dir / "chunks.jsonl")]
    return documents, chunks


def load_index(index_dir: Path, embedder_name: str, dim: int, milvus_token: str = "") -> Index:
    recover(index_dir)
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
    try:
        dense = MilvusStore.load(milvus, milvus_token) if milvus.exists() else DenseStore.load(index_dir / "dense.faiss")
    except MilvusStoreError as exc:
        raise IndexError_(str(exc)) from exc
    return Index(index_dir, manifest, {d.doc_id: d for d in documents}, chunks, dense,
                 LexicalStore.load(index_dir / "bm25"))
