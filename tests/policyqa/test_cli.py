"""The `policyqa` command line as a subprocess, over the session's real index (built once in conftest)."""

from __future__ import annotations

import json
import re

import pytest
from helpers import RENHUAI

pytestmark = pytest.mark.slow

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"


@pytest.fixture(scope="module")
def env(real_index):
    """The CLI reads settings from the environment: point it at the session's index."""
    s = real_index.settings
    return {"POLICYQA_DATA_DIR": str(s.data_dir), "POLICYQA_CORPUS_DIR": str(s.corpus_dir),
            "POLICYQA_EMBEDDER": s.embedder}


def test_ask_json(run_cli, env):
    result = run_cli("ask", QUESTION, "--json", **env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"answer", "refused", "citations", "latency_ms"} <= set(data)
    assert data["refused"] is False
    assert "教研室" in data["answer"] and "基教股" in data["answer"]
    assert data["citations"][0]["doc_id"] == RENHUAI
    assert data["citations"][0]["clause_path"].startswith("三、任务分工")


def test_ask_text(run_cli, env):
    result = run_cli("ask", QUESTION, **env)
    assert result.returncode == 0, result.stderr
    assert "教研室" in result.stdout
    assert "Citations:" in result.stdout and "[1] 仁怀市品牌学校创建工作实施方案" in result.stdout


def test_search_json_and_text(run_cli, env):
    result = run_cli("search", QUESTION, "--json", "--top-k", "3", **env)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["results"]
    assert len(rows) == 3
    for row in rows:
        assert {"chunk_id", "doc_id", "clause_path", "score", "signals", "text"} <= set(row)
    assert rows[0]["chunk_id"] == f"{RENHUAI}#三.3"
    text = run_cli("search", QUESTION, "--top-k", "2", **env)
    assert text.returncode == 0
    assert text.stdout.startswith(f"1. {RENHUAI}#三.3")


def test_chunks_json_lines(run_cli, env, real_index):
    result = run_cli("chunks", "--json", **env)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == len(real_index.index.chunks)
    objects = [json.loads(line) for line in lines]
    for obj in objects:
        assert obj["chunk_id"] and obj["clause_path"] and obj["text"]
    assert [o["chunk_id"] for o in objects] == [c.chunk_id for c in real_index.index.chunks]


def test_eval_prints_metrics(run_cli, env, repo_root, tmp_path):
    out = tmp_path / "eval.json"
    reports = tmp_path / "reports"  # never the repository's own reports/ folder
    result = run_cli("eval", "evals/seed.jsonl", "-o", out, "--reports", reports, **env)
    assert result.returncode == 0, result.stderr
    values = {}
    for key in ("recall@1", "recall@5", "answer_hit"):
        m = re.search(rf"^\s*{re.escape(key)}\s+([0-9.]+)\s*$", result.stdout, re.M)
        assert m, f"{key} missing from:\n{result.stdout}"
        values[key] = float(m.group(1))
        assert 0.0 <= values[key] <= 1.0
    assert values["recall@1"] <= values["recall@5"]
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["summary"]["recall@1"] == values["recall@1"]
    assert saved["summary"]["n"] == len([line for line in (repo_root / "evals/seed.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()])
    assert list(reports.glob("*.html"))


def test_eval_rejects_a_broken_eval_file(run_cli, env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q", "answerable": true}\n{broken\n', encoding="utf-8")
    result = run_cli("eval", bad, "--reports", tmp_path / "reports", **env)
    assert result.returncode != 0
    assert f"{bad}:2" in result.stderr


def test_missing_index_is_a_clear_error(run_cli, tmp_path):
    result = run_cli("ask", QUESTION, POLICYQA_DATA_DIR=str(tmp_path / "empty"), POLICYQA_EMBEDDER="hashing")
    assert result.returncode == 1
    assert "policyqa ingest" in result.stderr
    assert "Traceback" not in result.stderr
