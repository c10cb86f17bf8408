"""Approved answers: POST/GET/DELETE /api/curated, served to a question that means the same with
`"approved": true`, never served once a cited clause is deleted or changed (flagged stale instead)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from helpers import RENHUAI, make_settings
from uploading import LABOUR_DOC, LABOUR_ID, LABOUR_META, LABOUR_NAME, local_client, poll, upload

from server.app import create_app

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
APPROVED = "特色创新课程构建工程由教研室牵头,基教股配合[1]。"
LABOUR_CLAUSE = "全县建成县级劳动教育实践基地7个"
LABOUR_ASK = "青溪县要建成几个县级劳动教育实践基地?"


def chunk_holding(client, query: str, text: str) -> str:
    hits = client.post("/api/search", json={"query": query, "top_k": 20}).json()["results"]
    return next(h["chunk_id"] for h in hits if text in h["text"].replace("\n", ""))


def test_approve_serve_list_delete(local):
    chunk = chunk_holding(local, QUESTION, "实施特色创新课程构建工程")
    assert chunk.startswith(RENHUAI)
    r = local.post("/api/curated", json={"question": QUESTION, "answer": APPROVED, "citations": [chunk],
                                         "source": "feedback"})
    assert r.status_code == 201
    entry_id = r.json()["id"]

    body = local.post("/api/ask", json={"question": QUESTION}).json()
    assert body["approved"] is True and body["refused"] is False and body["answer"] == APPROVED
    assert [c["chunk_id"] for c in body["citations"]] == [chunk]
    c = body["citations"][0]
    assert c["n"] == 1 and c["doc_id"] == RENHUAI and "教研室" in c["text"]  # the clause as indexed now
    # marked approved in the log and in the OpenAI answer too
    row = next(e for e in local.get("/api/log").json()["entries"] if e["id"] == body["log_id"])
    assert row["approved"] is True
    chat = local.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}).json()
    assert chat["approved"] is True and chat["choices"][0]["message"]["content"].startswith(APPROVED)
    # with filters the documents answer (the approved answer was approved for the whole index)
    filtered = local.post("/api/ask", json={"question": QUESTION, "filters": {"doc_ids": [RENHUAI]}}).json()
    assert filtered["approved"] is False

    listed = local.get("/api/curated").json()
    assert listed == [{"id": entry_id, "question": QUESTION, "answer": APPROVED, "citations": [chunk],
                       "source": "feedback", "created_at": listed[0]["created_at"], "stale": False, "reason": ""}]

    assert local.delete(f"/api/curated/{entry_id}").status_code == 204
    assert local.get("/api/curated").json() == []
    assert local.post("/api/ask", json={"question": QUESTION}).json()["approved"] is False
    r = local.delete(f"/api/curated/{entry_id}")
    assert r.status_code == 404 and "GET /api/curated" in r.json()["detail"]


def test_approved_answers_survive_a_restart(hashing_app):
    with local_client(hashing_app) as c:
        chunk = chunk_holding(c, QUESTION, "实施特色创新课程构建工程")
        c.post("/api/curated", json={"question": QUESTION, "answer": APPROVED, "citations": [chunk]})
    again = create_app(hashing_app.state.service, hashing_app.state.settings)
    with local_client(again) as c:
        assert c.post("/api/ask", json={"question": QUESTION}).json()["approved"] is True


def test_bad_requests(local, hashing_app):
    r = local.post("/api/curated", json={"question": QUESTION, "answer": APPROVED, "citations": ["no-such#1"]})
    assert r.status_code == 422 and "no-such#1" in r.json()["detail"] and "chunk_id" in r.json()["detail"]
    assert local.post("/api/curated", json={"question": QUESTION, "answer": APPROVED,
                                            "citations": []}).status_code == 422
    assert local.post("/api/curated", json={"question": " ", "answer": "a", "citations": ["x"]}).status_code == 422
    remote = TestClient(hashing_app, client=("203.0.113.9", 4000))  # not this machine, no key set
    assert remote.post("/api/curated", json={"question": QUESTION, "answer": "a",
                                             "citations": ["x"]}).status_code == 403
    assert remote.get("/api/curated").status_code == 403
    assert remote.delete("/api/curated/x").status_code == 403


def test_changed_or_deleted_clause_makes_it_stale(local):
    job = poll(local, upload(local, LABOUR_NAME, LABOUR_DOC.encode(), LABOUR_META).json()["job_id"])
    assert job["status"] == "done", job
    chunk = chunk_holding(local, LABOUR_ASK, LABOUR_CLAUSE)
    entry_id = local.post("/api/curated", json={"question": LABOUR_ASK, "answer": "7个[1]。",
                                                "citations": [chunk]}).json()["id"]
    assert local.post("/api/ask", json={"question": LABOUR_ASK}).json()["approved"] is True

    # a new version of the document changes the cited clause: flagged, and the documents answer instead
    changed = LABOUR_DOC.replace(LABOUR_CLAUSE, LABOUR_CLAUSE.replace("7个", "9个"))
    assert changed != LABOUR_DOC
    job = poll(local, upload(local, LABOUR_NAME, changed.encode(), LABOUR_META).json()["job_id"])
    assert job["status"] == "done", job
    entry = next(e for e in local.get("/api/curated").json() if e["id"] == entry_id)
    assert entry["stale"] is True and f"{chunk} has changed since the answer was approved" in entry["reason"]
    body = local.post("/api/ask", json={"question": LABOUR_ASK}).json()
    assert body["approved"] is False and body["answer"] != "7个[1]。"

    job = poll(local, local.delete(f"/api/documents/{LABOUR_ID}").json()["job_id"])
    assert job["status"] == "done", job
    entry = next(e for e in local.get("/api/curated").json() if e["id"] == entry_id)
    assert entry["stale"] is True and "no longer in the index" in entry["reason"]
    assert local.post("/api/ask", json={"question": LABOUR_ASK}).json()["approved"] is False


# -- with the real model: what counts as the same question -------------------------------------------


@pytest.fixture(scope="module")
def real_app(real_index, tmp_path_factory):
    """The real index, with the curated store and log in a data dir of their own (not the shared index's)."""
    settings = make_settings(data_dir=tmp_path_factory.mktemp("curated_real"), corpus_dir=real_index.settings.corpus_dir)
    return create_app(real_index, settings)


@pytest.mark.slow
def test_same_question_reworded_gets_it_another_question_does_not(real_app):
    with local_client(real_app) as c:
        first = c.post("/api/ask", json={"question": QUESTION}).json()
        assert first["approved"] is False and "教研室" in first["answer"]
        chunk = first["citations"][0]["chunk_id"]
        assert c.post("/api/curated", json={"question": QUESTION, "answer": APPROVED,
                                            "citations": [chunk]}).status_code == 201
        # retyped without its question mark, in traditional script, with a greeting: the same question
        for same in (QUESTION.rstrip("?"), "请问" + QUESTION, "哪個股室牽頭實施特色創新課程構建工程？"):
            body = c.post("/api/ask", json={"question": same}).json()
            assert body["approved"] is True and body["answer"] == APPROVED, same
        # another task of the same table, and who assists: the documents answer
        other = c.post("/api/ask", json={"question": "哪个股室牵头实施平安校园保障工程?"}).json()
        assert other["approved"] is False and "法规安全股" in other["answer"]
        assisting = c.post("/api/ask", json={"question": "特色创新课程构建工程由哪个股室配合?"}).json()
        assert assisting["approved"] is False
