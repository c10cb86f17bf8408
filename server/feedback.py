"""Feedback on answers, appended durably to <data_dir>/feedback.jsonl (read by evals/feedback.py)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from policyqa.settings import Settings


def feedback_path(settings: Settings) -> Path:
    return settings.data_dir / "feedback.jsonl"


class FeedbackLog:
    """One JSON object per line. Appends are serialised by a lock and fsync'ed before the call returns,
    so an acknowledged line survives a crash; a torn last line left by a crash mid-write is skipped by the
    reader, and the next line starts on a line of its own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # after a torn line: start on a line of our own
                view = memoryview(line)
                while view:  # os.write may write less than asked
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)

    def read(self) -> list[dict]:
        """Every record, newest first, each with an `id`: a hash of its line, stable as lines are appended.
        A torn line (a crash mid-write) is skipped."""
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                rows.append(record | {"id": hashlib.sha1(line.encode("utf-8")).hexdigest()[:12]})
        return rows[::-1]
