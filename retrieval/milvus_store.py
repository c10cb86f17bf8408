"""Dense vectors and BM25 on Milvus (pymilvus), for corpora that outgrow one machine and for API
processes that hold no index state of their own (several `policyqa serve` replicas on one Milvus).

One collection per build holds every chunk row: its id (the row), its vector, its document id (for
filters), its indexed text and the BM25 sparse vector Milvus computes from that text with a jieba
analyzer (a `Function(BM25)`). `MilvusStore` answers dense searches like DenseStore, `MilvusLexicalStore`
answers BM25 searches like LexicalStore; the project's fusion (retrieval/fusion.py) fuses the two lists.
Milvus Lite (a local path such as data/milvus.db) for one process and for tests; a Milvus server or
cluster with an http:// URI (several processes: `milvus-lite server --data-dir DIR --port PORT` serves a
Milvus Lite folder to many). Each build writes a new collection and the index manifest points at it, so
the previous index stays usable until the new one is swapped in; older collections are dropped afterwards
(the one before stays, for replicas that have not reloaded yet).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

BATCH = 1000
MAX_TEXT = 60_000  # Milvus VARCHAR max_length is 65,535 bytes; indexed texts are ~400 characters
MAX_DOC_ID = 1024
# Our tokenizer drops stop words (retrieval/tokenize.py); Milvus's jieba analyzer drops the same ones.
# "_default_" keeps jieba's own dictionary next to the corpus words (a Milvus server's jieba needs it named).
DEFAULT_DICT = "_default_"


class MilvusStoreError(RuntimeError):
    pass


def analyzer_params(words=(), stop_words=()) -> dict:
    """Milvus's jieba analyzer in search mode (a long word also yields its parts, as ours does), with the
    corpus user dictionary (office names, 文号) and our stop words."""
    params: dict = {"tokenizer": {"type": "jieba", "mode": "search", "dict": [DEFAULT_DICT, *sorted(words)]}}
    if stop_words:
        params["filter"] = ["lowercase", {"type": "stop", "stop_words": sorted(stop_words)}]
    return params


def _literal_list(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


class MilvusStore:
    kind = "milvus"

    def __init__(self, uri: str, collection: str, token: str = "") -> None:
        from pymilvus import MilvusClient

        self.uri, self.collection, self.token = uri, collection, token
        self.client = MilvusClient(uri=uri, token=token) if token else MilvusClient(uri=uri)
        self.dim = 0
        self.bm25 = False  # the collection has the text and BM25 fields
        self.doc_of: np.ndarray | None = None  # per row its document id (set by load_index): filters by document
        self._filter: tuple[bytes, str] | None = None  # the last allowed rows' filter expression

    @classmethod
    def build(cls, vectors: np.ndarray, uri: str, collection: str, token: str = "", progress=None,
              texts: list[str] | None = None, doc_ids: list[str] | None = None, words=(),
              stop_words=()) -> MilvusStore:
        """A new collection of these rows. With `texts` and `doc_ids` it also holds BM25 (the texts analysed
        by Milvus's jieba with `words` as user dictionary) and each row's document for filters."""
        from pymilvus import DataType, Function, FunctionType

        store = cls(uri, collection, token)
        store.dim = int(vectors.shape[1])
        client = store.client
        if client.has_collection(collection):
            client.drop_collection(collection)
        if texts is None:
            client.create_collection(collection, dimension=store.dim, metric_type="IP", auto_id=False,
                                     consistency_level="Strong")
        else:
            store.bm25 = True
            schema = client.create_schema(auto_id=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=store.dim)
            schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_DOC_ID * 4)
            schema.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                             analyzer_params=analyzer_params(words, stop_words))
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                         input_field_names=["text"], output_field_names=["sparse"]))
            index = client.prepare_index_params()
            index.add_index("vector", index_type="AUTOINDEX", metric_type="IP")
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
            client.create_collection(collection, schema=schema, index_params=index, consistency_level="Strong")
        starts = range(0, len(vectors), BATCH)
        for start in progress(starts) if progress else starts:
            end = min(start + BATCH, len(vectors))
            if texts is None:
                rows = [{"id": i, "vector": vectors[i].tolist()} for i in range(start, end)]
            else:
                rows = [{"id": i, "vector": vectors[i].tolist(), "doc_id": doc_ids[i][:MAX_DOC_ID],
                         "text": texts[i][:MAX_TEXT]} for i in range(start, end)]
            client.insert(collection, rows)
        client.load_collection(collection)
        return store

    # -- filters --------------------------------------------------------------------------------------

    def filter_for(self, allowed: np.ndarray | None) -> str:
        """A Milvus filter expression keeping the `allowed` rows: by document (`doc_id in [...]`, or `not in`
        the excluded ones when they are fewer) when the rows are whole documents, as Retriever.allowed
        makes them; by row id otherwise. Never a list of 26k row ids for a filter that keeps all but a few
        documents. The last expression is kept (every unfiltered question allows the same rows)."""
        if allowed is None:
            return ""
        key = np.asarray(allowed, np.int64).tobytes()
        if self._filter is not None and self._filter[0] == key:
            return self._filter[1]
        expr = self._document_filter(np.asarray(allowed, np.int64)) if self.doc_of is not None else None
        if expr is None:
            rows = np.asarray(allowed, np.int64)
            n = len(self.doc_of) if self.doc_of is not None else None
            if n is not None and len(rows) > n / 2:
                expr = f"id not in {np.setdiff1d(np.arange(n), rows).tolist()}"
            else:
                expr = f"id in {rows.tolist()}"
        self._filter = (key, expr)
        return expr

    def _document_filter(self, rows: np.ndarray) -> str | None:
        docs, counts = np.unique(self.doc_of[rows], return_counts=True)
        every, totals = np.unique(self.doc_of, return_counts=True)
        whole = dict(zip(every.tolist(), totals.tolist(), strict=True))
        if any(whole.get(d) != c for d, c in zip(docs.tolist(), counts.tolist(), strict=True)):
            return None  # some rows of a document only: filter by row
        excluded = np.setdiff1d(every, docs)
        if not len(excluded):
            return ""
        if len(excluded) < len(docs):
            return f"doc_id not in {_literal_list(excluded.tolist())}"
        return f"doc_id in {_literal_list(docs.tolist())}"

    # -- search ---------------------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        if k <= 0 or (allowed is not None and not len(allowed)):
            return []
        result = self.client.search(self.collection, data=[np.asarray(query, np.float32).tolist()],
                                    anns_field="vector", limit=int(k), filter=self.filter_for(allowed),
                                    output_fields=["id"], search_params={"metric_type": "IP"})
        return [(int(hit["id"]), float(hit["distance"])) for hit in result[0]]

    def vector(self, row: int) -> np.ndarray:
        found = self.client.get(self.collection, ids=[int(row)], output_fields=["vector"])
        return np.asarray(found[0]["vector"], np.float32)

    # -- files ----------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        # The token is a secret: it stays in the settings, never in the index folder.
        path.write_text(json.dumps({"uri": self.uri, "collection": self.collection, "dim": self.dim,
                                    "bm25": self.bm25}))

    @classmethod
    def load(cls, path: Path, token: str = "") -> MilvusStore:
        info = json.loads(path.read_text())
        store = cls(info["uri"], info["collection"], token)
        store.dim = int(info.get("dim", 0))
        store.bm25 = bool(info.get("bm25", False))
        if not store.client.has_collection(store.collection):
            raise MilvusStoreError(f"Milvus collection {store.collection} is missing at {store.uri}; "
                                    "run `policyqa ingest --rebuild`.")
        store.client.load_collection(store.collection)  # a collection is searchable only once loaded
        return store

    def drop(self) -> None:
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)

    def drop_older(self, prefix: str, keep: set[str]) -> list[str]:
        """Drop this prefix's collections other than `keep` (the live one and the one before it, which
        replicas may still be searching until they notice the new index); returns the dropped names."""
        dropped = []
        for name in self.client.list_collections():
            if name.startswith(f"{prefix}_") and name not in keep:
                self.client.drop_collection(name)
                dropped.append(name)
        return dropped


class MilvusLexicalStore:
    """BM25 in Milvus, with LexicalStore's search: the query's tokens (from retrieval.tokenize.query_tokens,
    with its glossary and synonyms applied; joined by spaces) or a text go to the collection's BM25 Function,
    whose jieba analyzer cuts them as it cut the chunks. Scores are Milvus's BM25 (k1 1.2, b 0.75)."""

    kind = "milvus"

    def __init__(self, store: MilvusStore) -> None:
        self.store = store

    def with_index_words(self, tokens: list[str], text: str = "") -> list[str]:
        """The tokens as they are: the collection's vocabulary stays inside Milvus, so the index's own words
        for abbreviations and English words (retrieval/expansion.py) are not added on this store."""
        return tokens

    def search(self, query_tokens: list[str] | str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        text = query_tokens if isinstance(query_tokens, str) else " ".join(query_tokens)
        if k <= 0 or not text.strip() or (allowed is not None and not len(allowed)):
            return []
        store = self.store
        result = store.client.search(store.collection, data=[text], anns_field="sparse", limit=int(k),
                                     filter=store.filter_for(allowed), output_fields=["id"],
                                     search_params={"metric_type": "BM25"})
        # Milvus Lite reports BM25 scores negated (smaller is better); a Milvus server reports them as they are.
        return [(int(hit["id"]), abs(float(hit["distance"]))) for hit in result[0]]
