"""One writer at a time per index folder, across processes.

Every change of the index reads its contents, builds a new folder and swaps it in. Two changes that overlap
lose one of them: a `policyqa ingest` in a terminal while the server imports the law library (a first start's
import runs for minutes) would be undone when the import swaps in the folder it built from what it read before.
So each change holds an exclusive lock on `<index folder>.lock` (beside the folder, which is swapped) for the
whole read-build-swap; a second writer waits, and says whom it waits for. Readers never take it: a folder is
swapped in whole.

POSIX `flock`; where it does not exist (Windows) changes are not locked, as before.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

_held = threading.local()  # the lock files this thread holds: a change that calls another does not wait for itself


def lock_path(index_folder: Path) -> Path:
    return index_folder.with_name(index_folder.name + ".lock")


def holder(index_folder: Path) -> str:
    """Who holds (or last held) the lock, as the file says: "pid 123: laws import"."""
    try:
        info = json.loads(lock_path(index_folder).read_text(encoding="utf-8"))
        return f"pid {info['pid']}: {info['what']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def index_write_lock(index_folder: Path, what: str,
                     waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index folder's write lock for `what` (an ingest, a laws import, a delete). When another
    process holds it, `waiting` hears once whom this one waits for, then the call blocks until it is free."""
    path = lock_path(index_folder)
    held = getattr(_held, "paths", set())
    if fcntl is None or str(path) in held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting(f"waiting for {holder(index_folder)}, which is changing the index at {index_folder}")
            started = time.monotonic()
            fcntl.flock(f, fcntl.LOCK_EX)
            if waiting is not None:
                waiting(f"the other change ended after {time.monotonic() - started:.0f} s; going on")
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "what": what}, ensure_ascii=False))
        f.flush()
        _held.paths = held | {str(path)}
        try:
            yield
        finally:
            _held.paths = held
            fcntl.flock(f, fcntl.LOCK_UN)
