"""The two search structures: a FAISS inner-product index over normalised vectors, and BM25 over tokens.

Both answer "top k (row, score)" for a query and both save to / load from a folder.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import faiss
import numpy as np


class DenseStore:
    """Exact inner-product search (cosine on normalised vectors)."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.size else 0
        self.index = faiss.IndexFlatIP(self.dim or 1)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        k = min(k, self.index.ntotal)
        if k <= 0:
            return []
        scores, rows = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseStore:
        store = cls.__new__(cls)
        store.index = faiss.read_index(str(path))
        store.dim = store.index.d
        return store


class LexicalStore:
    """BM25 (bm25s) over pre-tokenised text: the caller hands in tokens from retrieval.tokenize."""

    def __init__(self, corpus_tokens: list[list[str]]) -> None:
        self.bm25 = bm25s.BM25()
        self.bm25.index([toks or [""] for toks in corpus_tokens], show_progress=False)

    def search(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        known = [t for t in query_tokens if t in self.bm25.vocab_dict]
        if not known:
            return []
        scores = self.bm25.get_scores(known)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(r), float(scores[r])) for r in top if scores[r] > 0]

    def save(self, path: Path) -> None:
        self.bm25.save(str(path))

    @classmethod
    def load(cls, path: Path) -> LexicalStore:
        store = cls.__new__(cls)
        store.bm25 = bm25s.BM25.load(str(path))
        return store
