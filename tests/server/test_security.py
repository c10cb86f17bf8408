"""Write access (API key; without one this machine only, not other sites' pages), refusing to listen openly,
CORS, body size and time limits, rate and concurrency limits, one decoding rule for request text, strict
booleans, the question limit, the error responses in the schema, the 405 Allow header, security headers."""

from __future__ import annotations

import json
import re
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from helpers import make_settings, serve_in_thread

from policyqa import service
from policyqa.service import QAService
from server.app import STATIC, create_app
from server.deps import require_writer
from server.security import TokenBucket, bind_error, host_of, is_loopback

LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.7", 50000)  # TEST-NET-3: a client that is not this machine
HERE = "http://127.0.0.1:8000"  # TestClient's base_url (the Host header) for a request to this machine
QUESTION = "哪个股室牵头实施特色创新课程构建工程?"


def app_with(tmp_path, corpus_dir, **overrides):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing",
                             **overrides)
    return create_app(None, settings)


@pytest.fixture(scope="module")
def hashing_index(tmp_path_factory, corpus_dir) -> QAService:
    """The corpus indexed once with the hashing embedder (about a second)."""
    settings = make_settings(data_dir=tmp_path_factory.mktemp("data"), corpus_dir=corpus_dir, embedder="hashing")
    embedder = service.get_embedder(settings)
    assert service.ingest(settings, [corpus_dir], embedder).report.ok
    return QAService(settings, embedder)


@pytest.fixture
def indexed_app(hashing_index, tmp_path):
    """create_app over the hashing index, with settings overrides (and a data dir of the test's own)."""

    def make(**overrides):
        settings = hashing_index.settings.model_copy(update={"data_dir": tmp_path / "data", **overrides})
        (tmp_path / "data").mkdir(exist_ok=True)
        return create_app(QAService(settings, hashing_index.embedder, hashing_index.index), settings)

    return make


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST",
                                  "::ffff:127.0.0.1"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.org", "", None,
                                  "testclient"])
def test_non_loopback_hosts(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("value,host", [("127.0.0.1:8000", "127.0.0.1"), ("[::1]:8000", "::1"),
                                        ("localhost", "localhost"), ("http://localhost:3000", "localhost"),
                                        ("https://evil.example", "evil.example"), ("[::1", None),
                                        ("", None)])
def test_host_of_reads_host_headers_and_origins(value, host):
    assert host_of(value) == host


def test_bind_error_only_for_open_address_without_key():
    assert bind_error("127.0.0.1", "") is None
    assert bind_error("0.0.0.0", "k") is None
    message = bind_error("0.0.0.0", "")
    assert "POLICYQA_API_KEY" in message and "0.0.0.0" in message


def test_token_bucket_refills_at_its_rate():
    bucket = TokenBucket(per_minute=60)  # one token a second, bursts of 60
    assert all(bucket.take("a", now=100.0) == 0 for _ in range(60))
    wait = bucket.take("a", now=100.0)
    assert 0.9 < wait <= 1.0
    assert bucket.take("b", now=100.0) == 0  # another client has its own bucket
    assert bucket.take("a", now=101.5) == 0  # refilled


def test_token_bucket_refund_gives_one_token_back():
    bucket = TokenBucket(per_minute=60)
    assert all(bucket.take("a", now=100.0) == 0 for _ in range(60))
    bucket.refund("a")
    assert bucket.take("a", now=100.0) == 0 and bucket.take("a", now=100.0) > 0


def test_token_bucket_forgets_idle_clients():
    bucket = TokenBucket(per_minute=60, max_clients=10)
    for i in range(50):
        bucket.take(f"c{i}", now=float(i * 1000))  # each older one has refilled by the next
    assert len(bucket._buckets) <= 11


# -- write access ---------------------------------------------------------------------------------

WRITES = [("post", "/api/reindex"), ("delete", "/api/documents/some-doc"),
          ("post", "/api/documents")]


@pytest.mark.parametrize("method,path", WRITES)
def test_writes_need_the_key_when_one_is_set(tmp_path, corpus_dir, method, path):
    app = app_with(tmp_path, corpus_dir, api_key="s3cret-key")
    with TestClient(app, client=LOCAL, base_url=HERE) as c:  # even from this machine
        r = c.request(method.upper(), path)
        assert r.status_code == 401, r.text
        assert "API key" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
        r = c.request(method.upper(), path, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = c.request(method.upper(), path, headers={"X-API-Key": "s3cret-ke"})
        assert r.status_code == 401


def test_right_key_gets_through_in_either_header(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir, api_key="s3cret-key")
    with TestClient(app, client=REMOTE) as c:
        # No index loaded: past the key check the delete route answers 503, the upload route 415.
        r = c.delete("/api/documents/some-doc", headers={"Authorization": "Bearer s3cret-key"})
        assert r.status_code == 503
        r = c.delete("/api/documents/some-doc", headers={"Authorization": "bearer  s3cret-key "})
        assert r.status_code == 503
        r = c.post("/api/documents", headers={"X-API-Key": "s3cret-key"}, json={})
        assert r.status_code == 415
        # A key opens writes from any page: the key, not the origin, is what is trusted then.
        r = c.delete("/api/documents/some-doc", headers={"X-API-Key": "s3cret-key",
                                                         "Origin": "https://evil.example"})
        assert r.status_code == 503
        # Reads never need it.
        assert c.get("/api/documents").status_code == 503
        assert c.get("/v1/models").status_code == 200


def test_without_key_writes_are_for_loopback_clients_only(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir)
    with TestClient(app, client=REMOTE, base_url=HERE) as c:
        r = c.post("/api/reindex")
        assert r.status_code == 403 and "POLICYQA_API_KEY" in r.json()["detail"]
        assert c.delete("/api/documents/x").status_code == 403
    with TestClient(app, client=LOCAL, base_url=HERE) as c:
        assert c.delete("/api/documents/x").status_code == 503  # allowed; there is just no index


@pytest.mark.parametrize("base_url,headers", [
    ("http://evil.example", {}),  # DNS rebinding: a foreign name that resolves to 127.0.0.1
    ("http://evil.example:8000", {}),
    (HERE, {"Origin": "https://evil.example"}),  # a web page of another site, in a browser on this machine
    (HERE, {"Origin": "null"}),  # sandboxed iframes, file:// pages
    (HERE, {"Origin": "http://127.0.0.1.evil.example"}),
    (HERE, {"Sec-Fetch-Site": "cross-site"}),
])
@pytest.mark.parametrize("method,path", WRITES)
def test_without_key_writes_from_other_sites_pages_are_refused(tmp_path, corpus_dir, base_url, headers, method,
                                                               path):
    app = app_with(tmp_path, corpus_dir)
    with TestClient(app, client=LOCAL, base_url=base_url) as c:
        r = c.request(method.upper(), path, headers=headers)
        assert r.status_code == 403, r.text
        assert "POLICYQA_API_KEY" in r.json()["detail"]


@pytest.mark.parametrize("base_url,headers", [
    (HERE, {}), ("http://localhost:8000", {}), ("http://[::1]:8000", {}),
    (HERE, {"Origin": "http://localhost:3000"}),  # a page served on this machine
    (HERE, {"Origin": HERE, "Sec-Fetch-Site": "same-origin"}),
])
def test_without_key_writes_from_this_machine_pass(tmp_path, corpus_dir, base_url, headers):
    app = app_with(tmp_path, corpus_dir)
    with TestClient(app, client=LOCAL, base_url=base_url) as c:
        assert c.delete("/api/documents/x", headers=headers).status_code == 503  # allowed; no index


def test_serve_refuses_open_host_without_key(run_cli, tmp_path):
    r = run_cli("serve", "--host", "0.0.0.0", "--port", "8765", timeout=60,
                POLICYQA_DATA_DIR=str(tmp_path), POLICYQA_EMBEDDER="hashing")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "refusing to listen on 0.0.0.0" in r.stderr and "POLICYQA_API_KEY" in r.stderr
    assert not (tmp_path / "index").exists()


# -- CORS -----------------------------------------------------------------------------------------


def test_cors_header_only_for_allowed_origin(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir, cors_origins="https://intranet.example.edu, https://b.example")
    with TestClient(app) as c:
        ok = c.get("/health", headers={"Origin": "https://intranet.example.edu"})
        assert ok.headers["access-control-allow-origin"] == "https://intranet.example.edu"
        other = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = c.options("/api/ask", headers={"Origin": "https://b.example",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://b.example"
        denied = c.options("/api/ask", headers={"Origin": "https://evil.example",
                                                "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in denied.headers


def test_no_cors_by_default(tmp_path, corpus_dir):
    with TestClient(app_with(tmp_path, corpus_dir)) as c:
        r = c.get("/health", headers={"Origin": "https://intranet.example.edu"})
        assert "access-control-allow-origin" not in r.headers


# -- limits ---------------------------------------------------------------------------------------


def test_json_body_over_limit_is_413(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir, max_request_kb=1)
    with TestClient(app) as c:
        big = {"question": "q", "answer": "答" * 2000, "rating": "up"}
        r = c.post("/api/feedback", json=big)
        assert r.status_code == 413 and "1 KB" in r.json()["detail"]
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "问" * 2000}]})
        assert r.status_code == 413 and "error" in r.json()  # OpenAI-shaped under /v1
        small = {"question": "q", "answer": "a", "rating": "up"}
        assert c.post("/api/feedback", json=small).status_code == 201
    assert not (tmp_path / "data" / "feedback.jsonl").read_text(encoding="utf-8").count("答")


def test_chunked_body_over_limit_is_413(tmp_path, corpus_dir):
    """Without a Content-Length the bytes are counted as they arrive."""
    app = app_with(tmp_path, corpus_dir, max_request_kb=1)

    def body():
        yield b'{"question": "q", "rating": "up", "answer": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    with TestClient(app) as c:
        r = c.post("/api/feedback", content=body(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413


def test_rate_limit_answers_429_with_retry_after(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir, rate_limit_per_minute=3)
    with TestClient(app) as c:
        codes = [c.get("/v1/models").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = c.get("/api/documents")
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1 and "too many requests" in r.json()["detail"]
        assert c.post("/v1/chat/completions", json={}).status_code == 429
        assert c.get("/health").status_code == 200  # not rate limited
    with TestClient(app, client=("127.0.0.2", 1)) as other:  # another client has its own budget
        assert other.get("/v1/models").status_code == 200


def test_rate_limit_zero_turns_it_off(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir, rate_limit_per_minute=0)
    with TestClient(app) as c:
        assert all(c.get("/v1/models").status_code == 200 for _ in range(30))


def stall(base: str, path: str, sent: bytes, declared: int = 200,
          content_type: str = "application/json") -> socket.socket:
    """A request whose body stops short of its Content-Length: the client stalls."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    head = (f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {declared}\r\n\r\n")
    sock.sendall(head.encode() + sent)
    return sock


def response_of(sock: socket.socket) -> tuple[int, str]:
    """The status and the whole response (the server closes the connection after it)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    return int(data.split(b" ", 2)[1]), data.decode("utf-8", "replace")


def test_stalled_body_gets_408_and_costs_no_token(tmp_path, corpus_dir):
    """A body shorter than its Content-Length is answered 408 after POLICYQA_BODY_TIMEOUT_S, not held; the
    stalled requests do not use up the client's rate limit."""
    app = app_with(tmp_path, corpus_dir, body_timeout_s=1.0, rate_limit_per_minute=2)
    stalls = [("/api/feedback", b'{"question": "', "application/json"),
              ("/v1/chat/completions", b'{"messages": [', "application/json"),
              ("/api/documents", b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n',
               "multipart/form-data; boundary=b")]  # an upload is read piece by piece, each piece timed
    with serve_in_thread(app) as base:
        answers = []
        for path, sent, content_type in stalls:  # one after the other: three stalls, a budget of two
            started = time.monotonic()
            answers.append(response_of(stall(base, path, sent, content_type=content_type)))
            assert time.monotonic() - started < 3
        assert [status for status, _ in answers] == [408, 408, 408], answers
        assert "POLICYQA_BODY_TIMEOUT_S" in answers[0][1] and '"error"' in answers[1][1]
        # each token came back
        with httpx.Client(base_url=base) as client:
            assert [client.get("/v1/models").status_code for _ in range(3)] == [200, 200, 429]


def test_one_client_gets_a_few_questions_answered_at_once(tmp_path, corpus_dir):
    """POLICYQA_MAX_CONCURRENT_PER_CLIENT questions in flight per client; the next gets 429, Retry-After: 1."""
    app = app_with(tmp_path, corpus_dir, max_concurrent_per_client=2, body_timeout_s=2.0)
    with serve_in_thread(app) as base:
        held = [stall(base, "/api/ask", b'{"question": "'), stall(base, "/v1/chat/completions", b"{")]
        time.sleep(0.5)  # both are in the server
        with httpx.Client(base_url=base) as client:
            r = client.post("/api/search", json={"query": QUESTION})
            assert r.status_code == 429 and r.headers["retry-after"] == "1"
            assert "POLICYQA_MAX_CONCURRENT_PER_CLIENT" in r.json()["detail"]
            r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
            assert r.status_code == 429 and "error" in r.json()
            assert client.get("/api/documents").status_code == 503  # other endpoints are not limited
            assert [response_of(s)[0] for s in held] == [408, 408]
            assert client.post("/api/ask", json={"question": QUESTION}).status_code == 503  # slots freed


def test_streamed_answers_give_their_slot_back(indexed_app):
    app = indexed_app(max_concurrent_per_client=1)
    with TestClient(app) as c:
        for _ in range(3):
            r = c.post("/api/ask", json={"question": QUESTION, "stream": True})
            assert r.status_code == 200 and "event: done" in r.text
        assert c.post("/v1/chat/completions", json={"stream": True, "messages": [
            {"role": "user", "content": QUESTION}]}).status_code == 200
        assert c.post("/api/search", json={"query": QUESTION}).status_code == 200


# -- request text -----------------------------------------------------------------------------------

SURROGATES = [
    ("/api/ask", rb'{"question": "\ud800"}', ["body", "question"]),
    ("/api/search", rb'{"query": "abc\udfff"}', ["body", "query"]),
    ("/api/search", rb'{"query": "\udc00\ud800"}', ["body", "query"]),  # reversed pair
    ("/api/feedback", rb'{"question": "q", "answer": "a", "rating": "up", "comment": "x\ud83d"}',
     ["body", "comment"]),
    ("/api/feedback", rb'{"question": "q", "answer": "a", "rating": "bad\ud800"}', ["body", "rating"]),
    ("/api/reindex", rb'{"rebuild": false, "\ud800": 1}', ["body", "\\ud800"]),
    ("/api/ask", rb'{"question": "q", "filters": {"issuers": ["\\", "\ud800"]}}',
     ["body", "filters", "issuers", 1]),
]


@pytest.mark.parametrize("path,body,loc", SURROGATES)
def test_lone_surrogates_are_422(indexed_app, path, body, loc):
    with TestClient(indexed_app(api_key="k"), headers={"X-API-Key": "k"}) as c:
        r = c.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"] == loc and "lone surrogate" in error["msg"] and "UTF-8" in error["msg"]


def test_lone_surrogate_under_v1_is_400_openai_shaped(indexed_app):
    with TestClient(indexed_app()) as c:
        r = c.post("/v1/chat/completions", content=rb'{"messages": [{"role": "user", "content": "\ud800"}]}',
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        error = r.json()["error"]
        assert "lone surrogate" in error["message"] and error["type"] == "invalid_request_error"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_bodies_that_are_not_utf8_are_422(indexed_app, content_type):
    with TestClient(indexed_app()) as c:
        headers = {"Content-Type": content_type} if content_type else {}
        r = c.post("/api/feedback", content=b'{"question": "\xff\xfe", "answer": "a", "rating": "up"}',
                   headers=headers)
        assert r.status_code == 422 and "not UTF-8" in r.json()["detail"][0]["msg"]


def test_escaped_pairs_and_backslashes_are_text(indexed_app, tmp_path):
    with TestClient(indexed_app()) as c:
        body = rb'{"question": "\ud83d\ude00 \\ud800", "answer": "a", "rating": "up"}'
        r = c.post("/api/feedback", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 201, r.text
    assert json.loads((tmp_path / "data" / "feedback.jsonl").read_text(encoding="utf-8"))["question"] == \
        "😀 \\ud800"


@pytest.mark.parametrize("path,body", [
    ("/api/ask", {"question": " \n\t\u3000"}),
    ("/api/search", {"query": "   "}),
])
def test_whitespace_only_question_is_422(indexed_app, path, body):
    with TestClient(indexed_app()) as c:
        r = c.post(path, json=body)
        assert r.status_code == 422
        assert "only whitespace" in r.json()["detail"][0]["msg"]


def test_whitespace_only_last_user_message_is_400_under_v1(indexed_app):
    with TestClient(indexed_app()) as c:
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION},
                                                             {"role": "user", "content": [{"type": "text",
                                                                                           "text": "  \n"}]}]})
        assert r.status_code == 400 and "user message" in r.json()["error"]["message"]


def test_question_length_follows_the_setting(indexed_app):
    app = indexed_app(max_question_chars=20)
    with TestClient(app) as c:
        for path, field in (("/api/ask", "question"), ("/api/search", "query")):
            r = c.post(path, json={field: "问" * 21})
            assert r.status_code == 422
            message = r.json()["detail"][0]["msg"]
            assert "POLICYQA_MAX_QUESTION_CHARS" in message and "limit of 20" in message
            assert c.post(path, json={field: "  " + "问" * 20 + "\n"}).status_code == 200  # trimmed first
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "问" * 21}]})
        assert r.status_code == 400 and "POLICYQA_MAX_QUESTION_CHARS" in r.json()["error"]["message"]
        r = c.post("/api/feedback", json={"question": "问" * 21, "answer": "a", "rating": "up"})
        assert r.status_code == 422
        schemas = c.get("/openapi.json").json()["components"]["schemas"]
        assert schemas["AskRequest"]["properties"]["question"]["maxLength"] == 20
        assert schemas["SearchRequest"]["properties"]["query"]["maxLength"] == 20
    assert make_settings().max_question_chars == 2000


@pytest.mark.parametrize("path,body", [
    ("/api/ask", {"question": QUESTION, "stream": 0}),
    ("/api/ask", {"question": QUESTION, "stream": "false"}),
    ("/api/ask", {"question": QUESTION, "filters": {"in_force": 1}}),
    ("/api/search", {"query": QUESTION, "filters": {"in_force": "true"}}),
    ("/api/reindex", {"rebuild": 0}),
    ("/api/feedback", {"question": "q", "answer": "a", "rating": "up", "refused": "no"}),
    ("/v1/chat/completions", {"stream": 0, "messages": [{"role": "user", "content": QUESTION}]}),
])
def test_booleans_are_strict(indexed_app, path, body):
    with TestClient(indexed_app(api_key="k"), headers={"X-API-Key": "k"}) as c:
        r = c.post(path, json=body)
        assert r.status_code == (400 if path.startswith("/v1/") else 422), r.text
        assert "bool" in r.text


def test_real_booleans_still_work(indexed_app):
    with TestClient(indexed_app()) as c:
        r = c.post("/api/ask", json={"question": QUESTION, "stream": False, "filters": {"in_force": False}})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        r = c.post("/v1/chat/completions", json={"stream": None,
                                                 "messages": [{"role": "user", "content": QUESTION}]})
        assert r.status_code == 200 and r.json()["object"] == "chat.completion"


# -- the schema -------------------------------------------------------------------------------------


def test_schema_documents_errors_and_security(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir)

    @app.post("/api/some-new-write", dependencies=[Depends(require_writer)])
    def some_new_write() -> dict:  # any route that depends on require_writer is documented as a write
        return {}

    schema = app.openapi()
    schemes = schema["components"]["securitySchemes"]
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")
    assert (schemes["apiKey"]["type"], schemes["apiKey"]["in"], schemes["apiKey"]["name"]) == \
        ("apiKey", "header", "X-API-Key")
    writes = {("post", "/api/documents"), ("delete", "/api/documents/{doc_id}"), ("post", "/api/reindex"),
              ("post", "/api/some-new-write")}
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            codes = set(op["responses"])
            error = "OpenAIError" if path.startswith("/v1/") else "ErrorDetail"
            for code in codes - {"200", "201", "202", "204"}:  # 204: success, no body
                assert op["responses"][code]["content"]["application/json"]["schema"] == {
                    "$ref": f"#/components/schemas/{error}"}, (method, path, code)
            if path.startswith(("/api/", "/v1/")):
                assert "429" in codes and "Retry-After" in op["responses"]["429"]["headers"], (method, path)
            if "requestBody" in op:
                assert {"408", "413", "400" if path.startswith("/v1/") else "422"} <= codes, (method, path)
            if path.startswith("/v1/"):
                assert "422" not in codes  # /v1 answers validation errors with 400
            if "{" in path:
                assert "404" in codes
            if (method, path) in writes:
                assert op["security"] == [{"bearer": []}, {"apiKey": []}] and {"401", "403"} <= codes
            elif "security" not in op:
                assert not {"401", "403"} & codes, (method, path)
    paths = schema["paths"]
    assert {"409", "415", "413"} <= set(paths["/api/documents"]["post"]["responses"])
    assert "409" in paths["/api/documents/{doc_id}"]["delete"]["responses"]
    assert "503" in paths["/api/ask"]["post"]["responses"]  # needs the index
    assert "503" not in paths["/api/feedback"]["post"]["responses"]


# -- 405 and headers --------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/api/documents/x", "GET, DELETE"),
    ("PATCH", "/api/documents", "GET, POST"),
    ("GET", "/api/ask", "POST"),
    ("POST", "/static/app.js", "GET, HEAD"),
])
def test_405_allow_lists_every_method_of_the_path(tmp_path, corpus_dir, method, path, allowed):
    with TestClient(app_with(tmp_path, corpus_dir)) as c:
        r = c.request(method, path)
        assert r.status_code == 405 and r.headers["allow"] == allowed


def test_security_headers_on_every_response(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir, rate_limit_per_minute=6)
    with TestClient(app) as c:
        responses = {path: c.get(path) for path in ("/", "/static/app.js", "/docs", "/openapi.json", "/health",
                                                    "/api/documents", "/no-such-page")}
        responses["405"] = c.put("/api/ask")
        responses["422"] = c.post("/api/feedback", json={})
        for _ in range(6):
            c.get("/v1/models")
        responses["429"] = c.get("/v1/models")
        assert [r.status_code for r in responses.values()] == [200, 200, 200, 200, 200, 503, 404, 405, 422, 429]
        for path, r in responses.items():
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["referrer-policy"] == "no-referrer", path
            if path != "/":
                assert r.headers["x-frame-options"] == "DENY", path
        page_csp = responses["/"].headers["content-security-policy"]
        assert "script-src 'self'" in page_csp and "connect-src 'self'" in page_csp
        # embed.js frames the chat page on other sites
        assert "frame-ancestors" not in page_csp and "x-frame-options" not in responses["/"].headers
        static_csp = responses["/static/app.js"].headers["content-security-policy"]
        assert static_csp == page_csp + "; frame-ancestors 'none'"
        assert "content-security-policy" not in responses["/docs"].headers  # Swagger UI comes from a CDN
        api_csp = responses["/health"].headers["content-security-policy"]
        assert api_csp == "default-src 'none'; frame-ancestors 'none'"


def test_widget_page_has_no_inline_script_or_style():
    """The page's CSP (script-src 'self', style-src 'self') would block them; the e2e test runs the page."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and not re.search(r"\sstyle=|\son[a-z]+=", html)
