"""Uploaded documents: safe file names inside <data_dir>/uploads/, their metadata sidecars, staging files."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

from ingest.archives import ARCHIVE_SUFFIXES, is_archive
from ingest.metadata import sidecar_path
from ingest.pipeline import FOLDER_NOTES, doc_id_for
from ingest.readers import SUPPORTED_SUFFIXES
from policyqa.keys import KeyError_, check_collection
from policyqa.settings import Settings

UPLOAD_METADATA_KEYS = ("title", "doc_number", "issuer", "date", "doc_type", "source", "collection")
MAX_NAME_BYTES = 180  # well under the usual 255-byte file name limit, room for the sidecar's .meta.json
MAX_METADATA_VALUE = 500
# Letters and digits of any script (Chinese names stay as they are), a few separators and CJK brackets.
UNSAFE_CHARS = re.compile(r"[^\w\-.()（）《》〔〕【】\[\] ]", re.UNICODE)


class UploadError(ValueError):
    """A refused upload; `status` is the HTTP status to answer with, str(error) says what to do."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def safe_upload_name(raw: str | None) -> str:
    """A file name to save an upload under, or UploadError.

    Directories are stripped (`a/b/政策.txt` -> `政策.txt`); `..` components, absolute paths, control
    characters and names a folder ingest would skip (hidden files, README and such) are refused;
    other characters outside letters, digits and a few separators become `_`.
    """
    if not raw or not raw.strip():
        raise UploadError("the upload has no file name; send it as a multipart file named like 政策.txt")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in raw):
        raise UploadError("the file name contains control characters; rename the file")
    name = unicodedata.normalize("NFC", raw.strip()).replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise UploadError("absolute paths are not accepted as file names; send the bare file name")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UploadError("file names with '..' are not accepted; send the bare file name")
    if not parts:
        raise UploadError("the upload has no file name")
    name = UNSAFE_CHARS.sub("_", parts[-1]).strip(" ")
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in accepted_suffixes():
        raise UploadError(f"unsupported file type '{suffix or '(none)'}'; supported: "
                          f"{', '.join(accepted_suffixes())}", 415)
    if name.startswith(".") or not stem.strip("._- "):
        raise UploadError(f"'{name}' is not usable as a document name (hidden or empty); rename the file")
    if FOLDER_NOTES.match(name) or name.lower().endswith(".meta.json"):
        raise UploadError(f"'{name}' is the name of a folder note that ingest skips; rename the file")
    while len(name.encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
        name = stem + suffix.lower()
    return stem + suffix.lower()


def accepted_suffixes() -> tuple[str, ...]:
    """What an upload may be: every format ingest reads (format modules included), and zip archives of them."""
    return SUPPORTED_SUFFIXES + ARCHIVE_SUFFIXES


def inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def parse_metadata(raw: str | None) -> dict[str, str]:
    """The `metadata` form field: a JSON object with sidecar keys (title, doc_number, ...), all strings."""
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UploadError(f"metadata is not valid JSON ({exc.msg}); send an object such as "
                          '{"title": "...", "issuer": "..."}') from exc
    if not isinstance(data, dict):
        raise UploadError(f"metadata must be a JSON object with keys among {', '.join(UPLOAD_METADATA_KEYS)}")
    unknown = sorted(set(data) - set(UPLOAD_METADATA_KEYS))
    if unknown:
        raise UploadError(f"unknown metadata keys {', '.join(unknown)}; allowed: "
                          f"{', '.join(UPLOAD_METADATA_KEYS)}")
    out = {}
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str | int):
            raise UploadError(f"metadata '{key}' must be a string")
        value = str(value).strip()
        if len(value) > MAX_METADATA_VALUE:
            raise UploadError(f"metadata '{key}' is over {MAX_METADATA_VALUE} characters")
        if key == "collection" and value:
            try:
                value = check_collection(value)
            except KeyError_ as exc:
                raise UploadError(f"metadata 'collection': {exc}") from exc
        if value:
            out[key] = value
    return out


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def staging_path(folder: Path, job_id: str, name: str) -> Path:
    """Where an upload waits for its job: hidden and with an unsupported suffix, so ingest never reads it."""
    return folder / f".{job_id}.{name}.part"


SET_ASIDE = ".replaced"  # suffix of a file an upload replaces, kept until the new one is indexed


def uploaded_files(folder: Path, doc_id: str) -> list[Path]:
    """The uploaded document file(s) with this id (another suffix, or a name that slugs alike). Archives are
    not among them: their documents have ids of their own (ingest.pipeline.member_doc_id)."""
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".meta.json")
            and not is_archive(p) and doc_id_for(p) == doc_id]


def set_aside(target: Path, job_id: str) -> list[str]:
    """Move the uploads `target` replaces (same document id) and their sidecars to hidden names, where
    ingest does not see them; `restore_set_aside` brings them back if the new file fails. Returns the
    document file names set aside."""
    names = []
    # An archive replaces the archive of its name only (its members replace their earlier versions).
    earlier = [target] if target.is_file() else []
    for path in earlier if is_archive(target) else uploaded_files(target.parent, doc_id_for(target)):
        for part in (path, sidecar_path(path)):
            if part.exists():
                os.replace(part, part.with_name(f".{job_id}.{part.name}{SET_ASIDE}"))
        names.append(path.name)
    return names


def set_aside_files(folder: Path, job_id: str) -> list[Path]:
    prefix = f".{job_id}."
    return sorted(p for p in folder.glob(f"{prefix}*{SET_ASIDE}")) if folder.is_dir() else []


def restore_set_aside(folder: Path, job_id: str) -> list[str]:
    """Put back what `set_aside` moved for this job; returns the document file names restored."""
    restored = []
    for path in set_aside_files(folder, job_id):
        original = path.with_name(path.name[len(job_id) + 2:-len(SET_ASIDE)])
        os.replace(path, original)
        if not original.name.endswith(".meta.json"):
            restored.append(original.name)
    return restored


def drop_set_aside(folder: Path, job_id: str) -> list[str]:
    """Delete what `set_aside` kept for this job, once the new file is indexed; returns the file names."""
    dropped = []
    for path in set_aside_files(folder, job_id):
        path.unlink(missing_ok=True)
        name = path.name[len(job_id) + 2:-len(SET_ASIDE)]
        if not name.endswith(".meta.json"):
            dropped.append(name)
    return dropped


def place_upload(staged: Path, target: Path, metadata: dict[str, str]) -> None:
    """Move a staged upload to its place and write (or clear) its sidecar."""
    os.replace(staged, target)
    side = sidecar_path(target)
    if metadata:
        write_atomic(side, json.dumps(metadata, ensure_ascii=False, indent=2).encode())
    else:
        side.unlink(missing_ok=True)  # an earlier upload's metadata must not stick to a new file


def remove_upload(path: Path) -> None:
    path.unlink(missing_ok=True)
    sidecar_path(path).unlink(missing_ok=True)


def remove_uploads_of(folder: Path, doc_id: str) -> list[str]:
    """Remove the uploaded file(s) of a document id with their sidecars; returns the names removed."""
    removed = []
    for path in uploaded_files(folder, doc_id):
        remove_upload(path)
        removed.append(path.name)
    return removed
