"""Write access (API key, loopback only), refusing to listen openly, CORS, body size limits, rate limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from helpers import make_settings

from server.app import create_app
from server.security import TokenBucket, bind_error, is_loopback, presented_key

LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.7", 50000)  # TEST-NET-3: a client that is not this machine


def app_with(tmp_path, corpus_dir, **overrides):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing",
                             **overrides)
    return create_app(None, settings)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST",
                                  "::ffff:127.0.0.1"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.org", "", None,
                                  "testclient"])
def test_non_loopback_hosts(host):
    assert not is_loopback(host)


def test_bind_error_only_for_open_address_without_key():
    assert bind_error("127.0.0.1", "") is None
    assert bind_error("0.0.0.0", "k") is None
    message = bind_error("0.0.0.0", "")
    assert "POLICYQA_API_KEY" in message and "0.0.0.0" in message


def test_presented_key_reads_bearer_or_x_api_key():
    assert presented_key({"authorization": "Bearer abc"}) == "abc"
    assert presented_key({"authorization": "bearer  abc "}) == "abc"
    assert presented_key({"x-api-key": "xyz"}) == "xyz"
    assert presented_key({"authorization": "Basic abc"}) == ""
    assert presented_key({}) == ""


def test_token_bucket_refills_at_its_rate():
    bucket = TokenBucket(per_minute=60)  # one token a second, bursts of 60
    assert all(bucket.take("a", now=100.0) == 0 for _ in range(60))
    wait = bucket.take("a", now=100.0)
    assert 0.9 < wait <= 1.0
    assert bucket.take("b", now=100.0) == 0  # another client has its own bucket
    assert bucket.take("a", now=101.5) == 0  # refilled


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
    with TestClient(app, client=LOCAL) as c:  # even from this machine
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
        r = c.post("/api/documents", headers={"X-API-Key": "s3cret-key"}, json={})
        assert r.status_code == 415
        # Reads never need it.
        assert c.get("/api/jobs").status_code == 200


def test_without_key_writes_are_for_loopback_clients_only(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir)
    with TestClient(app, client=REMOTE) as c:
        r = c.post("/api/reindex")
        assert r.status_code == 403 and "POLICYQA_API_KEY" in r.json()["detail"]
        assert c.delete("/api/documents/x").status_code == 403
    with TestClient(app, client=LOCAL) as c:
        assert c.delete("/api/documents/x").status_code == 503  # allowed; there is just no index


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
        codes = [c.get("/api/jobs").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = c.get("/api/jobs")
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1 and "too many requests" in r.json()["detail"]
        assert c.post("/v1/chat/completions", json={}).status_code == 429
        assert c.get("/health").status_code == 200  # not rate limited
    with TestClient(app, client=("127.0.0.2", 1)) as other:  # another client has its own budget
        assert other.get("/api/jobs").status_code == 200


def test_rate_limit_zero_turns_it_off(tmp_path, corpus_dir):
    app = app_with(tmp_path, corpus_dir, rate_limit_per_minute=0)
    with TestClient(app) as c:
        assert all(c.get("/api/jobs").status_code == 200 for _ in range(30))
