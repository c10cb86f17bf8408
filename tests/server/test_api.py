"""The HTTP API over the real index (FastAPI TestClient), and its behaviour without an index."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from helpers import DOC_IDS, RENHUAI

from server.app import create_app

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
# "page" (PDF sources) extends the list; null for text sources. A law's version (status,
# version_date, newer_version) is null for other documents; cites: the indexed documents the cited one refers to.
CITATION_KEYS = {"page", "n", "chunk_id", "doc_id", "doc_title", "doc_number", "issuer", "date", "clause_path", "text",
                 "score", "start", "end", "status", "version_date", "newer_version", "cites"}


@pytest.fixture(scope="module")
def client(real_index):
    with TestClient(create_app(real_index)) as c:
        yield c


@pytest.mark.slow
def test_ask_shape(client):
    r = client.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"answer", "refused", "citations", "latency_ms", "answerability", "approved", "log_id",
                         "resolved_question"}
    assert body["approved"] is False  # no approved answer (/api/curated) here
    assert 0.0 <= body["answerability"] <= 1.0
    assert isinstance(body["answer"], str) and isinstance(body["refused"], bool)
    assert isinstance(body["latency_ms"], float | int)
    assert body["citations"]
    for c in body["citations"]:
        assert set(c) == CITATION_KEYS
        assert (c["status"], c["version_date"], c["newer_version"]) == (None, None, None)  # local policies
        assert isinstance(c["cites"], list)
        assert isinstance(c["n"], int) and isinstance(c["start"], int) and isinstance(c["end"], int)
        assert isinstance(c["score"], float | int)
    assert "教研室" in body["answer"]


@pytest.mark.slow
def test_ask_citation_text_matches_document(client):
    body = client.post("/api/ask", json={"question": QUESTION, "top_k": 3}).json()
    c = body["citations"][0]
    doc = client.get(f"/api/documents/{c['doc_id']}").json()
    assert doc["text"][c["start"]:c["end"]] == c["text"]


@pytest.mark.slow
def test_ask_refusal_over_http(client):
    body = client.post("/api/ask", json={"question": "2024年高考分数线是多少?"}).json()
    assert body["refused"] is True and body["answer"] and body["citations"]


@pytest.mark.slow
def test_search(client):
    r = client.post("/api/search", json={"query": QUESTION, "top_k": 3})
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 3
    for hit in results:
        assert set(hit) == {"chunk_id", "doc_id", "doc_title", "clause_path", "text", "score", "signals"}
        assert hit["signals"]
    assert results[0]["chunk_id"] == f"{RENHUAI}#三.3"


@pytest.mark.slow
def test_search_filters_on_collections_and_dates(client):
    """The corpus is local documents only (no collection): 国家法律 finds nothing; as_of keeps what was
    issued by then; in_force null is the default, false (no filter) still accepted."""
    found = lambda filters: [h["doc_id"] for h in client.post(  # noqa: E731
        "/api/search", json={"query": QUESTION, "top_k": 3, "filters": filters}).json()["results"]]
    assert found({"collections": ["国家法律"]}) == []
    assert found({"collections": ["本地文件"]})[0] == RENHUAI
    assert found({"as_of": "2000-01-01"}) == []
    assert set(found({"as_of": "2017-12-31"})) == {RENHUAI}  # the others are dated 2018 or later
    assert found({"in_force": None}) == found({"in_force": False}) == found({})
    assert found({"collections": ["学校制度"]}) == []  # any name is a collection (issue 15); none holds these
    for bad in ({"as_of": "2017-13-01"}, {"collections": [""]}, {"in_force": "no"}):
        assert client.post("/api/search", json={"query": QUESTION, "filters": bad}).status_code == 422


@pytest.mark.slow
def test_documents_list(client):
    r = client.get("/api/documents")
    assert r.status_code == 200
    docs = r.json()
    assert sorted(d["doc_id"] for d in docs) == DOC_IDS
    renhuai = next(d for d in docs if d["doc_id"] == RENHUAI)
    assert renhuai["doc_number"] == "仁教字〔2017〕17号"
    assert renhuai["n_records"] == 10 and renhuai["n_clauses"] > 40


@pytest.mark.slow
def test_document_detail_has_text_and_clause_offsets(client):
    r = client.get(f"/api/documents/{RENHUAI}")
    assert r.status_code == 200
    doc = r.json()
    assert doc["text"].startswith("关于印发《仁怀市品牌学校创建工作实施方案》的通知")
    clauses = {c["clause_id"]: c for c in doc["clauses"]}
    four_three = clauses[f"{RENHUAI}#四.(三)"]
    assert four_three["path"].startswith("四、工作内容 › (三)")
    assert doc["text"][four_three["start"]:four_three["end"]].startswith("(三)实施特色创新课程构建工程")
    for c in doc["clauses"]:
        assert 0 <= c["start"] < c["end"] <= len(doc["text"])
    assert len(doc["records"]) == 10
    assert doc["records"][2]["lead"] == ["教研室"]


@pytest.mark.slow
def test_unknown_document_is_404(client):
    r = client.get("/api/documents/no-such-doc")
    assert r.status_code == 404
    assert "no-such-doc" in r.json()["detail"]


@pytest.mark.slow
@pytest.mark.parametrize("body", [{"question": ""}, {}, {"question": QUESTION, "top_k": 0},
                                  {"question": "x" * 2001}])
def test_bad_ask_requests_are_422(client, body):
    assert client.post("/api/ask", json=body).status_code == 422


@pytest.mark.slow
def test_empty_search_query_is_422(client):
    assert client.post("/api/search", json={"query": ""}).status_code == 422


@pytest.mark.slow
def test_health(client, real_index):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["documents"] == 5 and body["chunks"] == len(real_index.index.chunks)
    assert body["embedder"] == real_index.embedder.name
    assert body["corpus_hash"] == real_index.index.manifest["corpus_hash"]


@pytest.mark.slow
def test_chat_page_and_docs(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/search", "/api/documents", "/api/documents/{doc_id}", "/health"} <= set(schema["paths"])


def test_without_index_api_says_503_and_health_says_so():
    with TestClient(create_app(None)) as c:
        r = c.post("/api/ask", json={"question": QUESTION})
        assert r.status_code == 503 and "ingest" in r.json()["detail"]
        assert c.get("/api/documents").status_code == 503
        assert c.get("/health").json() == {"status": "no index"}
        assert c.get("/").status_code == 200
