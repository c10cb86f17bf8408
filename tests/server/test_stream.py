"""POST /api/ask as server-sent events: citations, delta pieces that join to the answer, done."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.streaming import pieces

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"


def parse_sse(text: str) -> list[tuple[str, object]]:
    """(event, data) pairs; data parsed as JSON."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        events.append((event, json.loads("\n".join(data))))
    return events


@pytest.fixture(scope="module")
def client(real_index):
    with TestClient(create_app(real_index)) as c:
        yield c


@pytest.mark.parametrize("text", [
    "“实施特色创新课程构建工程”由教研室牵头,基教股协助[1]。",
    "According to 仁怀市品牌学校创建工作实施方案 (三、任务分工): “教研室” [1]. Also [2].",
    "", "a", "到2025年底,全县建成县级劳动教育实践基地7个[1]。\n第二行",
])
def test_pieces_join_back_and_stay_small(text):
    parts = pieces(text)
    assert "".join(parts) == text
    assert all(parts) and all(len(p) <= 12 for p in parts)
    if len(text) > 20:
        assert len(parts) >= 5


def check_stream(r, expected: dict) -> None:
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    events = parse_sse(r.text)
    names = [e for e, _ in events]
    assert names[0] == "citations" and names[-1] == "done"
    assert set(names[1:-1]) == {"delta"} and len(names) > 4
    citations = events[0][1]
    assert [c["chunk_id"] for c in citations] == [c["chunk_id"] for c in expected["citations"]]
    assert citations == expected["citations"]
    answer = "".join(data["text"] for e, data in events if e == "delta")
    assert answer == expected["answer"]
    done = events[-1][1]
    assert set(done) == {"refused", "latency_ms", "approved", "log_id", "resolved_question"}  # log_id: for feedback
    assert done["refused"] is expected["refused"] and done["latency_ms"] >= 0


@pytest.mark.slow
def test_stream_in_body_matches_the_plain_answer(client):
    plain = client.post("/api/ask", json={"question": QUESTION}).json()
    assert "教研室" in plain["answer"]
    with client.stream("POST", "/api/ask", json={"question": QUESTION, "stream": True}) as r:
        r.read()
        check_stream(r, plain)


@pytest.mark.slow
def test_stream_by_accept_header(client):
    plain = client.post("/api/ask", json={"question": QUESTION, "top_k": 3}).json()
    r = client.post("/api/ask", json={"question": QUESTION, "top_k": 3},
                    headers={"Accept": "text/event-stream"})
    check_stream(r, plain)


@pytest.mark.slow
def test_stream_of_a_refusal(client):
    question = "2024年高考分数线是多少?"
    plain = client.post("/api/ask", json={"question": question}).json()
    assert plain["refused"] is True
    r = client.post("/api/ask", json={"question": question, "stream": True})
    check_stream(r, plain)


@pytest.mark.slow
def test_plain_answer_unchanged_by_the_stream_field(client):
    r = client.post("/api/ask", json={"question": QUESTION, "stream": False})
    assert r.headers["content-type"].startswith("application/json")
    assert set(r.json()) == {"answer", "refused", "citations", "latency_ms", "answerability", "approved", "log_id",
                             "resolved_question"}


def test_stream_without_index_is_a_plain_503():
    with TestClient(create_app(None)) as c:
        r = c.post("/api/ask", json={"question": QUESTION, "stream": True})
        assert r.status_code == 503 and "ingest" in r.json()["detail"]
