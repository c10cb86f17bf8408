"""POST /api/feedback: validated, appended as one JSON line each, readable by evals/feedback.py."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from helpers import RENHUAI, make_settings

from evals.feedback import drafts_from_feedback, read_feedback
from server.app import create_app
from server.feedback import FeedbackLog

CITATION = {"n": 1, "chunk_id": f"{RENHUAI}#三.3", "doc_id": RENHUAI, "doc_title": "仁怀市品牌学校创建工作实施方案",
            "doc_number": "仁教字〔2017〕17号", "issuer": "仁怀市教育局", "date": "2017-05-15",
            "clause_path": "三、任务分工 › 3 实施特色创新课程构建工程", "text": "3\n实施特色创新课程构建工程\n教研室\n基教股",
            "score": 0.02, "start": 1830, "end": 1852, "page": None}


@pytest.fixture
def app(tmp_path, corpus_dir):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing")
    return create_app(None, settings)


def lines(app) -> list[str]:
    return (app.state.settings.data_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()


def test_feedback_lines_are_appended_as_json(app):
    with TestClient(app) as c:
        r = c.post("/api/feedback", json={"question": "哪个股室牵头实施特色创新课程构建工程?",
                                          "answer": "“实施特色创新课程构建工程”由教研室牵头,基教股协助[1]。",
                                          "rating": "up", "citations": [CITATION], "refused": False})
        assert r.status_code == 201 and r.json()["ok"] is True
        r = c.post("/api/feedback", json={"question": "2024年高考分数线是多少?", "answer": "文件中没有找到能回答这个问题的依据。",
                                          "rating": "down", "comment": "应该说明这不在文件范围内", "refused": True})
        assert r.status_code == 201
    rows = [json.loads(line) for line in lines(app)]
    assert len(rows) == 2
    first, second = rows
    assert first["rating"] == "up" and first["refused"] is False and first["comment"] == ""
    assert first["citations"] == [{"n": 1, "doc_id": RENHUAI, "chunk_id": f"{RENHUAI}#三.3",
                                   "doc_title": CITATION["doc_title"],
                                   "clause_path": CITATION["clause_path"]}]
    assert second["comment"] == "应该说明这不在文件范围内" and second["citations"] == []
    assert all(r["at"].endswith("Z") for r in rows)
    assert "仁怀市" in lines(app)[0]  # UTF-8, not \\u escapes
    # The eval tooling reads them back.
    feedback_file = app.state.settings.data_dir / "feedback.jsonl"
    assert len(read_feedback(feedback_file)) == 2
    drafts = drafts_from_feedback(feedback_file)
    assert [d["question"] for d in drafts] == ["2024年高考分数线是多少?"]


@pytest.mark.parametrize("body", [
    {"question": "q", "answer": "a", "rating": "meh"},
    {"question": "", "answer": "a", "rating": "up"},
    {"answer": "a", "rating": "up"},
    {"question": "q" * 2001, "answer": "a", "rating": "up"},
    {"question": "q", "answer": "a", "rating": "up", "comment": "c" * 2001},
    {"question": "q", "answer": "a", "rating": "up", "citations": [{"n": 1}]},
    {"question": "q", "answer": "a", "rating": "up", "citations": [{"doc_id": "d"}] * 51},
    {"question": "q", "answer": "a", "rating": "up", "citations": [{"doc_id": "d" * 201}]},
])
def test_bad_feedback_is_422_and_not_written(app, body):
    with TestClient(app) as c:
        assert c.post("/api/feedback", json=body).status_code == 422
    assert not (app.state.settings.data_dir / "feedback.jsonl").exists()


def test_concurrent_appends_stay_whole_lines(tmp_path):
    log = FeedbackLog(tmp_path / "fb" / "feedback.jsonl")
    records = [{"question": f"问题{i}", "answer": "答" * 500, "rating": "up", "n": i} for i in range(200)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(log.append, records))
    rows = [json.loads(line) for line in log.path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["n"] for r in rows) == list(range(200))


def test_append_after_a_torn_line_starts_a_new_line(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"question": "a", "rating": "up"}\n{"question": "torn', encoding="utf-8")
    FeedbackLog(path).append({"question": "b", "rating": "down"})
    rows = read_feedback(path)
    assert [r["question"] for r in rows] == ["a", "b"]
