"""Follow-up questions over HTTP: /api/ask's `history` and /v1/chat/completions' earlier messages, on the real
index (the renhuai plan's task table: 教研室 leads the curriculum project, 基教股 assists)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.app import create_app

LEAD = "哪个股室牵头实施特色创新课程构建工程?"
TURNS = [{"role": "user", "content": LEAD}, {"role": "assistant", "content": "教研室牵头[1]。"}]


@pytest.fixture(scope="module")
def client(real_index):
    with TestClient(create_app(real_index)) as c:
        yield c


@pytest.mark.slow
def test_ask_with_history_answers_the_followup(client):
    body = client.post("/api/ask", json={"question": "那协助的呢?", "history": TURNS}).json()
    assert not body["refused"] and "基教股" in body["answer"]
    assert "特色创新课程构建工程" in body["resolved_question"]
    assert any("特色创新课程构建工程" in c["text"] for c in body["citations"])


@pytest.mark.slow
def test_a_new_topic_is_not_rewritten(client):
    body = client.post("/api/ask", json={"question": "平安校园保障工程谁牵头?", "history": TURNS}).json()
    assert body["resolved_question"] is None and "法规安全股" in body["answer"]
    assert client.post("/api/ask", json={"question": LEAD}).json()["resolved_question"] is None


@pytest.mark.slow
def test_stream_done_event_carries_the_resolved_question(client):
    r = client.post("/api/ask", json={"question": "那协助的呢?", "history": TURNS, "stream": True})
    done = r.text.split("event: done")[1]
    assert "特色创新课程构建工程" in done


@pytest.mark.slow
def test_chat_completions_reads_the_earlier_messages(client):
    messages = [*TURNS, {"role": "user", "content": "那协助的呢?"}]
    body = client.post("/v1/chat/completions", json={"model": "policyqa", "messages": messages}).json()
    assert "基教股" in body["choices"][0]["message"]["content"]
    assert "特色创新课程构建工程" in body["resolved_question"]


@pytest.mark.slow
def test_history_limits_are_422_with_the_reason(client):
    too_long = [{"role": "user", "content": "问题"}] * 21
    r = client.post("/api/ask", json={"question": "那协助的呢?", "history": too_long})
    assert r.status_code == 422 and "20" in r.text
    r = client.post("/api/ask", json={"question": "那协助的呢?", "history": [{"role": "system", "content": "x"}]})
    assert r.status_code == 422 and "user" in r.text
