"""The answer step's own time, with the refusal model's inputs as it reads them and with every candidate input.

    .venv/bin/python -m benches.answer_step --data DIR [--set evals/realq-dev*.jsonl] [--rounds 2]

Every question of the sets is searched once as the service searches (analysis, filters, answer_depth clauses);
then, in one process and alternating for --rounds rounds, the answer step (`answer.generate`, extractive) is
timed alone over those results: "model's features" computes only what the shipped refusal model reads (what
the service does), "every feature" all of answer.refusal.FEATURES (what it did before 2026-12-02, and what
evals/fit.py computes to choose among them). Prints the mean and p50 per condition and whether the answers are
the same; nothing is written.
"""

from __future__ import annotations

import statistics
import time

import answer.compose as compose
from answer.refusal import features
from benches.common import timing_arguments
from evals.run import load_eval_set
from policyqa.service import QAService
from policyqa.settings import Settings


def every_feature(q, hits, ranked, corpus_text, wanted=None):
    return features(q, hits, ranked, corpus_text)


def main() -> None:
    args = timing_arguments(__doc__, rounds=2)

    service = QAService(Settings(data_dir=args.data))
    questions = [item["question"] for path in args.sets for item in load_eval_set(path)]
    searched = []
    for text in questions:
        q = service.analyse(text)
        searched.append((q, service.search(q, service.settings.answer_depth)))
    conditions = {"model's features": features, "every feature": every_feature}
    answers: dict[str, list[str]] = {}
    for r in range(args.rounds + 1):  # round 0 warms the sentence vectors and jieba; not reported
        for name in (list(conditions) if r % 2 else list(conditions)[::-1]):
            compose.features = conditions[name]
            times, texts = [], []
            for q, hits in searched:
                started = time.perf_counter()
                texts.append(service.generator.generate(q, hits, service.index.documents, service.composer).answer)
                times.append((time.perf_counter() - started) * 1000)
            answers[name] = texts
            if r:
                print(f"round {r}, {name}: mean {sum(times) / len(times):.2f} ms, p50 {statistics.median(times):.2f} ms")
    compose.features = features
    same = sum(a == b for a, b in zip(*answers.values(), strict=True))
    print(f"{len(questions)} questions; the same answer for {same}")


if __name__ == "__main__":
    main()
