"""Search filters on document metadata: which documents, issuer, type, year, in force only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from policyqa.models import Document


@dataclass
class SearchFilters:
    doc_ids: list[str] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)  # substring match: 教育局 matches 仁怀市教育局
    doc_types: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    in_force: bool = False  # not abolished, not superseded, effective date (if any) not in the future

    def active(self) -> bool:
        return bool(self.doc_ids or self.issuers or self.doc_types or self.years or self.in_force)


def in_force(doc: Document, today: dt.date | None = None) -> bool:
    if doc.abolished or doc.superseded_by:
        return False
    if doc.effective_date:
        try:
            return dt.date.fromisoformat(doc.effective_date[:10]) <= (today or dt.date.today())
        except ValueError:
            return True  # an unparseable date does not hide the document
    return True


def document_matches(doc: Document, filters: SearchFilters) -> bool:
    if filters.doc_ids and doc.doc_id not in filters.doc_ids:
        return False
    if filters.issuers and not any(i in doc.issuer for i in filters.issuers):
        return False
    if filters.doc_types and not any(t in doc.doc_type for t in filters.doc_types):
        return False
    if filters.years and not (doc.date[:4].isdigit() and int(doc.date[:4]) in filters.years):
        return False
    return not filters.in_force or in_force(doc)


def allowed_rows(documents: dict[str, Document], chunk_doc_ids: list[str], filters: SearchFilters) -> np.ndarray:
    """Row numbers of the chunks whose document passes the filters."""
    ok = {doc_id for doc_id, doc in documents.items() if document_matches(doc, filters)}
    return np.array([row for row, doc_id in enumerate(chunk_doc_ids) if doc_id in ok], dtype=np.int64)
