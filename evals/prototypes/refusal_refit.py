"""The refusal model refitted on every single-turn dev set with the sentence weights held at the shipped ones
(evals.fit without its weight grid), with leave-one-set-out figures next to the shipped model's.

    .venv/bin/python -m evals.prototypes.refusal_refit evals/seed.jsonl ... -o benches/results/refusal-refit.json

For each left-out set: features chosen by evals.fit's forward selection on the other sets, the model fitted
on them (threshold: at most 5% false refusals on each training set), the left-out set answered with it. The
shipped model (answer/data/refusal_model.json) is answered on the same searches for comparison. A prototype:
nothing here changes the service.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from answer.compose import Composer
from answer.refusal import ALWAYS_ANSWER, default_model
from answer.sentences import default_weights
from evals.fit import answered_hits, evaluate, feature_matrix, fit_model, log, searched_dev_sets, select_features


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=Path("benches/results/refusal-refit.json"))
    args = parser.parse_args(argv)
    items, encoder = searched_dev_sets(args.sets)
    weights = default_weights()
    composer = Composer(encoder, weights, ALWAYS_ANSWER)
    x = feature_matrix(items, composer)
    hits = answered_hits(items, composer)
    shipped = Composer(encoder, weights, default_model())
    report: dict = {"command": "python -m evals.prototypes.refusal_refit " + " ".join(map(str, args.sets)),
                    "weights": "shipped (answer/data/answer_weights.json)", "sets": {}}
    names = sorted({it.set_name for it in items})
    for left in names:
        train = [i for i, it in enumerate(items) if it.set_name != left]
        test = [it for it in items if it.set_name == left]
        train_items = [items[i] for i in train]
        chosen = select_features(train_items, x[train], [hits[i] for i in train], log)
        model = fit_model(train_items, x[train], f"fitted without {left}", chosen)
        refit = evaluate(test, Composer(encoder, weights, model))
        before = evaluate(test, shipped)
        report["sets"][left] = {"shipped": before, "refit": refit, "features": chosen}
        log(f"{left}: shipped {before} | refit {refit} {chosen}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
