"""`policyqa eval --compare naive`: the naive LangChain baseline (evals/naive.py) next to hybrid search, on
the seed set over the session's real index; retrieval figures only for the baseline."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(real_index):
    s = real_index.settings
    return {"POLICYQA_DATA_DIR": str(s.data_dir), "POLICYQA_CORPUS_DIR": str(s.corpus_dir),
            "POLICYQA_EMBEDDER": s.embedder}


def column(stdout: str, metric: str) -> list[str]:
    m = re.search(rf"^\s*{re.escape(metric)}\s+(.+)$", stdout, re.M)
    assert m, f"{metric} missing from:\n{stdout}"
    return m.group(1).split()


def test_compare_naive_and_hybrid(run_cli, env, tmp_path):
    reports = tmp_path / "reports"
    result = run_cli("eval", "evals/seed.jsonl", "--compare", "naive", "--compare", "hybrid",
                     "--reports", reports, timeout=900, **env)
    assert result.returncode == 0, result.stderr
    assert column(result.stdout, "metric") == ["naive", "hybrid"]
    naive_r1, hybrid_r1 = map(float, column(result.stdout, "recall@1"))
    assert 0 < naive_r1 < hybrid_r1
    # the baseline only retrieves: its answer figures are n/a, not zero
    assert column(result.stdout, "answer_hit")[0] == "None"
    assert float(column(result.stdout, "answer_hit")[1]) > 0
    saved = json.loads(next(reports.glob("*.json")).read_text(encoding="utf-8"))
    naive, hybrid = saved["results"]
    assert (naive["system"], naive["answers"], hybrid["answers"]) == ("naive", False, True)
    assert naive["summary"]["recall@5"] > 0 and naive["summary"]["refusal_recall"] is None
    assert all(r["answer"].startswith("n/a") and r["citations"] == [] for r in naive["rows"])
    assert list(reports.glob("*.html"))


def test_unknown_configuration_lists_naive(run_cli, env, tmp_path):
    result = run_cli("eval", "evals/seed.jsonl", "--compare", "fuzzy", "--reports", tmp_path / "r", **env)
    assert result.returncode != 0
    assert "naive" in result.stderr
