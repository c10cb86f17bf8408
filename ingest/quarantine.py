"""Files that could not be read are quarantined: recorded with the reason, and not read again until their
content changes, so a hostile file costs one parse, not one per reindex. The file stays where it is.

The record is `<data_dir>/quarantine.json`, keyed by each file's absolute path and replaced atomically.
`policyqa documents --failed` and the server list `Quarantine(data_dir).entries()`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import datetime
from pathlib import Path

FILE_NAME = "quarantine.json"
_LOCK = threading.Lock()  # the server's jobs and requests share one process


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class Quarantine:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME

    def entries(self) -> list[dict]:
        """Every quarantined file: path, name, sha256, message (why, and what to do) and since (local ISO
        time), sorted by path."""
        return [{"path": key, "name": Path(key).name, **record} for key, record in sorted(self._load().items())]

    def record(self, path: Path, message: str) -> dict:
        """Quarantine the file as it is now. A leading "<path>: " is dropped from the message: the entry
        names the file."""
        entry = {"sha256": sha256_of(path), "message": message.removeprefix(f"{path}: "),
                 "since": datetime.now().astimezone().isoformat(timespec="seconds")}
        with _LOCK:
            records = self._load()
            records[key(path)] = entry
            self._save(records)
        return {"path": key(path), "name": path.name, **entry}

    def clear(self, path: Path) -> bool:
        """Forget the file (it was read, or replaced); True if it was quarantined."""
        with _LOCK:
            records = self._load()
            if records.pop(key(path), None) is None:
                return False
            self._save(records)
            return True

    def is_quarantined(self, path: Path) -> dict | None:
        """The file's entry if it is quarantined with the content it has now; None once it changed."""
        record = self._load().get(key(path))
        try:
            if record is None or sha256_of(path) != record["sha256"]:
                return None
        except OSError:  # gone or unreadable: the caller reports that
            return None
        return {"path": key(path), "name": path.name, **record}

    def _load(self) -> dict[str, dict]:
        try:
            records = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            records = None
        # A damaged record is read as empty: at worst a failed file is parsed once more (in the sandbox), and
        # the next record rewrites it whole.
        return records if isinstance(records, dict) else {}

    def _save(self, records: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)  # readers see the old record or the new one, never half of one


def key(path: Path) -> str:
    return str(Path(path).resolve())
