"""Readers turn a file into plain text. One function per format, chosen by suffix."""

from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

SUPPORTED_SUFFIXES = (".txt", ".md")


class ReadError(ValueError):
    """A file that cannot be read as a policy document; the message says what to do."""


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as UTF-8, else GB18030 (a superset of GBK/GB2312), else the detected charset."""
    if not data.strip():
        raise ReadError(f"{name}: the file is empty; add its text or remove it from the corpus.")
    if b"\x00" in data[:4096]:
        raise ReadError(f"{name}: looks binary (NUL bytes); save it as UTF-8 text.")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise ReadError(f"{name}: cannot detect the text encoding; re-save it as UTF-8.")
    return str(best)


def read_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReadError(
            f"{path}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    text = decode_text(path.read_bytes(), str(path))
    return text.replace("\r\n", "\n").replace("\r", "\n")
