"""BM25's own time per question, as the search calls it (benches/README.md §5).

    .venv/bin/python -m benches.bm25_search [--data data/bench-laws/crowded-extcorpus+lawcorpus] [-n 150]

In one process, over the seed questions' query tokens (tokenised once, outside the timing): `LexicalStore.search`
for the top 50 plainly, with the collections ordered apart (the law library beside a bureau's files), and with
the collections and the default filter's allowed rows (laws in force), as `Retriever.rankings` calls it with the
library loaded. Mean ms per question over two passes after a warm-up. Needs an index with the law library
(benches.laws makes one).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benches.common import ROOT
from evals.run import load_eval_set
from policyqa import service
from policyqa.settings import Settings
from retrieval.tokenize import query_tokens


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "bench-laws" / "crowded-extcorpus+lawcorpus")
    p.add_argument("-n", type=int, default=150)
    args = p.parse_args()
    retriever = service.QAService(Settings(data_dir=args.data)).retriever
    lexical, groups, allowed = retriever.index.lexical, retriever.row_groups, retriever.allowed(None)
    questions = [x["question"] for x in load_eval_set(ROOT / "evals" / "seed.jsonl")][:args.n]
    tokens = [lexical.with_index_words(query_tokens(q), q) for q in questions]
    ways = {"plain": (None, None), "collections": (None, groups), "collections+filter": (allowed, groups)}
    print(f"{len(retriever.index.chunks)} chunks, {len(questions)} questions, "
          f"{'one collection' if groups is None else 'collections ordered apart'}, "
          f"{'all rows allowed' if allowed is None else f'{len(allowed)} rows allowed'}")
    for name, (rows, row_groups) in ways.items():
        for toks in tokens[:5]:  # warm up
            lexical.search(toks, 50, rows, row_groups)
        started = time.perf_counter()
        for _ in range(2):
            for toks in tokens:
                lexical.search(toks, 50, rows, row_groups)
        print(f"{name:<20} {(time.perf_counter() - started) / (2 * len(tokens)) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
