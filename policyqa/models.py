"""The typed records carried from ingest to citation."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def _from_dict(cls, data: dict[str, Any]):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Clause:
    """A node of a document's clause tree. `number` is the heading label (一, (三), 3); `path` is readable."""

    clause_id: str  # doc_id#四.(三)
    number: str
    heading: str  # the heading text after the number, may be empty
    path: str  # 四、工作内容 › (三)
    level: int
    start: int  # character offsets into Document.text
    end: int
    parent_id: str | None = None

    to_dict = asdict
    from_dict = classmethod(_from_dict)

    @property
    def is_article(self) -> bool:
        """A 第X条 clause: the unit a law or regulation is cited by. Its `heading` is only its first
        words (for the path); its text is a rule, never a bare title."""
        return self.number.startswith("第") and self.number.endswith("条")


@dataclass
class ResponsibilityRecord:
    """A task with its lead and assisting offices, e.g. from a 牵头股室/协助股室 table."""

    task: str
    lead: list[str]
    assisting: list[str]
    clause_id: str
    number: str = ""
    lead_label: str = "牵头"  # the table's own column names, e.g. 牵头股室 / 协助股室
    assist_label: str = "协助"
    deadline: str = ""  # the row's 完成时限 as written ("2024年6月底前", "长期坚持"); "" when the table has none
    deadline_label: str = "完成时限"

    to_dict = asdict
    from_dict = classmethod(_from_dict)

    def render(self) -> str:
        text = f"{self.task}:{self.lead_label} {'、'.join(self.lead)}"
        if self.assisting:
            text += f";{self.assist_label} {'、'.join(self.assisting)}"
        if self.deadline:
            text += f";{self.deadline_label} {self.deadline}"
        return text


@dataclass
class Document:
    doc_id: str
    title: str
    text: str  # cleaned full text; chunk and clause offsets point into it
    source_path: str = ""
    source_hash: str = ""
    doc_number: str = ""  # 文号
    issuer: str = ""
    date: str = ""
    doc_type: str = ""
    source: str = ""
    issued_date: str = ""  # 印发 date, when the text states one apart from the 成文 date in `date`
    effective_date: str = ""  # lifecycle fields come from the sidecar
    abolished: bool = False
    superseded_by: str = ""
    parts: list[dict[str, Any]] = field(default_factory=list)  # cover notice + the plan it issues (印发)
    clauses: list[Clause] = field(default_factory=list)
    records: list[ResponsibilityRecord] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)  # noise lines removed, by kind
    page_starts: list[int] = field(default_factory=list)  # PDF: offset where each page begins
    removed_lines: list[list[str]] = field(default_factory=list)  # [kind, line]: what cleaning dropped
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # sidecar fields we keep but do not interpret
    read_method: str = "read"  # how the text was got: "read", "ocr" or "converted" (ingest.readers.Read)
    read_info: dict[str, Any] = field(default_factory=dict)  # e.g. OCR confidence per page, the converter

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def page_of(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect_right(self.page_starts, offset)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        doc = _from_dict(cls, data)
        doc.clauses = [Clause.from_dict(c) for c in data.get("clauses", [])]
        doc.records = [ResponsibilityRecord.from_dict(r) for r in data.get("records", [])]
        return doc


# Clause ids (after the document id) of what a document has before its first clause: the text before it
# (ingest/structure.py) and a cover notice that issues the document (ingest/pipeline.py).
FRONT_MATTER = ("#preamble", "#notice")


@dataclass
class Chunk:
    """The unit that is embedded, searched and cited."""

    chunk_id: str  # clause id, plus ~N when a clause is split
    doc_id: str
    clause_id: str
    clause_path: str
    text: str  # verbatim slice of Document.text (what a citation quotes)
    start: int
    end: int
    index_text: str = ""  # what is embedded/indexed: title + path + text (+ rendered records)
    page: int | None = None  # 1-based page of the chunk's start, for paged sources (PDF)
    records: list[ResponsibilityRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        chunk = _from_dict(cls, data)
        chunk.records = [ResponsibilityRecord.from_dict(r) for r in data.get("records", [])]
        return chunk
