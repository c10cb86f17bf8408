"""The one document a question names, if it names one: by its 文号 ("国办71号文") or by who issued it and
when ("中办国办2020年那个意见", "the 2020 CPC/State Council opinion"). The service then searches that
document only, so the answer comes from it rather than from another document that uses the same words.

Title words are not used: a run of title characters unique among titles ("义务教育阶段学校") is often a
common phrase of the body texts, and would confine a general question to one document.
"""

from __future__ import annotations

import re

from answer.compose import document_texts
from answer.doc_facts import MULTI_Q, documents_by_number
from answer.question import analyse, name_found, norm
from policyqa.models import Document

# How staff and English questions name issuers, and the words of the issuer field they stand for.
ISSUER_WORDS = {
    "中办": "中共中央办公厅", "国办": "国务院办公厅", "党中央": "中共中央", "中共中央": "中共中央",
    "国务院": "国务院", "教育部": "教育部", "教育厅": "教育厅", "教委": "教育委员会",
    "cpc": "中共中央", "communist party": "中共中央", "state council": "国务院",
    "ministry of education": "教育部", "moe": "教育部",
}
ENGLISH_ISSUER = re.compile(r"\b(cpc|communist party|state council|ministry of education|moe)\b", re.I)
YEAR = re.compile(r"((?:19|20)\d\d)\s*(?:年|\b)")


def year_of(doc: Document) -> str:
    found = re.search(r"(?:19|20)\d\d", doc.issued_date or doc.date or doc.doc_number or doc.title)
    return found.group(0) if found else ""


def by_issuer_and_year(question: str, documents: dict[str, Document]) -> list[Document]:
    """Documents whose issuer has every issuer word of the question and whose year is the one it gives."""
    lowered = question.lower()
    words = [zh for key, zh in ISSUER_WORDS.items()
             if (ENGLISH_ISSUER.search(key) and re.search(rf"\b{key}\b", lowered)) or
             (not ENGLISH_ISSUER.search(key) and key in question)]
    years = {m.group(1) for m in YEAR.finditer(question)}
    if not words or not years:
        return []
    return [d for d in documents.values()
            if all(w in norm(d.issuer + d.title) for w in words) and year_of(d) in years]


def named_document(question: str, documents: dict[str, Document]) -> str | None:
    """The id of the one document the question names, or None (none named, several, or a question about
    several documents: "分别", or a place the named document does not mention, as in "国办71号文和泉州方案")."""
    if MULTI_Q.search(question) or len(documents) < 2:
        return None
    for finder in (documents_by_number, by_issuer_and_year):
        found = finder(question, documents)
        if len(found) > 1:
            return None  # the question's words fit several documents: do not guess
        if found:
            doc = found[0]
            text = document_texts(documents)[doc.doc_id]
            places = [p for p in analyse(question).names if not p.endswith("法")]
            return None if any(not name_found(p, text) for p in places) else doc.doc_id
    return None
