"""What an import changes in the index, per law: added, removed, or which articles were added, removed or
reworded (by article number), and which metadata changed (status, version date)."""

from __future__ import annotations

from dataclasses import dataclass, field

from policyqa.models import Document

ADDED, CHANGED, REMOVED, UNCHANGED = "added", "changed", "removed", "unchanged"
WATCHED = (("status", "status"), ("version_date", "version"))  # extra keys worth a line when they change
SHOWN = 8  # article numbers named per list in a summary line; the rest are counted


def articles_of(doc: Document) -> dict[str, str]:
    """Article number -> text of an imported law (its leaf clauses). A number the law uses twice (a 决定
    numbering two parts alike) gets "(2)"."""
    parents = {c.parent_id for c in doc.clauses if c.parent_id}
    out: dict[str, str] = {}
    for c in doc.clauses:
        if c.clause_id in parents:
            continue
        key, n = c.number, 1
        while key in out:
            n += 1
            key = f"{c.number}({n})"
        out[key] = doc.text[c.start:c.end]
    return out


@dataclass
class LawChange:
    doc_id: str
    title: str
    kind: str  # added | changed | removed | unchanged
    articles: int = 0  # of the law as it is now (for a removed law: as it was)
    added: list[str] = field(default_factory=list)  # article numbers
    removed: list[str] = field(default_factory=list)
    reworded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # "status 现行有效 -> 已废止"

    def line(self) -> str:
        def named(numbers: list[str]) -> str:
            more = f" and {len(numbers) - SHOWN} more" if len(numbers) > SHOWN else ""
            return "、".join(numbers[:SHOWN]) + more

        if self.kind in (ADDED, REMOVED):
            return f"{self.kind} {self.doc_id} ({self.articles} articles)"
        parts = [*self.notes]
        parts += [f"{what} {named(numbers)}" for what, numbers in
                  (("reworded", self.reworded), ("added", self.added), ("removed", self.removed)) if numbers]
        return f"{self.kind} {self.doc_id}: {'; '.join(parts) or 'same articles, other metadata'}"

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "change": self.kind, "articles": self.articles,
                "articles_added": self.added, "articles_removed": self.removed,
                "articles_reworded": self.reworded, "notes": self.notes}


def compare(old: Document | None, new: Document | None) -> LawChange:
    """The change from `old` (None: not indexed) to `new` (None: no longer in the source)."""
    doc = new or old
    assert doc is not None, "compare needs a document on one side at least"
    if old is None:
        return LawChange(doc.doc_id, doc.title, ADDED, len(articles_of(doc)))
    if new is None:
        return LawChange(doc.doc_id, doc.title, REMOVED, len(articles_of(doc)))
    before, after = articles_of(old), articles_of(new)
    change = LawChange(doc.doc_id, doc.title, CHANGED, len(after),
                       added=[n for n in after if n not in before], removed=[n for n in before if n not in after],
                       reworded=[n for n in after if n in before and after[n] != before[n]])
    for key, label in WATCHED:
        was, now = old.extra.get(key, ""), new.extra.get(key, "")
        if was != now:
            change.notes.append(f"{label} {was or '-'} -> {now or '-'}")
    if old.source_hash == new.source_hash:
        change.kind = UNCHANGED
    return change


@dataclass
class ChangeReport:
    changes: list[LawChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # laws that could not be imported, and why

    def of(self, kind: str) -> list[LawChange]:
        return [c for c in self.changes if c.kind == kind]

    def summary(self) -> str:
        counts = ", ".join(f"{len(self.of(k))} {k}" for k in (ADDED, CHANGED, REMOVED, UNCHANGED))
        articles = sum(c.articles for c in self.changes if c.kind != REMOVED)
        return f"{len(self.changes) - len(self.of(REMOVED))} laws ({articles} articles): {counts}"

    def lines(self) -> list[str]:
        """A line per law that is not unchanged."""
        return [c.line() for c in self.changes if c.kind != UNCHANGED]
