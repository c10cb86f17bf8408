"""The dense store on Milvus (pymilvus), for corpora that outgrow one machine.

Same interface as DenseStore (search with an optional row filter, vector(row), save/load). Milvus Lite
(a local file such as data/milvus.db) for one machine and for tests; a cluster with an http:// URI.
Each build writes a new collection and the index manifest points at it, so the previous index stays
usable until the new one is swapped in; the old collection is dropped afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

BATCH = 1000


class MilvusStoreError(RuntimeError):
    pass


class MilvusStore:
    kind = "milvus"

    def __init__(self, uri: str, collection: str, token: str = "") -> None:
        from pymilvus import MilvusClient

        self.uri, self.collection, self.token = uri, collection, token
        self.client = MilvusClient(uri=uri, token=token) if token else MilvusClient(uri=uri)
        self.dim = 0

    @classmethod
    def build(cls, vectors: np.ndarray, uri: str, collection: str, token: str = "", progress=None) -> MilvusStore:
        store = cls(uri, collection, token)
        store.dim = int(vectors.shape[1])
        if store.client.has_collection(collection):
            store.client.drop_collection(collection)
        store.client.create_collection(collection, dimension=store.dim, metric_type="IP", auto_id=False)
        starts = range(0, len(vectors), BATCH)
        for start in progress(starts) if progress else starts:
            rows = [{"id": int(i), "vector": vectors[i].tolist()} for i in range(start, min(start + BATCH, len(vectors)))]
            store.client.insert(collection, rows)
        return store

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        if k <= 0 or (allowed is not None and not len(allowed)):
            return []
        expr = f"id in {[int(r) for r in allowed]}" if allowed is not None else ""
        result = self.client.search(self.collection, data=[np.asarray(query, np.float32).tolist()],
                                    limit=int(k), filter=expr, search_params={"metric_type": "IP"})
        return [(int(hit["id"]), float(hit["distance"])) for hit in result[0]]

    def vector(self, row: int) -> np.ndarray:
        found = self.client.get(self.collection, ids=[int(row)], output_fields=["vector"])
        return np.asarray(found[0]["vector"], np.float32)

    def save(self, path: Path) -> None:
        # The token is a secret: it stays in the settings, never in the index folder.
        path.write_text(json.dumps({"uri": self.uri, "collection": self.collection, "dim": self.dim}))

    @classmethod
    def load(cls, path: Path, token: str = "") -> MilvusStore:
        info = json.loads(path.read_text())
        store = cls(info["uri"], info["collection"], token)
        store.dim = int(info.get("dim", 0))
        if not store.client.has_collection(store.collection):
            raise MilvusStoreError(f"Milvus collection {store.collection} is missing at {store.uri}; "
                                    "run `policyqa ingest --rebuild`.")
        store.client.load_collection(store.collection)  # a collection is searchable only once loaded
        return store

    def drop(self) -> None:
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)
