"""Hybrid search: dense (FAISS) and lexical (BM25) rankings fused with RRF."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from policyqa.models import Chunk
from retrieval.embedders import Embedder
from retrieval.filters import SearchFilters, allowed_rows
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.index import Index
from retrieval.tokenize import query_tokens

MODES = ("hybrid", "dense", "bm25")


@dataclass
class SearchHit:
    chunk: Chunk
    score: float  # fused score (RRF), comparable within one query only
    dense_score: float = 0.0  # cosine similarity of the query and the chunk
    signals: dict[str, int] = field(default_factory=dict)  # which rankings found it, at which rank


def merge_adjacent(hits: list[SearchHit], texts: dict[str, str]) -> list[SearchHit]:
    """Pieces of one clause that are both found and touch each other become one hit (the better one's
    rank, the union of their text), so a clause is not listed twice."""
    out: list[SearchHit] = []
    for hit in hits:
        c = hit.chunk
        twin = next((h for h in out if h.chunk.clause_id == c.clause_id
                     and (h.chunk.end + 1 >= c.start and c.end + 1 >= h.chunk.start)), None)
        if twin is None:
            out.append(hit)
            continue
        start, end = min(twin.chunk.start, c.start), max(twin.chunk.end, c.end)
        twin.chunk = replace(twin.chunk, start=start, end=end, text=texts[c.doc_id][start:end],
                             records=twin.chunk.records or c.records)
        twin.dense_score = max(twin.dense_score, hit.dense_score)
        for name, rank in hit.signals.items():
            twin.signals[name] = min(rank, twin.signals.get(name, rank))
    return out


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, candidates: int = 50, dense_weight: float = 0.25,
                 rrf_k: int = 30) -> None:
        self.index, self.embedder, self.candidates, self.rrf_k = index, embedder, candidates, rrf_k
        # RRF weight of the dense rankings relative to BM25 (1.0); set from the eval sets (see README).
        self.weights = {"dense": dense_weight}
        self._chunk_doc_ids = [c.doc_id for c in index.chunks]
        self._texts = {doc_id: doc.text for doc_id, doc in index.documents.items()}

    def search(self, query: str, top_k: int = 5, mode: str = "hybrid",
               filters: SearchFilters | None = None) -> list[SearchHit]:
        if mode not in MODES:
            raise ValueError(f"unknown search mode '{mode}'; use one of {', '.join(MODES)}")
        allowed = None
        if filters is not None and filters.active():
            allowed = allowed_rows(self.index.documents, self._chunk_doc_ids, filters)
            if not len(allowed):
                return []
        query_vec = self.embedder.embed_queries([query])[0]
        dense = self.index.dense.search(query_vec, self.candidates, allowed)
        dense_scores = dict(dense)
        rankings: dict[str, list[int]] = {}
        if mode in ("hybrid", "dense"):
            rankings["dense"] = [row for row, _ in dense]
        if mode in ("hybrid", "bm25"):
            lexical = self.index.lexical.search(query_tokens(query), self.candidates, allowed)
            rankings["bm25"] = [row for row, _ in lexical]
        fused = reciprocal_rank_fusion(rankings, k=self.rrf_k, weights=self.weights)
        hits = []
        for row, score, signals in fused[:top_k + 3]:  # a few spare: adjacent pieces may merge
            cosine = dense_scores.get(row)
            if cosine is None:  # found only lexically: still report its similarity for answerability
                cosine = float(self.index.dense.vector(row) @ query_vec)
            hits.append(SearchHit(self.index.chunks[row], score, cosine, dict(signals)))
        return merge_adjacent(hits, self._texts)[:top_k]
