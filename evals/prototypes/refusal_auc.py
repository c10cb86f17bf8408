"""Measurement (2026-12-01; evals/README.md "Why refusal recall stays low"): per question kind (asks for a value,
yes/no, other), how well each refusal feature separates the unanswerable items of the real dev sets from the
answerable ones, as AUC (0.5: no signal). Searches every item as the service does (evals.fit.collect).

    .venv/bin/python evals/prototypes/refusal_auc.py
"""
from pathlib import Path

import numpy as np

from answer.compose import Composer
from answer.refusal import ALWAYS_ANSWER, FEATURES
from answer.sentences import default_weights
from evals.fit import collect, feature_matrix, log
from policyqa import service
from policyqa.settings import Settings

SETS = [Path(f"evals/realq-dev{s}.jsonl") for s in ["", *map(str, range(2, 14))]]


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def main() -> None:
    settings = Settings()
    items = collect(SETS, settings, log)
    encoder = service.sentence_encoder(service.get_embedder(settings))
    x = feature_matrix(items, Composer(encoder=encoder, refusal=ALWAYS_ANSWER, weights=default_weights()))
    y = np.array([1 if it.raw["answerable"] else 0 for it in items])
    kind = np.array(["value" if it.q.required_kinds else "polar" if it.q.polar else "other" for it in items])
    kinds = ("value", "polar", "other")
    print("items / unanswerable:", {k: (int((kind == k).sum()), int(((kind == k) & (y == 0)).sum())) for k in kinds})
    for i, name in enumerate(FEATURES):
        print(f"{name:16}", " ".join(f"{k} {auc(x[kind == k, i], y[kind == k]):.2f}" for k in kinds),
              f"all {auc(x[:, i], y):.2f}")


if __name__ == "__main__":
    main()
