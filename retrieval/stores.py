"""The two search structures: a FAISS inner-product index over normalised vectors, and BM25 over tokens.

Both answer "top k (row, score)" for a query and both save to / load from a folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import bm25s
import faiss
import numpy as np

from retrieval.abbreviations import abbreviation_table
from retrieval.expansion import with_index_words

HNSW_M = 32  # graph degree: recall vs memory
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512  # search breadth: recall vs latency (setting POLICYQA_HNSW_EF_SEARCH; sweep in benches/README.md)
# HNSW graphs cannot delete: a removed vector stays in the graph as a tombstone, excluded from every search,
# until tombstones exceed this share of the stored vectors and the graph is rebuilt from the live ones.
COMPACT_FRACTION = 0.2


class DenseStoreError(RuntimeError):
    pass


class DenseStore:
    """Inner-product search over normalised vectors (cosine): exact (flat) for small corpora, HNSW above
    `ann_threshold` vectors, where exact search would grow linearly with the corpus.

    Vectors are stored under stable int64 ids (faiss.IndexIDMap2), so documents can be added and removed
    in place: `update` adds new ids and removes old ones (flat) or marks them as tombstones (HNSW). The
    outside world speaks of *rows* (positions in the index's chunk list); `row_ids` maps row -> id.
    An index written before ids existed (a bare IndexFlatIP / IndexHNSWFlat) still loads: its ids are
    its rows.
    """

    def __init__(self, vectors: np.ndarray, kind: str = "auto", ann_threshold: int = 50_000,
                 ids: np.ndarray | None = None, ef_search: int = HNSW_EF_SEARCH) -> None:
        self.dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.size else 0
        kind = dense_kind(len(vectors), ann_threshold) if kind == "auto" else kind
        if kind == "hnsw":
            base = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        elif kind == "flat":
            base = faiss.IndexFlatIP(self.dim or 1)
        else:
            raise ValueError(f"unknown dense index kind '{kind}': use auto, flat or hnsw")
        self.kind, self.ef_search = kind, int(ef_search)
        self.index = faiss.IndexIDMap2(base)
        self._base = base
        ids = np.arange(len(vectors), dtype=np.int64) if ids is None else np.asarray(ids, np.int64)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(vectors):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self._set_rows(ids)

    # -- rows and ids ---------------------------------------------------------------------------------

    def stored_ids(self) -> np.ndarray:
        """Every id in the FAISS index, tombstones included."""
        if isinstance(self.index, faiss.IndexIDMap):
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        return np.arange(self.index.ntotal, dtype=np.int64)  # legacy: ids are rows

    def _set_rows(self, row_ids: np.ndarray) -> None:
        self.row_ids = np.asarray(row_ids, np.int64)
        self._order = np.argsort(self.row_ids, kind="stable")
        self._sorted = self.row_ids[self._order]
        stored = np.sort(self.stored_ids())
        if len(np.unique(self.row_ids)) != len(self.row_ids):
            raise DenseStoreError("the dense index maps two rows to one vector id; run `policyqa ingest --rebuild`.")
        if len(np.setdiff1d(self.row_ids, stored, assume_unique=True)):
            raise DenseStoreError("the dense index lacks vectors for some chunks; run `policyqa ingest --rebuild`.")
        self.tombstones = np.setdiff1d(stored, self.row_ids, assume_unique=True)
        # Built once: a search without filters skips the tombstones through this selector (the inner
        # selector is kept referenced here: FAISS holds a bare pointer to it).
        self._tombstone_set = faiss.IDSelectorBatch(self.tombstones) if len(self.tombstones) else None
        self._skip_tombstones = faiss.IDSelectorNot(self._tombstone_set) if len(self.tombstones) else None
        if self.kind == "hnsw":
            self._base.hnsw.efSearch = self.ef_search

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(self._sorted, ids), max(len(self._sorted) - 1, 0))
        return self._order[pos]

    @property
    def n_rows(self) -> int:
        return len(self.row_ids)

    # -- search ---------------------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top k rows by inner product; `allowed` restricts the search to those rows (filters)."""
        k = min(k, self.n_rows if allowed is None else len(allowed))
        if k <= 0:
            return []
        selector, _inner = self._selector(allowed)  # the inner selector stays referenced through the search
        params = None
        if selector is not None:
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=self.ef_search) if self.kind == "hnsw"
                      else faiss.SearchParameters(sel=selector))
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k,
                                        params=params)
        found = ids[0] >= 0
        rows = self._rows(ids[0][found])
        return [(int(r), float(s)) for r, s in zip(rows, scores[0][found], strict=True)]

    def _selector(self, allowed: np.ndarray | None):
        """The FAISS selector of the ids a search may return, and the selector it wraps (FAISS holds a bare
        pointer to it: the caller keeps it referenced). A filter usually allows nearly every row (the default
        one leaves out only laws no longer in force), and FAISS builds a hash set of the ids it is given, ~2 ms
        for 26k ids, twice a question (once per model): the few ids left out are given instead."""
        if allowed is None:
            return self._skip_tombstones, self._tombstone_set
        if 2 * len(allowed) <= self.n_rows:
            return faiss.IDSelectorBatch(np.ascontiguousarray(self.row_ids[allowed], dtype=np.int64)), None
        left_out = np.ones(self.n_rows, dtype=bool)
        left_out[allowed] = False
        excluded = np.concatenate([self.tombstones, self.row_ids[left_out]]).astype(np.int64)
        if not len(excluded):
            return None, None
        inner = faiss.IDSelectorBatch(np.ascontiguousarray(excluded))
        return faiss.IDSelectorNot(inner), inner

    def vector(self, row: int) -> np.ndarray:
        return self.index.reconstruct(int(self.row_ids[int(row)]))

    # -- updates --------------------------------------------------------------------------------------

    def update(self, add_vectors: np.ndarray, add_ids: np.ndarray, remove_ids: np.ndarray,
               row_ids: np.ndarray) -> None:
        """Add vectors under new ids and drop removed ids, in place; `row_ids` is the new row -> id map.
        A flat index deletes the removed vectors; HNSW keeps them as tombstones (see COMPACT_FRACTION)."""
        if not isinstance(self.index, faiss.IndexIDMap2):
            raise DenseStoreError("this dense index predates stable ids and cannot be updated in place")
        remove_ids = np.ascontiguousarray(remove_ids, dtype=np.int64)
        if self.kind == "flat" and len(remove_ids):
            self.index.remove_ids(remove_ids)
        if len(add_ids):
            self.index.add_with_ids(np.ascontiguousarray(add_vectors, dtype=np.float32),
                                    np.ascontiguousarray(add_ids, dtype=np.int64))
        self._set_rows(row_ids)

    def needs_compaction(self, fraction: float = COMPACT_FRACTION) -> bool:
        return len(self.tombstones) > fraction * max(self.index.ntotal, 1)

    # -- files ----------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, row_ids: np.ndarray | None = None, ef_search: int = HNSW_EF_SEARCH) -> DenseStore:
        """`row_ids`: the index's row -> id map (rows.npy); None for an index whose ids are its rows."""
        store = cls.__new__(cls)
        store.index = faiss.read_index(str(path))
        store._base = (faiss.downcast_index(store.index.index) if isinstance(store.index, faiss.IndexIDMap)
                       else store.index)
        store.dim = store.index.d
        store.kind = "hnsw" if isinstance(store._base, faiss.IndexHNSW) else "flat"
        store.ef_search = int(ef_search)
        store._set_rows(np.arange(store.index.ntotal, dtype=np.int64) if row_ids is None else row_ids)
        return store


def dense_kind(n_vectors: int, ann_threshold: int) -> str:
    """The dense index kind for a corpus of this size: HNSW above the threshold, exact below."""
    return "hnsw" if n_vectors > ann_threshold else "flat"


class TokenTable:
    """Every row's tokens, as ids into one vocabulary: `ids[offsets[r]:offsets[r + 1]]` are row r's.

    Kept with the lexical store so the next build reuses the tokens of unchanged chunks instead of running
    jieba again (the slow part of a build: about a minute at 100k chunks on 2 cores).
    """

    def __init__(self, vocab: list[str], ids: np.ndarray, offsets: np.ndarray) -> None:
        self.vocab, self.ids, self.offsets = vocab, np.asarray(ids, np.int64), np.asarray(offsets, np.int64)

    @classmethod
    def from_token_lists(cls, rows: list[list[str]]) -> TokenTable:
        return cls.assemble(np.full(len(rows), -1, np.int64), None, rows)

    @classmethod
    def assemble(cls, sources: np.ndarray, old: TokenTable | None, new_rows: list[list[str]]) -> TokenTable:
        """A table for rows that either reuse row `sources[r]` of `old` (>= 0) or take the next list of
        `new_rows` (-1), in order. The vocabulary keeps only tokens some row uses."""
        sources = np.asarray(sources, np.int64)
        reuse = sources >= 0
        if int((~reuse).sum()) != len(new_rows):
            raise ValueError(f"{int((~reuse).sum())} new rows but {len(new_rows)} token lists")
        vocab = list(old.vocab) if old is not None else []
        lookup = {t: i for i, t in enumerate(vocab)}
        new_ids = [lookup.setdefault(t, len(lookup)) for toks in new_rows for t in toks]
        vocab += list(lookup)[len(vocab):]
        lengths = np.zeros(len(sources), np.int64)
        if old is not None and reuse.any():
            lengths[reuse] = np.diff(old.offsets)[sources[reuse]]
        lengths[~reuse] = [len(t) for t in new_rows]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = np.empty(int(offsets[-1]), np.int64)
        if old is not None and reuse.any():
            ids[_ragged(offsets[:-1][reuse], lengths[reuse])] = old.ids[_ragged(old.offsets[sources[reuse]],
                                                                                 lengths[reuse])]
        ids[_ragged(offsets[:-1][~reuse], lengths[~reuse])] = np.asarray(new_ids, np.int64)
        used = np.bincount(ids, minlength=len(vocab)) > 0
        if not used.all():  # tokens only dropped rows had: renumber the rest (order kept)
            ids = (np.cumsum(used) - 1)[ids]
            vocab = [t for t, u in zip(vocab, used, strict=True) if u]
        return cls(vocab, ids, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, r: int) -> list[str]:
        return [self.vocab[i] for i in self.ids[self.offsets[r]:self.offsets[r + 1]]]

    def save(self, folder: Path) -> None:
        (folder / "tokens.vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "tokens.ids.npy", self.ids.astype(np.int32 if len(self.vocab) < 2**31 else np.int64))
        np.save(folder / "tokens.offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: Path) -> TokenTable | None:
        """The folder's table, or None when it has none (an index written before tokens were kept)."""
        try:
            vocab = json.loads((folder / "tokens.vocab.json").read_text(encoding="utf-8"))
            return cls(vocab, np.load(folder / "tokens.ids.npy"), np.load(folder / "tokens.offsets.npy"))
        except (OSError, ValueError):
            return None


def _ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions starts[i] .. starts[i] + lengths[i] - 1 for every i, concatenated."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    steps = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + steps


def bm25_index(table: TokenTable, k1: float = 1.5, b: float = 0.75) -> bm25s.BM25:
    """A bm25s.BM25 over the table, computed with array operations instead of bm25s's per-document Python
    loop (5 s -> under 1 s at 100k chunks). Same scores as `bm25s.BM25().index(rows)` with its defaults
    (Lucene variant), an empty row scored as the single token "" (tests/retrieval/test_index.py compares the two)."""
    n_docs = len(table)
    lengths = np.diff(table.offsets)
    vocab = list(table.vocab)
    ids = table.ids
    empty = np.flatnonzero(lengths == 0)
    if len(empty):  # as bm25s is given [""] for a row without tokens
        if "" not in vocab:
            vocab.append("")
        blank = vocab.index("")
        parts = np.split(ids, table.offsets[1:-1])
        for r in empty:
            parts[r] = np.array([blank], np.int64)
        lengths = np.array([len(p) for p in parts], np.int64)
        ids = np.concatenate(parts) if parts else ids
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique((ids << 32) | docs, return_counts=True)  # sorted by token, then row: CSC order
    terms, rows = pairs >> 32, pairs & 0xFFFFFFFF
    n_vocab = len(vocab)
    df = np.bincount(terms, minlength=n_vocab)
    idf = np.zeros(n_vocab, np.float32)
    seen = df > 0
    idf[seen] = np.log(1 + (n_docs - df[seen] + 0.5) / (df[seen] + 0.5))
    l_avg = lengths.mean() if n_docs else 1.0
    tf = tf.astype(np.float64)
    tfc = tf / (k1 * ((1 - b) + b * lengths[rows] / l_avg) + tf)
    indptr = np.zeros(n_vocab + 1, np.int64)
    np.cumsum(df, out=indptr[1:])
    model = bm25s.BM25(k1=k1, b=b)
    model.scores = {"data": (idf[terms].astype(np.float64) * tfc).astype(np.float32),
                    "indices": rows.astype(np.int32), "indptr": indptr, "num_docs": n_docs}
    model.vocab_dict = {t: i for i, t in enumerate(vocab)}
    if "" not in model.vocab_dict:  # bm25s adds the empty token too (after the matrix: no column)
        model.vocab_dict[""] = len(vocab)
    model.unique_token_ids_set = set(model.vocab_dict.values())
    model.nonoccurrence_array = None
    return model


class LexicalStore:
    """BM25 (bm25s) over pre-tokenised text: the caller hands in tokens from retrieval.tokenize, as lists or
    as a TokenTable, which is saved with the store so later builds can reuse it."""

    def __init__(self, corpus_tokens: list[list[str]] | TokenTable) -> None:
        self.tokens = (corpus_tokens if isinstance(corpus_tokens, TokenTable)
                       else TokenTable.from_token_lists(corpus_tokens))
        self.bm25 = bm25_index(self.tokens)
        self._abbreviations: dict[str, tuple[str, ...]] | None = None

    def search(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None,
               groups: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The top k rows by BM25 (ties: the lower row first). `allowed`: the rows the filters allow, ascending
        (as `Retriever.allowed` gives them). With `groups` (a group number per row: each row's collection), each
        group's rows are ordered by that group's own term statistics (see `grouped_scores`).

        Only the rows a query word occurs in are scored and sorted: at 100k chunks a query's words occur in a few
        thousand, and ranking the whole score array was most of the search's time (benches/README.md §2)."""
        parts = postings(self.bm25, query_tokens)
        if not parts:
            return []
        rows, scores = summed_scores(parts, self.bm25.scores["num_docs"])
        if groups is not None:
            scores = group_ordered(parts, rows, scores, groups)
        if allowed is not None:
            keep = ascending_members(rows, allowed)
            rows, scores = rows[keep], scores[keep]
        top = top_indices(scores, k, rows)
        return [(int(rows[i]), float(scores[i])) for i in top]

    def with_index_words(self, tokens: list[str], text: str = "") -> list[str]:
        """Query tokens plus the index's own words for those it lacks: the long forms of abbreviations
        (家暴 -> 家庭暴力), Chinese for English words the glossary lacks and for English phrases of the
        query's `text` (retrieval/expansion.py)."""
        return with_index_words(tokens, self.bm25.vocab_dict, self.abbreviations(), text)

    def abbreviations(self) -> dict[str, tuple[str, ...]]:
        """short form -> long forms, from the vocabulary; built on first use."""
        if self._abbreviations is None:
            self._abbreviations = abbreviation_table(self.bm25.vocab_dict)
        return self._abbreviations

    def grouped_scores(self, tokens: list[str], groups: np.ndarray) -> np.ndarray:
        """Every row's score under `group_ordered` (0 where no query word occurs): what `search` ranks with groups."""
        out = np.zeros(len(groups), dtype=np.float64)
        parts = postings(self.bm25, tokens)
        if parts:
            rows, scores = summed_scores(parts, len(groups))
            out[rows] = group_ordered(parts, rows, scores, groups)
        return out

    def save(self, path: Path) -> None:
        self.bm25.save(str(path))
        if self.tokens is not None:
            self.tokens.save(path)

    @classmethod
    def load(cls, path: Path) -> LexicalStore:
        """The BM25 index only (what search needs); TokenTable.load(path) reads the tokens."""
        store = cls.__new__(cls)
        store.bm25 = bm25s.BM25.load(str(path))
        store.tokens = None
        store._abbreviations = None
        return store


def postings(bm25: bm25s.BM25, tokens: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per query word the index knows (a repeated word counts again, as in bm25s): the rows it occurs in,
    ascending, and its part of their BM25 score (IDF x the term-frequency part, stored at indexing)."""
    data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
    parts = []
    for token in tokens:
        column = bm25.vocab_dict.get(token)
        if column is None or column >= len(indptr) - 1:  # bm25s lists "" in the vocabulary without a column
            continue
        start, end = indptr[column], indptr[column + 1]
        parts.append((indices[start:end], data[start:end]))
    return parts


def summed_scores(parts: list[tuple[np.ndarray, np.ndarray]], n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows any word occurs in (ascending) and their BM25 scores: the words' parts summed in float32, word by
    word, exactly as `bm25s.BM25.get_scores` sums them."""
    totals = np.zeros(n_rows, dtype=np.float32)
    for rows, data in parts:
        np.add.at(totals, rows, data)  # faster than totals[rows] += data in numpy 2
    rows = np.flatnonzero(totals > 0)
    return rows, totals[rows]


def group_ordered(parts: list[tuple[np.ndarray, np.ndarray]], rows: np.ndarray, scores: np.ndarray,
                  groups: np.ndarray) -> np.ndarray:
    """`scores` (of `rows`) dealt out again within each group, in the order an index of that group alone gives.

    Within a group, rows are ranked with the group's own document frequencies (the Lucene IDF bm25s uses;
    the stored parts are IDF(all rows) x the term-frequency part, so each word's part is rescaled by
    IDF(group) / IDF(all)): loading the national law library leaves the order of a bureau's own clauses as
    it was. Raw scores under different IDFs do not compare across groups (a term common in the topical group
    weighs least there), so each group's rows keep the whole index's scores, sorted, handed out in the group's
    own order (ties: the lower row first). Document lengths stay normalised by the whole index."""
    sizes = np.bincount(groups).astype(np.float64)
    total = float(len(groups))
    own = np.zeros(len(groups), dtype=np.float64)
    for word_rows, data in parts:
        word_groups = groups[word_rows]
        df_all = float(len(word_rows))
        df = np.bincount(word_groups, minlength=len(sizes)).astype(np.float64)
        idf_group = np.log1p((sizes - df + 0.5) / (df + 0.5))
        idf_all = math.log1p((total - df_all + 0.5) / (df_all + 0.5))
        np.add.at(own, word_rows, data * (idf_group / idf_all)[word_groups])
    own = own[rows]
    row_groups = groups[rows]
    out = np.empty(len(rows), dtype=np.float64)
    for group in np.flatnonzero(np.bincount(row_groups)):
        members = np.flatnonzero(row_groups == group)
        by_own = members[np.argsort(-own[members], kind="stable")]
        out[by_own] = np.sort(scores[members])[::-1]
    return out


# Scores per block when top_indices bounds the k-th best score by the blocks' maxima.
TOP_BLOCK = 64


def top_indices(scores: np.ndarray, k: int, tiebreak: np.ndarray) -> np.ndarray:
    """Positions of the k highest scores, best first; equal scores by the lower `tiebreak`.

    Only scores at or above a bound on the k-th highest are sorted. With many scores the bound is the k-th highest
    of the maxima of blocks of TOP_BLOCK (k blocks each hold a score at least that high): at 100k chunks a query's
    words occur in ~60k rows, and this leaves ~100 of them to sort, a seventh of the time of a partial sort of
    all (benches/README.md §2). Ties at the k-th place go to the lower `tiebreak`, as everywhere else."""
    n = len(scores)
    if n > k > 0:
        blocks = n // TOP_BLOCK
        pool = scores[:blocks * TOP_BLOCK].reshape(blocks, TOP_BLOCK).max(axis=1) if blocks > k else scores
        bound = np.partition(pool, len(pool) - k)[len(pool) - k]
        candidates = np.flatnonzero(scores >= bound)
    else:
        candidates = np.arange(n)
    return candidates[np.lexsort((tiebreak[candidates], -scores[candidates]))][:max(k, 0)]


def ascending_members(rows: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """A mask of the `rows` that are in `allowed` (both ascending): a binary search per row, not a mask over the index."""
    if not len(allowed):
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(allowed, rows), len(allowed) - 1)
    return allowed[at] == rows
