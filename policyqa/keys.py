"""API keys scoped to collections: a school or a department reads and writes its own knowledge base only.

The keys live in one JSON file (POLICYQA_KEYS_FILE, default <data_dir>/keys.json) as SHA-256 hashes: the key
itself is shown once, when `policyqa keys add` makes it, and never stored. A plain hash is enough because the
keys are 256-bit random tokens (nothing to guess from a dictionary), and it keeps the per-request check cheap.
POLICYQA_API_KEY is not in the file: it stays the admin key, reading and writing every collection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from policyqa.settings import Settings

KEY_PREFIX = "pqa_"  # so a leaked key is recognisable in logs and secret scanners
NAME = re.compile(r"^[\w.\-]{1,64}$", re.UNICODE)  # 第一中学, dept-office, school_1
MAX_COLLECTION_CHARS = 50


class KeyError_(ValueError):
    """A refused key operation (bad name, unknown key, unreadable file); str(error) says what to do."""


def keys_path(settings: Settings) -> Path:
    return settings.keys_file or settings.data_dir / "keys.json"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_collection(name: str) -> str:
    """A collection name as stored: trimmed, NFC, printable, at most MAX_COLLECTION_CHARS characters."""
    name = unicodedata.normalize("NFC", str(name).strip())
    if not name or len(name) > MAX_COLLECTION_CHARS:
        raise KeyError_(f"a collection name has 1 to {MAX_COLLECTION_CHARS} characters, such as 学校制度; got "
                        f"{name!r}")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in name):
        raise KeyError_(f"the collection name {name!r} holds control characters; type it plainly")
    return name


@dataclass(frozen=True)
class ScopedKey:
    name: str
    key_sha256: str
    read: tuple[str, ...] = ()  # collections it reads (its write collections are readable too)
    write: tuple[str, ...] = ()  # collections it may upload into, delete from
    admin: bool = False  # every collection, reindex and law imports, like POLICYQA_API_KEY
    created_at: str = ""

    def to_json(self) -> dict:
        return asdict(self) | {"read": list(self.read), "write": list(self.write)}

    @classmethod
    def from_json(cls, data: dict) -> ScopedKey:
        return cls(str(data["name"]), str(data["key_sha256"]).lower(), tuple(data.get("read") or ()),
                   tuple(data.get("write") or ()), bool(data.get("admin", False)), str(data.get("created_at", "")))


@dataclass
class KeyStore:
    """The keys file: read when it changes (so `policyqa keys revoke` holds for a running server at its next
    request), written whole and atomically, readable by its owner only."""

    path: Path
    _seen: tuple[int, int] | None = field(default=None, repr=False)  # (mtime_ns, size) of the file read
    _keys: list[ScopedKey] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def keys(self) -> list[ScopedKey]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._seen:
                self._keys, self._seen = self._read(), stamp
            return list(self._keys)

    def _read(self) -> list[ScopedKey]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [ScopedKey.from_json(k) for k in data]
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
            # Failing closed: a broken file must not turn into "no keys" (then key-less reads could be open).
            raise KeyError_(f"{self.path}: not a list of keys as `policyqa keys add` writes them ({exc}); fix "
                            "the file or move it away and add the keys again") from exc

    def find(self, presented: str) -> ScopedKey | None:
        """The key whose hash the presented key has; compared in constant time."""
        if not presented:
            return None
        digest = key_hash(presented)
        found = None
        for k in self.keys():
            if hmac.compare_digest(digest, k.key_sha256):
                found = k
        return found

    def add(self, name: str, read: list[str], write: list[str], admin: bool = False) -> tuple[ScopedKey, str]:
        """A new key: the stored entry and the key itself (to show once)."""
        if not NAME.match(name):
            raise KeyError_(f"key name {name!r}: use letters, digits, '.', '-' or '_' (at most 64), such as "
                            "第一中学 or dept-office")
        if any(k.name == name for k in self.keys()):
            raise KeyError_(f"a key named '{name}' exists; revoke it first (`policyqa keys revoke {name}`) or "
                            "choose another name")
        read_, write_ = [check_collection(c) for c in read], [check_collection(c) for c in write]
        if not (read_ or write_ or admin):
            raise KeyError_("the key would reach nothing: give --read and/or --write collections, or --admin")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        entry = ScopedKey(name, key_hash(secret), tuple(dict.fromkeys(read_)), tuple(dict.fromkeys(write_)),
                          admin, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        self._write([*self.keys(), entry])
        return entry, secret

    def revoke(self, name: str) -> ScopedKey:
        keys = self.keys()
        gone = next((k for k in keys if k.name == name), None)
        if gone is None:
            raise KeyError_(f"no key named '{name}'; `policyqa keys list` shows them")
        self._write([k for k in keys if k.name != name])
        return gone

    def _write(self, keys: list[ScopedKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([k.to_json() for k in keys], f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
