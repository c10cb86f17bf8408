"""The national law library's last import, and whether `serve --ingest` (what `make run` starts) imports it.

A fresh install indexes corpus/ only, so a question the national laws decide ("学校能开除初中生吗?": 义务教育法
第二十七条) was answered from the nearest local clause. A start with --ingest therefore imports the laws of
`laws_at_start` in the background (questions are answered meanwhile from what is indexed) when they were never
imported or the package was updated since; otherwise it does nothing, so a law deleted on purpose stays deleted
until the next package update. The record is written by every successful import (CLI, API or start).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.laws.documents import current_versions, law_doc_id
from ingest.laws.scope import ALL, Scope, select
from ingest.laws.source import LawSource
from retrieval.index import read_manifest

RECORD = "law_library.json"  # in the data folder, beside the index (not inside it: a rebuild replaces that)
NEVER = "never"  # laws_at_start: the library is imported only by `policyqa laws import` or the API


@dataclass(frozen=True)
class LibraryRecord:
    """What the last successful import took: from which package version, which scope."""

    source: str
    version: str
    scope: str
    include_repealed: bool
    finished_at: str

    def covers(self, scope: Scope) -> bool:
        return self.scope in (scope.name, ALL)


def record_path(data_dir: Path) -> Path:
    return data_dir / RECORD


def read_record(data_dir: Path) -> LibraryRecord | None:
    """The last import's record; None when there is none or it cannot be read (the next start imports again,
    which finds unchanged laws unchanged and embeds nothing)."""
    try:
        return LibraryRecord(**json.loads(record_path(data_dir).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_record(data_dir: Path, source: LawSource, scope: Scope, include_repealed: bool) -> LibraryRecord:
    old = read_record(data_dir)
    # An import of the education scope after one of `all` leaves the other laws in the index (an import
    # keeps every law imported before, brought up to date), so the record keeps the wider scope.
    name = ALL if old is not None and old.scope == ALL else scope.name
    record = LibraryRecord(source.name, source.version, name, include_repealed,
                           dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    path = record_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(record), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)  # a reader sees the old record or the new one, never half of one
    return record


def due_at_start(data_dir: Path, index_folder: Path, source: LawSource, scope: Scope) -> str | None:
    """Why a start should import the laws of `scope` (said to the user), or None when it should not."""
    record = read_record(data_dir)
    if record is None:
        return "the national law library has not been imported into this index yet"
    if record.version != source.version:
        return f"{source.name} was updated ({record.version} → {source.version}): imported laws are brought up to date"
    if not record.covers(scope):
        return f"the last import took the scope '{record.scope}', not '{scope.name}'"
    laws = source.laws()
    current = current_versions(laws)
    wanted = {law_doc_id(law, current[law.name]) for law in select(laws, scope)}
    indexed = (read_manifest(index_folder) or {}).get("documents", {})
    if wanted and not wanted & indexed.keys():
        return "the index holds none of the laws imported before (its folder was made again without them)"
    return None

