"""What a citation says about laws: the version of a cited law (status, version date, a newer version the
index holds), and the indexed documents a cited policy refers to ("依据《中华人民共和国教育法》…",
"根据《教育法》第二十九条"), so the reader can go to them.

References are found in the document's text at answer time (a regular expression over one document per
citation) and linked by title: the whole title, or the law's name without 中华人民共和国 and a trailing
"(2021修正)", so 《教育法》 finds 中华人民共和国教育法. No law is listed by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.question import CN_NUM, cn_number, norm
from policyqa.models import Chunk, Document
from retrieval.filters import LAWS, collection_of, law_name, version_start

# 《title》 and, right after it, the article it names: 《中华人民共和国教育法》第二十九条
REFERENCE = re.compile(rf"《([^《》\n]{{2,60}})》(?:\s*(第[{CN_NUM}\d]+条))?")


@dataclass(frozen=True)
class LawVersion:
    status: str  # 现行有效, 已废止, 历史版本, 已被修改
    version_date: str
    newer: Document | None  # the index's newest version of the law, when this is not it


@dataclass(frozen=True)
class Reference:
    document: Document
    article: str = ""  # 第二十九条, when the reference names one
    clause_id: str = ""  # that article's clause in the document


def versioned(doc: Document) -> bool:
    """A document with a law's status: the law library's, or a law file whose sidecar gives one."""
    return collection_of(doc) == LAWS or bool(doc.extra.get("status"))


def version_info(doc: Document, documents: dict[str, Document]) -> LawVersion | None:
    """The cited law's status and version date, with the newer version when the index holds one; None for
    a document that is not a versioned law."""
    if not versioned(doc):
        return None
    name, start = law_name(doc.title), version_start(doc)
    later = [d for d in documents.values()
             if d.doc_id != doc.doc_id and versioned(d) and law_name(d.title) == name and version_start(d) > start]
    newer = documents.get(doc.superseded_by) or max(later, key=version_start, default=None)
    return LawVersion(doc.extra.get("status", ""), doc.extra.get("version_date") or doc.date, newer)


def article_number(label: str) -> int | None:
    """27 for 第二十七条 (or 第27条); None for a label that is not an article's."""
    return cn_number(label[1:-1]) if label.startswith("第") and label.endswith("条") else None


def article_clause(doc: Document, article: str) -> str:
    """The id of the document's clause numbered as the article (第二十九条), or ""."""
    n = article_number(article)
    return next((c.clause_id for c in doc.clauses if article_number(c.number) == n), "")


def is_law(doc: Document) -> bool:
    """A law rather than a policy: of the law library, or titled as a law (…法)."""
    return collection_of(doc) == LAWS or law_name(doc.title).endswith(("法", "法典"))


def references(doc: Document, chunk: Chunk, documents: dict[str, Document]) -> list[Reference]:
    """The indexed documents the cited document refers to by title: those in the cited passage first, then
    the rest of the document's. Of a law with several versions, the one in force is meant."""
    by_name: dict[str, Document] = {}
    for d in documents.values():
        for key in {norm(d.title), law_name(d.title)}:
            held = by_name.get(key)
            if held is None or current_first(d) > current_first(held):
                by_name[key] = d
    found: dict[tuple[str, str], Reference] = {}
    for text in (chunk.text, doc.text):
        for m in REFERENCE.finditer(text):
            target = by_name.get(norm(m.group(1))) or by_name.get(law_name(m.group(1)))
            if target is None or target.doc_id == doc.doc_id:
                continue
            article = m.group(2) or ""
            clause_id = article_clause(target, article) if article else ""
            found.setdefault((target.doc_id, clause_id), Reference(target, article if clause_id else "", clause_id))
    # a document linked at an article is not linked again as a whole
    at_articles = {doc_id for doc_id, clause_id in found if clause_id}
    return [r for (doc_id, clause_id), r in found.items() if clause_id or doc_id not in at_articles]


def current_first(doc: Document) -> tuple[bool, str]:
    """How a version ranks as the one a reference means: in force first, then the latest."""
    return not (doc.abolished or doc.superseded_by), version_start(doc)
