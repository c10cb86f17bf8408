"""The embedding cache survives a kill at any point of a save (issue 16), and reads the earlier layout."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from retrieval import cache as cache_module
from retrieval.cache import EmbeddingCache, pid_alive, text_key

DIM = 8
NAME = "model:x"


class Killed(BaseException):
    """Stands in for kill -9 at one step of a save (a BaseException, like SystemExit: nothing catches it)."""


def vectors_for(texts: list[str]) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(tuple(texts))) % 2**32)
    return rng.standard_normal((len(texts), DIM)).astype(np.float32)


OLD = [f"旧的第{i}段" for i in range(40)]
NEW = [f"新的第{i}段" for i in range(7)]
OLD_VECTORS, NEW_VECTORS = vectors_for(OLD), vectors_for(NEW)


def write_legacy(folder: Path, keys: list[str], matrix: np.ndarray) -> None:
    """The layout before: keys.json + vectors.npy."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keys.json").write_text(json.dumps(keys))
    np.save(folder / "vectors.npy", matrix)


def saved_cache(root: Path, layout: str) -> EmbeddingCache:
    cache = EmbeddingCache(root, NAME, DIM)
    if layout == "legacy":
        write_legacy(cache.folder, [text_key(t) for t in OLD], OLD_VECTORS)
    else:
        cache.put(OLD, OLD_VECTORS)
        cache.save()
    return EmbeddingCache(root, NAME, DIM)


def assert_holds(cache: EmbeddingCache, texts: list[str], vectors: np.ndarray) -> None:
    assert not cache.missing(texts)
    assert np.array_equal(cache.get(texts), vectors)


class KillAt:
    """Raises Killed at the n-th call of any file step of a save (np.savez leaves a partial file first)."""

    def __init__(self, monkeypatch, n: int) -> None:
        self.n, self.calls = n, 0
        real_savez, real_fsync, real_replace, real_unlink = np.savez, os.fsync, os.replace, Path.unlink

        def step(real, partial=False):
            def wrapped(*args, **kwargs):
                self.calls += 1
                if self.calls == self.n:
                    if partial:
                        args[0].write(b"PK\x03\x04 half a zip")
                    raise Killed
                return real(*args, **kwargs)
            return wrapped

        monkeypatch.setattr(cache_module.np, "savez", step(real_savez, partial=True))
        monkeypatch.setattr(cache_module.os, "fsync", step(real_fsync))
        monkeypatch.setattr(cache_module.os, "replace", step(real_replace))
        monkeypatch.setattr(Path, "unlink", step(real_unlink))


@pytest.mark.parametrize("layout", ["legacy", "npz"])
def test_a_kill_at_any_step_of_a_save_loses_no_saved_vector(tmp_path, monkeypatch, layout):
    n = 0
    while True:
        n += 1
        root = tmp_path / f"{layout}-{n}"
        cache = saved_cache(root, layout)
        cache.put(NEW, NEW_VECTORS)
        with monkeypatch.context() as mp:
            kill = KillAt(mp, n)
            try:
                cache.save()
            except Killed:
                pass
        after = EmbeddingCache(root, NAME, DIM)
        assert_holds(after, OLD, OLD_VECTORS)  # everything saved before is still there, with its own vectors
        if not after.missing(NEW):
            assert_holds(after, NEW, NEW_VECTORS)
        assert len(after.vectors) in (len(OLD), len(OLD) + len(NEW))
        if kill.calls < n:  # the save ran to its end: nothing left to kill
            assert len(after.vectors) == len(OLD) + len(NEW)
            break
    assert n > 5  # savez, fsync, replace and the unlinks were each killed once


def test_the_old_layout_killed_between_its_two_renames_keeps_its_consistent_rows(tmp_path):
    """The earlier save renamed vectors.npy, then keys.json: killed in between, the new vectors sat beside
    the old keys. The old keys' rows are theirs (new keys were appended): they are kept, not all thrown away."""
    folder = EmbeddingCache(tmp_path, NAME, DIM).folder
    write_legacy(folder, [text_key(t) for t in OLD], np.concatenate([OLD_VECTORS, NEW_VECTORS]))
    cache = EmbeddingCache(tmp_path, NAME, DIM)
    assert_holds(cache, OLD, OLD_VECTORS)
    assert cache.missing(NEW) == NEW


def test_a_save_replaces_the_old_layout_with_one_file(tmp_path):
    cache = saved_cache(tmp_path, "legacy")
    assert_holds(cache, OLD, OLD_VECTORS)
    cache.put(NEW, NEW_VECTORS)
    cache.save()
    assert sorted(p.name for p in cache.folder.iterdir()) == ["cache.lock", "cache.npz"]  # the saves' lock
    again = EmbeddingCache(tmp_path, NAME, DIM)
    assert_holds(again, OLD + NEW, np.concatenate([OLD_VECTORS, NEW_VECTORS]))


def test_two_caches_of_one_folder_keep_each_other_s_vectors(tmp_path):
    """Two embeddings at once (a laws import filling the cache outside the index lock, an upload's ingest
    meanwhile) each read the cache, embed and save: the later save keeps what the earlier one added."""
    saved_cache(tmp_path, "npz")
    first, second = EmbeddingCache(tmp_path, NAME, DIM), EmbeddingCache(tmp_path, NAME, DIM)
    first.put(NEW, NEW_VECTORS)
    extra = [f"另一份文件第{i}段" for i in range(3)]
    second.put(extra, vectors_for(extra))
    first.save()
    second.save()
    assert_holds(EmbeddingCache(tmp_path, NAME, DIM), OLD + NEW + extra,
                 np.concatenate([OLD_VECTORS, NEW_VECTORS, vectors_for(extra)]))


def test_what_a_cache_dropped_stays_dropped_and_a_text_put_again_is_kept(tmp_path):
    cache = saved_cache(tmp_path, "npz")
    assert cache.retain(OLD[:10]) == 30
    cache.put(OLD[35:], OLD_VECTORS[35:])  # dropped, then embedded again: kept
    cache.save()
    again = EmbeddingCache(tmp_path, NAME, DIM)
    assert again.missing(OLD) == OLD[10:35]
    assert_holds(again, OLD[:10] + OLD[35:], np.concatenate([OLD_VECTORS[:10], OLD_VECTORS[35:]]))


def test_leftovers_of_a_killed_save_are_ignored_then_removed(tmp_path):
    cache = saved_cache(tmp_path, "npz")
    dead = cache.folder / "cache.tmp-999999999-1.npz"  # no such pid
    mine = cache.folder / f"cache.tmp-{os.getpid()}-1.npz"  # a live process may still be writing it
    for leftover in (dead, mine):
        leftover.write_bytes(b"PK\x03\x04 half a zip")
    assert_holds(EmbeddingCache(tmp_path, NAME, DIM), OLD, OLD_VECTORS)
    cache.save()
    assert not dead.exists() and mine.exists()


def test_an_unreadable_cache_is_embedded_again_not_an_error(tmp_path):
    cache = saved_cache(tmp_path, "npz")
    (cache.folder / "cache.npz").write_bytes(b"not a zip")
    assert EmbeddingCache(tmp_path, NAME, DIM).missing(OLD) == OLD


def test_another_dimension_is_not_loaded(tmp_path):
    saved_cache(tmp_path, "npz")
    assert EmbeddingCache(tmp_path, NAME, DIM + 1).vectors == {}


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(999_999_999) and not pid_alive(0)
