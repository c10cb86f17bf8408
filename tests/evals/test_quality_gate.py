"""The quality gate: the gated eval sets must stay at or above evals/thresholds.json.

Runs the real models over each set, every set over its own corpus (as `policyqa eval` does). The
real-question holdout is never gated: it is run once per release (evals/README.md).
"""

import json
from pathlib import Path

import pytest
from helpers import EXTCORPUS, LAWCORPUS

from evals.run import LocalSystem, check_gate, load_eval_set, run_eval
from evals.session import set_corpora

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = json.loads((ROOT / "evals/thresholds.json").read_text(encoding="utf-8"))


def test_check_gate_reports_each_violation():
    bounds = {"recall@5": {"min": 0.9}, "false_refusal_rate": {"max": 0.05}}
    assert check_gate({"recall@5": 0.95, "false_refusal_rate": 0.01}, bounds) == []
    failures = check_gate({"recall@5": 0.5, "false_refusal_rate": 0.2}, bounds)
    assert failures == ["recall@5 0.5 < 0.9", "false_refusal_rate 0.2 > 0.05"]


def test_the_held_out_set_is_not_gated():
    assert not [name for name in THRESHOLDS if "holdout" in name and name.startswith("realq")]


@pytest.mark.slow
@pytest.mark.parametrize("set_name", [name for name in THRESHOLDS if not name.startswith("_")])
def test_eval_set_meets_recorded_thresholds(set_name, request):
    set_path = ROOT / "evals" / set_name
    corpus = tuple(set_corpora(set_path))
    fixture = {((ROOT / "corpus").resolve(),): "real_index", (EXTCORPUS.resolve(),): "ext_index",
               (EXTCORPUS.resolve(), LAWCORPUS.resolve()): "law_index"}.get(corpus)
    qa = request.getfixturevalue(fixture) if fixture else None
    assert qa is not None, f"{set_name}: no test index for its corpus {corpus}"
    summary = run_eval(LocalSystem(qa), load_eval_set(set_path))["summary"]
    assert check_gate(summary, THRESHOLDS[set_name]) == [], summary
