"""Hybrid search: one dense ranking per embedding model (FAISS) and a lexical one (BM25), fused (reciprocal
ranks by default, or their standardised scores summed: retrieval/fusion.py).

`Retriever.rankings` computes the ranked lists of one query; `fuse_hits` turns them into hits. They are
apart so the fold experiments (evals/folds.py) can fuse one query's lists under many weightings.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from policyqa.models import Chunk
from retrieval.embedders import ACTIVITY, Embedder, model_parts
from retrieval.filters import SearchFilters, allowed_documents, collection_of
from retrieval.fusion import document_ranks, reciprocal_rank_fusion, scale_scores, standardised_score_fusion
from retrieval.index import Index
from retrieval.stores import LexicalStore
from retrieval.tokenize import query_tokens

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("scores", "rrf")


@dataclass
class SearchHit:
    chunk: Chunk
    score: float  # fused score (>= 0), comparable within one query only
    dense_score: float = 0.0  # cosine similarity of the query and the chunk (first model)
    signals: dict[str, int] = field(default_factory=dict)  # which rankings found it, at which rank
    similarities: dict[str, float] = field(default_factory=dict)  # cosine per model ("dense", "dense:use")


# Filter combinations whose allowed rows are kept (a dashboard's few filters; the default above all).
ALLOWED_KEPT = 64

# The thread a lone question's BM25 search runs on beside its dense search (Retriever.rankings); it starts
# with the first such search.
LEXICAL_WORKER = ThreadPoolExecutor(1, thread_name_prefix="policyqa-bm25")


@dataclass
class Rankings:
    """One query's ranked lists: signal name -> [(row, score)] best first, and the query vector."""

    lists: dict[str, list[tuple[int, float]]]
    query_vec: np.ndarray
    lexical_tokens: list[str] = field(default_factory=list)


def signal_name(model_name: str, first: bool) -> str:
    """'dense' for the first model (the one settings.dense_weight has always meant), 'dense:<model>' after."""
    return "dense" if first else f"dense:{model_name.split(':')[0]}"


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
        for name, value in hit.similarities.items():
            twin.similarities[name] = max(value, twin.similarities.get(name, value))
        for name, rank in hit.signals.items():
            twin.signals[name] = min(rank, twin.signals.get(name, rank))
    return out


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, candidates: int = 50, dense_weight: float = 0.25,
                 rrf_k: int = 30, weights: dict[str, float] | None = None,
                 document_weights: dict[str, float] | None = None, standardised_sentences: bool = False,
                 fusion: str = "rrf") -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion '{fusion}'; use one of {', '.join(FUSIONS)}")
        self.index, self.embedder, self.candidates, self.rrf_k = index, embedder, candidates, rrf_k
        self.fusion = fusion  # "rrf": reciprocal ranks; "scores": standardised scores summed (retrieval.fusion)
        self.standardised_sentences = standardised_sentences  # how the sentence ranking sums its models
        # RRF weight of each ranking relative to BM25 (1.0): every dense ranking gets dense_weight unless
        # `weights` names it; "doc" weighs the document ranking its chunks share (chosen on the eval sets'
        # folds, evals/folds.py; see evals/README.md).
        self.parts = [(signal_name(name, i == 0), cols) for i, (name, _, cols) in enumerate(model_parts(embedder))]
        self.weights = {name: dense_weight for name, _ in self.parts} | (weights or {})
        self._chunk_doc_ids = [c.doc_id for c in index.chunks]
        # A prior on each chunk's document, multiplying its fused score (1.0 for documents not named;
        # retrieval.filters.document_priors): the law library's thousands of articles should not push a
        # bureau's own documents aside on the words they share; a law still comes first where it answers
        # clearly better.
        factors = [(document_weights or {}).get(doc_id, 1.0) for doc_id in self._chunk_doc_ids]
        self._row_factors = factors if any(f != 1.0 for f in factors) else None
        # BM25 orders each collection's rows by that collection's own term statistics
        # (LexicalStore.grouped_scores): loading the law library leaves the order of a bureau's own clauses as it was.
        collection = {doc_id: collection_of(doc) for doc_id, doc in index.documents.items()}
        names = sorted(set(collection.values()))
        self._row_groups = (np.array([names.index(collection[d]) for d in self._chunk_doc_ids], np.int64)
                            if len(names) > 1 and isinstance(index.lexical, LexicalStore) else None)
        self._texts = {doc_id: doc.text for doc_id, doc in index.documents.items()}
        # Allowed rows by (filters, date): an index's documents do not change, and deciding which pass the
        # filters (which law versions are in force today) is a scan of every document, 4 ms a question at 5k.
        self._allowed: dict[tuple[str, str], np.ndarray | None] = {}

    @property
    def row_groups(self) -> np.ndarray | None:
        """Each row's collection number when BM25 orders collections apart (LexicalStore.search); else None."""
        return self._row_groups

    def allowed(self, filters: SearchFilters | None) -> np.ndarray | None:
        """Rows of the chunks the filters allow (without filters: the default, laws in force); None when
        all are. Worked out once per filters and day: every unfiltered question allows the same rows."""
        filters = filters or SearchFilters()
        key = (repr(filters), dt.date.today().isoformat())
        found = self._allowed.get(key, self)  # read once: another request may clear the dict meanwhile
        if found is not self:
            return found
        ok = allowed_documents(self.index.documents, filters)
        rows = None if ok is None else np.array(
            [row for row, doc_id in enumerate(self._chunk_doc_ids) if doc_id in ok], dtype=np.int64)
        if len(self._allowed) >= ALLOWED_KEPT:
            self._allowed.clear()
        self._allowed[key] = rows
        return rows

    def rankings(self, query: str, mode: str = "hybrid", allowed: np.ndarray | None = None,
                 lexical_query: str | None = None) -> Rankings:
        """The ranked lists of one query: a dense list per model (for modes hybrid and dense) and BM25's
        (hybrid and bm25; from `lexical_query` when given, else the query)."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode '{mode}'; use one of {', '.join(MODES)}")
        query_vec = self.embedder.embed_queries([query])[0]
        text = lexical_query if lexical_query is not None else query
        # Once the model has embedded the question, both cores are free. When this question is all the work in
        # the process, BM25 runs on a helper thread beside the dense search (FAISS releases the GIL), so the two
        # cost the longer of their times instead of the sum (benches/README.md §2). Under load every core is
        # busy with other questions, and the search stays on the calling thread.
        lexical = (LEXICAL_WORKER.submit(self.lexical_ranking, text, allowed)
                   if mode == "hybrid" and ACTIVITY.count <= 1 else None)
        lists: dict[str, list[tuple[int, float]]] = {}
        if mode in ("hybrid", "dense"):
            for name, cols in self.parts:
                lists[name] = self.index.dense.search(self.part_query(query_vec, cols), self.candidates, allowed)
        tokens: list[str] = []
        if mode in ("hybrid", "bm25"):
            tokens, lists["bm25"] = lexical.result() if lexical else self.lexical_ranking(text, allowed)
        if mode in ("hybrid", "dense") and self.index.sentences is not None and self.weights.get("sentences"):
            lists["sentences"] = self.sentence_ranking(query_vec, {row for found in lists.values() for row, _ in found})
        return Rankings(lists, query_vec, tokens)

    def lexical_ranking(self, text: str, allowed: np.ndarray | None = None) -> tuple[list[str], list[tuple[int, float]]]:
        """BM25's ranked list for the text, and the tokens it searched with (the query's words plus the
        index's own words for those it lacks)."""
        tokens = self.index.lexical.with_index_words(query_tokens(text), text)
        if self._row_groups is not None:
            return tokens, self.index.lexical.search(tokens, self.candidates, allowed, self._row_groups)
        return tokens, self.index.lexical.search(tokens, self.candidates, allowed)

    def sentence_ranking(self, query_vec: np.ndarray, rows, standardised: bool | None = None) -> list[tuple[int, float]]:
        """The candidate rows ranked by their own and their best sentence's similarity, summed over the
        embedding models (retrieval/sentences.py)."""
        rows = np.fromiter(sorted(rows), np.int64)
        if not len(rows):
            return []
        standardised = self.standardised_sentences if standardised is None else standardised
        scores = self.index.sentences.scores(query_vec, rows, [cols for _, cols in self.parts], standardised)
        order = np.argsort(-scores, kind="stable")[:self.candidates]
        return [(int(rows[i]), float(scores[i])) for i in order]

    def part_query(self, query_vec: np.ndarray, cols: slice) -> np.ndarray:
        """The query vector with every other model's columns zeroed: inner products are then one model's
        cosine similarities."""
        if len(self.parts) == 1:
            return query_vec
        masked = np.zeros_like(query_vec)
        masked[cols] = query_vec[cols]
        return masked

    def fuse_hits(self, ranked: Rankings, top_k: int, weights: dict[str, float] | None = None,
                  rrf_k: int | None = None) -> list[SearchHit]:
        """Fused hits, best first; each carries its cosine per model (computed for rows found by BM25
        alone, for answerability)."""
        weights = weights or self.weights
        if self.fusion == "scores":
            fused = standardised_score_fusion(ranked.lists, weights)
        else:
            rows_only = {name: [row for row, _ in found] for name, found in ranked.lists.items()}
            # The document ranking joins the hybrid fusion; mode dense or bm25 is left to its own rankings.
            several = "bm25" in rows_only and len(rows_only) > 1
            # The documents are ranked by the search signals; the sentence ranking only reorders their candidates.
            searched = {name: rows for name, rows in rows_only.items() if name != "sentences"}
            shared = ({"doc": document_ranks(searched, self._chunk_doc_ids)} if weights.get("doc") and several
                      else None)
            fused = reciprocal_rank_fusion(rows_only, k=rrf_k or self.rrf_k, weights=weights, shared=shared)
        if self._row_factors is not None:
            fused = scale_scores(fused, self._row_factors)
        known = {name: dict(found) for name, found in ranked.lists.items() if name.startswith("dense")}
        hits = []
        for row, score, signals in fused[:top_k + 3]:  # a few spare: adjacent pieces may merge
            similarities = {}
            for name, cols in self.parts:
                cosine = known.get(name, {}).get(row)
                if cosine is None:
                    vector = self.index.dense.vector(row)
                    cosine = float(vector[cols] @ ranked.query_vec[cols])
                similarities[name] = cosine
            hits.append(SearchHit(self.index.chunks[row], score, similarities[self.parts[0][0]], dict(signals),
                                  similarities))
        return merge_adjacent(hits, self._texts)[:top_k]

    def search(self, query: str, top_k: int = 5, mode: str = "hybrid",
               filters: SearchFilters | None = None, lexical_query: str | None = None) -> list[SearchHit]:
        allowed = self.allowed(filters)
        if allowed is not None and not len(allowed):
            return []
        return self.fuse_hits(self.rankings(query, mode, allowed, lexical_query), top_k)
