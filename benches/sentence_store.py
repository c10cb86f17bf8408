"""The answer step's sentences embedded with the index, against embedded when a question needs them (issue 13).

    .venv/bin/python -m benches.sentence_store [--data DIR] [--set evals/seed.jsonl ...] [--rounds 2]

A question whose clauses no earlier question read made the answer step embed their sentences with USE at
question time; every upload starts a new service, so after an upload every question was such a question.
answer/sentence_store.py embeds them when the index is built. This bench asks every question of the sets once
on a new service (its memory of sentences empty, as after a start or an upload), with the store and without it,
alternately for --rounds rounds, the query cache off; it reports the answer time (p50, mean), the time in the
query models, everything else, and whether the answers are the same. Without --data the seed corpus is ingested
into a temporary folder (the embedding cache in benches/.cache); with it, the folder's index is used and its
store written when missing. Writes benches/results/sentence-store.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from answer.sentence_store import open_store, sentence_model, update_store
from benches.common import ROOT, Ingested, git_state, log, machine_info, percentile
from benches.run import SEED_CORPUS, SEED_SET
from evals.run import load_eval_set
from policyqa.service import QAService, get_embedder, index_dir
from policyqa.settings import Settings
from retrieval.embedders import QueryCache, model_parts
from retrieval.index import read_contents


class QueryClock:
    """Time spent in the embedder's query calls (the search's question vectors)."""

    def __init__(self, embedder) -> None:
        self.seconds = 0.0
        original = embedder.embed_queries

        def timed(texts):
            started = time.perf_counter()
            try:
                return original(texts)
            finally:
                self.seconds += time.perf_counter() - started
        embedder.embed_queries = timed


def one_pass(settings: Settings, embedder, clock: QueryClock, questions: list[str], store: bool) -> dict:
    service = QAService(settings, embedder)
    if not store:
        service.composer.encoder.store = None
    times, answers = [], []
    clock.seconds = 0.0
    for question in questions:
        started = time.perf_counter()
        answers.append(service.ask(question).answer.answer)
        times.append((time.perf_counter() - started) * 1000)
    n = len(questions)
    return {"store": store, "answer_p50_ms": statistics.median(times), "answer_p95_ms": percentile(times, 95),
            "answer_mean_ms": sum(times) / n, "query_models_mean_ms": clock.seconds * 1000 / n,
            "rest_mean_ms": (sum(times) - clock.seconds * 1000) / n, "answers": answers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a data folder with an index (default: ingest corpus/)")
    parser.add_argument("--set", dest="sets", type=Path, nargs="+", default=[SEED_SET])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "sentence-store.json")
    args = parser.parse_args()

    ingested = None
    if args.data is None:
        embedder = get_embedder(Settings())
        ingested = Ingested([SEED_CORPUS], ROOT / "benches" / ".cache", embedder)
        settings = ingested.settings
    else:
        settings = Settings(data_dir=args.data)
        embedder = get_embedder(settings)
    for _, model, _ in model_parts(embedder):
        model.query_cache = QueryCache(0)  # off, as in the library and the uncached benches
    try:
        _, chunks = read_contents(index_dir(settings))
        model = sentence_model(embedder)
        store = open_store(settings.data_dir, model)
        store.vectors.clear()
        store.save()  # empty: the time to fill it is measured here
        started = time.perf_counter()
        filled = update_store(settings.data_dir, embedder, chunks)
        fill_s = time.perf_counter() - started
        log(f"store: {filled} sentences of {len(chunks)} chunks embedded in {fill_s:.1f} s")
        questions = [item["question"] for path in args.sets for item in load_eval_set(path)]
        clock = QueryClock(embedder)
        one_pass(settings, embedder, clock, questions[:5], True)  # models and jieba loaded before timing
        runs = []
        for r in range(args.rounds):
            for store_on in ((True, False) if r % 2 == 0 else (False, True)):
                run = one_pass(settings, embedder, clock, questions, store_on)
                log(f"round {r + 1}, store {'on ' if store_on else 'off'}: answer p50 {run['answer_p50_ms']:.1f} ms, "
                    f"mean {run['answer_mean_ms']:.1f} (query models {run['query_models_mean_ms']:.1f}, "
                    f"rest {run['rest_mean_ms']:.1f})")
                runs.append(run)
    finally:
        if ingested is not None:
            ingested.close()
    with_store = [r for r in runs if r["store"]]
    without = [r for r in runs if not r["store"]]
    same = sum(a == b for a, b in zip(with_store[0]["answers"], without[0]["answers"], strict=True))

    def mean(rs: list[dict], key: str) -> float:
        return round(sum(r[key] for r in rs) / len(rs), 2)

    summary = {name: {key: mean(rs, key) for key in ("answer_p50_ms", "answer_p95_ms", "answer_mean_ms",
                                                    "query_models_mean_ms", "rest_mean_ms")}
               for name, rs in (("with_store", with_store), ("without_store", without))}
    result = {"machine": machine_info(), "git": git_state(), "sets": [str(p) for p in args.sets],
              "questions": len(questions), "chunks": len(chunks), "store_sentences": filled,
              "store_fill_s": round(fill_s, 2), "same_answers": same, **summary,
              "runs": [{k: v for k, v in r.items() if k != "answers"} for r in runs]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "machine", "git")}, ensure_ascii=False,
                     indent=2))


if __name__ == "__main__":
    main()
