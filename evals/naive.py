"""The naive baseline: LangChain's RecursiveCharacterTextSplitter with its default separators over each
cleaned document, the same embedder, exact inner-product search (faiss.IndexFlatIP). No clause
structure, no titles in the embedded text, no BM25, no fusion.

Used by `policyqa eval SET --compare naive` (as a retrieval-only system: see evals/README.md) and by the
quality benchmark (benches/quality.py, through benches/naive.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.pipeline import IngestError, discover, load_document
from ingest.readers import SUPPORTED_SUFFIXES
from retrieval.cache import EmbeddingCache

CHUNK_SIZE, CHUNK_OVERLAP = 400, 50  # comparable to the pipeline's chunk_max_chars=400 (naive:500 for 500/50)
BATCH = 32


def naive_pieces(folders: list[Path], chunk_size: int = CHUNK_SIZE) -> tuple[list[str], list[str]]:
    """(doc_ids, texts): every readable document's cleaned text split with the default splitter. A file
    the pipeline cannot read is skipped here too."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=CHUNK_OVERLAP)
    doc_ids, texts = [], []
    for path in discover(folders):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            doc = load_document(path)
        except IngestError:
            continue
        for piece in splitter.split_text(doc.text):
            doc_ids.append(doc.doc_id)
            texts.append(piece)
    return doc_ids, texts


class NaivePipeline:
    def __init__(self, doc_ids: list[str], texts: list[str], vectors: np.ndarray, embedder) -> None:
        self.doc_ids, self.texts, self.embedder = doc_ids, texts, embedder
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def from_corpus(cls, folders: list[Path], embedder, cache_dir: Path, progress=None,
                    chunk_size: int = CHUNK_SIZE) -> NaivePipeline:
        """Split the cleaned text of every document and embed the pieces (through the embedding cache).
        `progress` wraps the embedding batches (default: a tqdm bar on stderr)."""
        doc_ids, texts = naive_pieces(folders, chunk_size)
        cache = EmbeddingCache(cache_dir, embedder.name, embedder.dim)
        todo = cache.missing(texts)
        batches = [todo[i:i + BATCH] for i in range(0, len(todo), BATCH)]
        if progress is None:
            from tqdm import tqdm

            def progress(items):
                return tqdm(items, desc="embedding naive chunks", unit="batch", file=sys.stderr, leave=False)
        for batch in progress(batches) if batches else batches:
            cache.put(batch, embedder.embed_passages(batch))
        if todo:
            cache.save()
        return cls(doc_ids, texts, cache.get(texts).reshape(len(texts), embedder.dim), embedder)

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, str]]:
        """(doc_id, chunk text) best first."""
        query_vec = self.embedder.embed_queries([query])
        _, rows = self.index.search(np.ascontiguousarray(query_vec, dtype=np.float32), top_k)
        return [(self.doc_ids[r], self.texts[r]) for r in rows[0] if r >= 0]


@dataclass
class NaiveSystem:
    """The naive pipeline as an eval system. It only retrieves: it has no answer step of its own, so the
    runner scores its retrieval and reports answer, citation, refusal and latency figures as n/a."""

    pipeline: NaivePipeline
    name: str = "naive"
    answers: bool = False

    @classmethod
    def over(cls, folders: list[Path], embedder, cache_dir: Path, chunk_size: int = CHUNK_SIZE) -> NaiveSystem:
        name = "naive" if chunk_size == CHUNK_SIZE else f"naive:{chunk_size}"
        return cls(NaivePipeline.from_corpus(folders, embedder, cache_dir, chunk_size=chunk_size), name)

    def ask(self, question: str) -> dict:
        raise NotImplementedError("the naive baseline only retrieves; its answer figures are n/a")

    def search(self, question: str, k: int) -> list[tuple[str, str]]:
        return self.pipeline.search(question, k)
