"""Embeddings cached by content hash, per embedder: unchanged chunks are never embedded again."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a leftover of a dead one may be removed)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_dead_leftovers(folder: Path, pattern: str, remove=lambda p: p.unlink(missing_ok=True)) -> None:
    """Remove `folder/pattern` entries named `...tmp-<pid>...` whose pid no longer runs: what a process
    killed mid-write leaves. Never one of a live process, which may be writing it right now."""
    for path in folder.glob(pattern):
        match = re.search(r"tmp-(\d+)", path.name)
        if match and not pid_alive(int(match.group(1))):
            remove(path)


class EmbeddingCache:
    """A folder per embedder holding cache.npz: the keys and the vectors in one file, replaced by one rename,
    so a process killed at any point leaves either the old or the new cache, whole.

    Caches written before (keys.json + vectors.npy, renamed one after the other) are still read; a save
    replaces them. Killed between those two renames, vectors.npy was already the new one and keys.json the
    old: the new vectors extend the old ones (keys are kept in insertion order), so the rows the old keys
    name are still theirs and are kept."""

    FILE = "cache.npz"

    def __init__(self, root: Path, embedder_name: str, dim: int) -> None:
        self.folder = root / re.sub(r"[^\w.-]+", "_", embedder_name)
        self.dim = dim
        self.vectors: dict[str, np.ndarray] = {}
        self._dropped: set[str] = set()  # by retain(): not merged back from the file at save()
        keys, matrix = self._read()
        if matrix.ndim == 2 and matrix.shape[1] == dim:
            self.vectors = dict(zip(keys, matrix, strict=False))  # zip: the consistent rows (see above)

    def _read(self) -> tuple[list[str], np.ndarray]:
        empty = ([], np.zeros((0, self.dim), np.float32))
        try:
            with np.load(self.folder / self.FILE) as data:
                keys, matrix = [k.decode() for k in data["keys"]], data["vectors"]
            return (keys, matrix) if len(keys) == len(matrix) else empty
        except FileNotFoundError:
            pass
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):
            return empty  # unreadable: embed again rather than fail the ingest
        try:
            return json.loads((self.folder / "keys.json").read_text()), np.load(self.folder / "vectors.npy")
        except (OSError, ValueError):
            return empty

    @property
    def saved(self) -> bool:
        """Whether the cache has been written to its folder (an empty cache never saved has no file)."""
        return (self.folder / self.FILE).exists()

    def missing(self, texts: list[str]) -> list[str]:
        return list(dict.fromkeys(t for t in texts if text_key(t) not in self.vectors))

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        for t, v in zip(texts, vectors, strict=True):
            key = text_key(t)
            self.vectors[key] = np.asarray(v, np.float32)
            self._dropped.discard(key)

    def find(self, text: str) -> np.ndarray | None:
        """The text's vector, or None when the cache lacks it."""
        return self.vectors.get(text_key(text))

    def retain(self, texts: list[str]) -> int:
        """Drop every vector but those of `texts` (a store that holds what an index holds, not all it ever
        held); how many were dropped."""
        wanted = {text_key(t) for t in texts}
        gone = [k for k in self.vectors if k not in wanted]
        for k in gone:
            del self.vectors[k]
        self._dropped.update(gone)
        return len(gone)

    def get(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.vectors[text_key(t)] for t in texts]).astype(np.float32)

    def save(self) -> None:
        """Write the cache, keeping what another cache of the same folder saved since this one was read
        (except what this one dropped): two embeddings at once, such as a laws import filling the cache
        before it takes the index lock and an upload's ingest meanwhile, never undo each other's work."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._save_lock():
            self._merge_saved()
            self._write()

    @contextmanager
    def _save_lock(self) -> Iterator[None]:
        """One save at a time per folder, across threads and processes (each open is its own flock)."""
        if fcntl is None:
            yield
            return
        with open(self.folder / "cache.lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _merge_saved(self) -> None:
        keys, matrix = self._read()
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            return
        for key, vector in zip(keys, matrix, strict=False):
            if key not in self.vectors and key not in self._dropped:
                self.vectors[key] = vector

    def _write(self) -> None:
        remove_dead_leftovers(self.folder, "cache.tmp-*.npz")
        keys = list(self.vectors)
        matrix = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        # Named per process and thread: two ingests saving at once never write the same file.
        tmp = self.folder / f"cache.tmp-{os.getpid()}-{threading.get_ident()}.npz"
        try:
            with tmp.open("wb") as f:
                np.savez(f, keys=np.array(keys, dtype="S32"), vectors=matrix.astype(np.float32))
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename: a power cut cannot leave a short file
            os.replace(tmp, self.folder / self.FILE)
        finally:
            tmp.unlink(missing_ok=True)
        for old in ("keys.json", "vectors.npy", "keys.tmp.json", "vectors.tmp.npy"):  # the earlier layout
            (self.folder / old).unlink(missing_ok=True)
