"""The two search structures: a FAISS inner-product index over normalised vectors, and BM25 over tokens.

Both answer "top k (row, score)" for a query and both save to / load from a folder.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import faiss
import numpy as np

HNSW_M = 32  # graph degree: recall vs memory
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # search breadth: recall vs latency (measured in benches/)


class DenseStore:
    """Inner-product search over normalised vectors (cosine): exact (flat) for small corpora, HNSW above
    `ann_threshold` vectors, where exact search would grow linearly with the corpus."""

    def __init__(self, vectors: np.ndarray, kind: str = "auto", ann_threshold: int = 50_000) -> None:
        self.dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.size else 0
        if kind == "auto":
            kind = "hnsw" if len(vectors) > ann_threshold else "flat"
        if kind == "hnsw":
            self.index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            self.index.hnsw.efSearch = HNSW_EF_SEARCH
        elif kind == "flat":
            self.index = faiss.IndexFlatIP(self.dim or 1)
        else:
            raise ValueError(f"unknown dense index kind '{kind}': use auto, flat or hnsw")
        self.kind = kind
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top k rows by inner product; `allowed` restricts the search to those rows (filters)."""
        k = min(k, self.index.ntotal if allowed is None else len(allowed))
        if k <= 0:
            return []
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=HNSW_EF_SEARCH) if self.kind == "hnsw"
                      else faiss.SearchParameters(sel=selector))
        scores, rows = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k,
                                         params=params)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseStore:
        store = cls.__new__(cls)
        store.index = faiss.read_index(str(path))
        store.dim = store.index.d
        store.kind = "hnsw" if isinstance(store.index, faiss.IndexHNSWFlat) else "flat"
        if store.kind == "hnsw":
            store.index.hnsw.efSearch = HNSW_EF_SEARCH
        return store

    def vector(self, row: int) -> np.ndarray:
        return self.index.reconstruct(int(row))


class LexicalStore:
    """BM25 (bm25s) over pre-tokenised text: the caller hands in tokens from retrieval.tokenize."""

    def __init__(self, corpus_tokens: list[list[str]]) -> None:
        self.bm25 = bm25s.BM25()
        self.bm25.index([toks or [""] for toks in corpus_tokens], show_progress=False)

    def search(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        known = [t for t in query_tokens if t in self.bm25.vocab_dict]
        if not known:
            return []
        scores = self.bm25.get_scores(known)
        if allowed is not None:
            mask = np.zeros_like(scores)
            mask[allowed] = 1.0
            scores = scores * mask
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
