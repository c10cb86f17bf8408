"""What the admin console reads and writes beyond the widget's API: the console page and its headers, the
documents' ingest results (version, removed lines, clause tree), the hit test (/api/search with explain),
the feedback list, feedback turned into draft eval items, and the newest eval report."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from helpers import BEIJING, RENHUAI, make_settings
from uploading import LABOUR_DOC, LABOUR_ID, LABOUR_NAME, local_client, poll, upload

from policyqa import service
from policyqa.service import QAService
from server.app import create_app

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
REMOTE = ("203.0.113.9", 40000)


@pytest.fixture(scope="module")
def app(tmp_path_factory, corpus_dir):
    """The corpus indexed with the hashing embedder; reports in a folder of the test's own."""
    tmp = tmp_path_factory.mktemp("admin")
    settings = make_settings(data_dir=tmp / "data", corpus_dir=corpus_dir, embedder="hashing",
                             reports_dir=tmp / "reports")
    embedder = service.get_embedder(settings)
    assert service.ingest(settings, [corpus_dir], embedder).report.ok
    return create_app(QAService(settings, embedder))


@pytest.fixture(scope="module")
def local(app):
    with local_client(app) as c:
        yield c


def test_console_page_is_served_with_the_widget_csp_and_not_framed(local):
    r = local.get("/admin")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'src="/static/admin.js"' in r.text and "/static/admin.css" in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    for name in ("admin.js", "admin.css"):
        assert local.get(f"/static/{name}").status_code == 200
    assert "/admin" not in local.get("/openapi.json").json()["paths"]


def test_documents_carry_their_ingest_result(local):
    docs = {d["doc_id"]: d for d in local.get("/api/documents").json()}
    beijing = docs[BEIJING]
    assert beijing["removed"] == {"page_list": 12, "download_share": 1, "copyright": 3}
    assert beijing["source"] == "corpus/beijing-school-management-standards.txt"
    assert beijing["uploaded"] is False and beijing["lifecycle"] == "in force" and beijing["read_method"] == "read"
    assert len(beijing["version"]) == 10 and int(beijing["version"], 16) >= 0  # the content hash

    doc = local.get(f"/api/documents/{BEIJING}").json()
    assert len(doc["removed_lines"]) == 16
    assert {r["kind"] for r in doc["removed_lines"]} == {"page_list", "download_share", "copyright"}
    assert all(r["line"] and r["line"] not in doc["text"] for r in doc["removed_lines"])
    renhuai = local.get(f"/api/documents/{RENHUAI}").json()
    clauses = {c["clause_id"]: c for c in renhuai["clauses"]}
    child = clauses[f"{RENHUAI}#四.(三)"]
    parent = clauses[child["parent_id"]]
    assert parent["clause_id"] == f"{RENHUAI}#四" and parent["level"] < child["level"]
    assert child["number"] == "(三)" and "特色创新课程" in child["heading"]


def test_an_uploaded_document_is_marked_and_its_new_version_changes_the_version(local):
    r = upload(local, LABOUR_NAME, LABOUR_DOC.encode())
    assert poll(local, r.json()["job_id"])["status"] == "done"
    first = next(d for d in local.get("/api/documents").json() if d["doc_id"] == LABOUR_ID)
    assert first["uploaded"] is True and first["source"] == f"uploads/{LABOUR_NAME}"
    r = upload(local, LABOUR_NAME, (LABOUR_DOC + "\n五、附则\n\n本方案自印发之日起施行。\n").encode())
    assert poll(local, r.json()["job_id"])["status"] == "done"
    second = next(d for d in local.get("/api/documents").json() if d["doc_id"] == LABOUR_ID)
    assert second["version"] != first["version"]
    assert "本方案自印发之日起施行" in local.get(f"/api/documents/{LABOUR_ID}").json()["text"]


def test_hit_test_gives_signals_similarities_and_the_refusal_score(local):
    plain = local.post("/api/search", json={"query": QUESTION, "top_k": 4}).json()
    assert set(plain) == {"results"}
    assert set(plain["results"][0]) == {"chunk_id", "doc_id", "doc_title", "clause_path", "text", "score", "signals"}

    body = local.post("/api/search", json={"query": QUESTION, "top_k": 4, "explain": True}).json()
    assert set(body) == {"results", "answerability", "threshold", "refused"}
    asked = local.post("/api/ask", json={"question": QUESTION, "top_k": 4}).json()
    assert body["answerability"] == asked["answerability"] and body["refused"] == asked["refused"]
    assert 0 < body["threshold"] < 1 and body["refused"] == (body["answerability"] < body["threshold"])
    assert {c["chunk_id"] for c in asked["citations"]} <= {h["chunk_id"] for h in body["results"]}
    for hit in body["results"]:
        assert hit["signals"] and all(rank >= 1 for rank in hit["signals"].values())
        assert set(hit["similarities"]) and all(-1 <= v <= 1 for v in hit["similarities"].values())
    scores = [h["score"] for h in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert local.post("/api/search", json={"query": QUESTION, "explain": 1}).status_code == 422


def feedback(client, question: str, rating: str, **extra) -> None:
    r = client.post("/api/feedback", json={"question": question, "answer": "答案", "rating": rating} | extra)
    assert r.status_code == 201, r.text


def test_feedback_list_and_draft_eval_items(app, local):
    feedback(local, QUESTION, "down", reason="不完整", comment="应当写出协助股室",
             citations=[{"doc_id": RENHUAI, "chunk_id": f"{RENHUAI}#三.3"}])
    feedback(local, "Who leads the brand project?", "up")
    assert local.post("/api/feedback", json={"question": "q", "answer": "a", "rating": "down",
                                             "reason": "太长"}).status_code == 422
    rows = local.get("/api/feedback").json()
    assert [r["question"] for r in rows[:2]] == ["Who leads the brand project?", QUESTION]  # newest first
    down = rows[1]
    assert down["reason"] == "不完整" and down["comment"] == "应当写出协助股室" and len(down["id"]) == 12
    assert [r["id"] for r in local.get("/api/feedback?rating=down").json()] == [down["id"]]
    assert local.get("/api/feedback").json()[1]["id"] == down["id"]  # ids are stable

    r = local.post("/api/eval/drafts", json={"feedback_id": down["id"]})
    assert r.status_code == 201
    draft = r.json()
    assert draft["question"] == QUESTION and draft["language"] == "zh" and draft["answerable"] is None
    assert draft["doc_ids"] == [RENHUAI] and draft["evidence"] == [] and draft["answer_terms"] == []
    assert draft["tags"] == ["from-feedback"] and draft["id"].startswith("fb-")
    assert draft["review"]["reason"] == "不完整" and draft["review"]["comment"] == "应当写出协助股室"
    again = local.post("/api/eval/drafts", json={"feedback_id": down["id"]})
    assert again.status_code == 200 and again.json()["id"] == draft["id"]  # not appended twice
    lines = (app.state.settings.data_dir / "eval-drafts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [draft["id"]]
    assert local.get("/api/eval/drafts").json() == [draft]
    assert local.post("/api/eval/drafts", json={"feedback_id": "nope"}).status_code == 404


def test_eval_report_is_the_newest_one(app, local):
    folder = app.state.settings.reports_dir
    assert local.get("/api/eval/report").status_code == 404
    folder.mkdir(parents=True, exist_ok=True)
    for stamp, name, hit in (("20250101-100000", "seed", 0.8), ("20250102-100000", "seed", 0.9),
                             ("20250101-110000", "extcorpus", 0.7)):
        payload = {"set": f"evals/{name}.jsonl", "created": stamp, "results": [
            {"system": "hybrid", "answers": True, "summary": {"n": 10, "answer_hit": hit},
             "by_group": {"language:en": {"n": 2, "answer_hit": 0.5}}, "rows": []}]}
        (folder / f"{stamp}-{name}.json").write_text(json.dumps(payload), encoding="utf-8")
    (folder / "20250102-100000-seed.html").write_text("<html></html>", encoding="utf-8")
    body = local.get("/api/eval/report").json()
    latest = body["latest"]
    assert (latest["set"], latest["created"], latest["html"]) == ("seed.jsonl", "20250102-100000",
                                                                  "20250102-100000-seed.html")
    assert latest["results"][0]["summary"]["answer_hit"] == 0.9
    assert latest["results"][0]["by_group"]["language:en"]["n"] == 2
    assert [(s["set"], s["summary"]["answer_hit"]) for s in body["sets"]] == [("seed.jsonl", 0.9),
                                                                             ("extcorpus.jsonl", 0.7)]


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/feedback", None), ("GET", "/api/eval/drafts", None), ("GET", "/api/eval/report", None),
    ("POST", "/api/eval/drafts", {"feedback_id": "x"}),
])
def test_console_endpoints_need_the_key_or_this_machine(app, method, path, body):
    with TestClient(app, client=REMOTE, base_url="http://127.0.0.1") as remote:
        assert remote.request(method, path, json=body).status_code == 403
    keyed = create_app(app.state.service, app.state.settings.model_copy(update={"api_key": "s3cret"}))
    with local_client(keyed) as c:
        assert c.request(method, path, json=body).status_code == 401
        r = c.request(method, path, json=body, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code not in (401, 403)
