"""Search filters on document metadata: which documents, issuer, type, year, collection, and which versions.

Versions: the national law library (collection 国家法律, ingest/laws) holds repealed laws and earlier
versions beside the laws in force. A search uses the version of each law in force unless the filters ask
for history (`in_force=False`, or `as_of` a date). Documents from files are not versioned this way.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from policyqa.models import Document

LAWS = "国家法律"  # the collection of the national law library (Document.extra["collection"])
LOCAL = "本地文件"  # documents from files, which carry no collection


@dataclass
class SearchFilters:
    doc_ids: list[str] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)  # substring match: 教育局 matches 仁怀市教育局
    doc_types: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    # None: the law library's versions not in force today are left out, other documents all kept;
    # True: every document must be in force (not abolished, not superseded, effective); False: all kept.
    in_force: bool | None = None
    as_of: str = ""  # YYYY-MM-DD: each law's version in force that day; other documents effective by then
    collections: list[str] = field(default_factory=list)  # LAWS, LOCAL

    def active(self) -> bool:
        """Whether the filters narrow the search beyond the default (in_force=False widens it, to history)."""
        return bool(self.doc_ids or self.issuers or self.doc_types or self.years or self.in_force
                    or self.as_of or self.collections)


def collection_of(doc: Document) -> str:
    return doc.extra.get("collection") or LOCAL


def version_start(doc: Document) -> str:
    """The day a version took effect (YYYY-MM-DD, "" when unknown): its effective date, or its version
    date when that is later. The library keeps a law's first effective date on its amended versions (the
    2018 version of a law amended in 2018 may say 2006-09-01), and an amendment takes effect when passed
    unless it says otherwise. A date given as a year alone counts from the year's first day."""
    dates = [d[:10] for d in (doc.effective_date, doc.extra.get("version_date") or doc.date)
             if re.fullmatch(r"\d{4}(-\d\d){0,2}", d[:10])]
    return max((d + "-01" * (2 - d.count("-")) for d in dates), default="")  # a year alone: its first day


def law_name(title: str) -> str:
    """The name that is the same across a law's versions and short forms: 《中华人民共和国教育法(2021修正)》
    and 《教育法》 are both 教育法."""
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", title)).strip("《》")
    return re.sub(r"\([^()]*\)$", "", name).removeprefix("中华人民共和国")


def document_priors(documents: dict[str, Document], library_weight: float = 1.0,
                    library_scope: AbstractSet[str] | None = None, outside_scope_weight: float = 1.0) -> dict[str, float]:
    """Each document's prior, multiplying its fused scores (retrieval.search.Retriever): the law library's
    articles by `library_weight`, and those of a law outside `library_scope` (law names as `law_name` gives
    them) by `outside_scope_weight` as well. A bureau's files keep 1.0: it uploaded them on purpose, while
    `laws import --scope all` brings some 300 other laws (海商法, 证券法 …) whose articles share words with school
    questions without answering them. Only documents whose prior is not 1.0 are listed."""
    priors = {}
    for doc_id, doc in documents.items():
        if collection_of(doc) != LAWS:
            continue
        weight = library_weight
        if library_scope is not None and law_name(doc.title) not in library_scope:
            weight *= outside_scope_weight
        if weight != 1.0:
            priors[doc_id] = weight
    return priors


def laws_in_force(documents: dict[str, Document], on: str, today: str | None = None) -> set[str]:
    """The ids of the law library's versions in force on a day: of each law, the version that took effect
    last by then. On a past day that is all (the library gives no repeal dates); from today on, a repealed
    law is left out, and so is a replaced version unless its successor has not taken effect yet."""
    today = today or dt.date.today().isoformat()
    versions: dict[str, list[Document]] = {}
    for doc in documents.values():
        if collection_of(doc) == LAWS:
            versions.setdefault(law_name(doc.title), []).append(doc)
    found = set()
    for docs in versions.values():
        started = [d for d in docs if version_start(d) <= on]
        if not started:
            continue  # not in force yet
        latest = max(started, key=version_start)
        pending = any(version_start(d) > on for d in docs)
        if on < today or not (latest.abolished or (latest.superseded_by and not pending)):
            found.add(latest.doc_id)
    return found


def lifecycle_ok(doc: Document, filters: SearchFilters, current_laws: set[str], today: str) -> bool:
    if collection_of(doc) == LAWS:
        return (filters.in_force is False and not filters.as_of) or doc.doc_id in current_laws
    if filters.as_of and version_start(doc) > filters.as_of:
        return False
    if filters.in_force:
        return not (doc.abolished or doc.superseded_by) and version_start(doc) <= (filters.as_of or today)
    return True


def document_matches(doc: Document, filters: SearchFilters, current_laws: set[str], today: str) -> bool:
    """Whether the document passes; `current_laws` is `laws_in_force` of the index on the filters' day."""
    if filters.doc_ids and doc.doc_id not in filters.doc_ids:
        return False
    if filters.issuers and not any(i in doc.issuer for i in filters.issuers):
        return False
    if filters.doc_types and not any(t in doc.doc_type for t in filters.doc_types):
        return False
    if filters.years and not (doc.date[:4].isdigit() and int(doc.date[:4]) in filters.years):
        return False
    if filters.collections and collection_of(doc) not in filters.collections:
        return False
    return lifecycle_ok(doc, filters, current_laws, today)


def allowed_documents(documents: dict[str, Document], filters: SearchFilters) -> set[str] | None:
    """The ids of the documents that pass the filters; None when all do (nothing to restrict)."""
    today = dt.date.today().isoformat()
    current_laws = laws_in_force(documents, filters.as_of or today, today)
    ok = {doc_id for doc_id, doc in documents.items() if document_matches(doc, filters, current_laws, today)}
    return None if len(ok) == len(documents) else ok
