"""Which laws an import takes: a scope (a list of law names kept as data, or `all`) and their status."""

from __future__ import annotations

import datetime as dt
import importlib.resources
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from ingest.laws.source import AMENDED, HISTORICAL, IN_FORCE, LawInfo

ALL = "all"
SUFFIX = "_scope.tsv"  # ingest/laws/<name>_scope.tsv: one scope a file


class ScopeError(ValueError):
    """An unknown or unreadable scope; str(error) names the scopes there are."""


@dataclass(frozen=True)
class Scope:
    name: str
    reasons: dict[str, str] | None  # law name -> why it is in the scope; None: every law

    def includes(self, law_name: str) -> bool:
        return self.reasons is None or law_name in self.reasons


def _files() -> dict[str, Traversable]:
    folder = importlib.resources.files("ingest.laws")
    return {f.name[:-len(SUFFIX)]: f for f in folder.iterdir() if f.name.endswith(SUFFIX)}


def scope_names() -> list[str]:
    return sorted(_files()) + [ALL]


def load_scope(name: str) -> Scope:
    if name == ALL:
        return Scope(ALL, None)
    found = _files().get(name)
    if found is None:
        raise ScopeError(f"no law scope '{name}'; choose one of: {', '.join(scope_names())}.")
    reasons: dict[str, str] = {}
    lines = found.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#") or line.startswith("law\t"):  # comments, the header
            continue
        law, _, reason = line.partition("\t")
        if not reason.strip():
            raise ScopeError(f"{found.name} line {n}: '{line}' needs a law name, a tab and the reason it is in "
                             "the scope.")
        reasons[law.strip()] = reason.strip()
    return Scope(name, reasons)


def takes_effect(law: LawInfo) -> str:
    """The day a version takes effect: its effective date, or its version date when later (an amended
    version keeps the first effective date of the law in the data)."""
    return max(law.effective_date[:10], law.version_date[:10])


def select(laws: list[LawInfo], scope: Scope, include_repealed: bool = False, today: str = "") -> list[LawInfo]:
    """The law versions of the scope in force: 现行有效; 已被修改 (the law is in force and this is the only
    text of it, its amendments are laws of their own); and an earlier version (历史版本) while the version
    replacing it has not taken effect yet. With `include_repealed`, every version."""
    today = today or dt.date.today().isoformat()
    pending = {law.name for law in laws if law.status in (IN_FORCE, AMENDED) and takes_effect(law) > today}
    return [law for law in laws if scope.includes(law.name) and (
        include_repealed or law.status in (IN_FORCE, AMENDED) or (law.status == HISTORICAL and law.name in pending))]
