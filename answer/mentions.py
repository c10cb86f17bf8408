"""The one document a question names, if it names one: by its 文号 (a number such as "71号文") or by who
issued it and in which year (an issuer's abbreviation and a year). The service then searches that document
only, so the answer comes from it rather than from another document that uses the same words.

Title words are not used: a run of title characters unique among titles is often a common phrase of the
body texts, and would confine a general question to one document.
"""

from __future__ import annotations

import datetime as dt
import re

from answer.doc_facts import documents_by_number
from answer.question import Question, name_found, norm
from answer.refusal import corpus_texts
from answer.vocab import issuer_words
from policyqa.models import Document
from retrieval.filters import LAWS, collection_of, law_name, laws_in_force, version_start

YEAR = re.compile(r"((?:19|20)\d\d)\s*(?:年|\b)")


def year_of(doc: Document) -> str:
    found = re.search(r"(?:19|20)\d\d", doc.issued_date or doc.date or doc.doc_number or doc.title)
    return found.group(0) if found else ""


def issuer_words_in(question: str) -> list[str]:
    """The issuer-field words of the issuing bodies a question names ("国办" -> 国务院办公厅); English
    names as whole words."""
    lowered = question.lower()
    return [zh for key, zh in issuer_words().items()
            if (re.search(rf"\b{re.escape(key)}\b", lowered) if key.isascii() else key in question)]


def by_issuer_and_year(question: str, documents: dict[str, Document]) -> list[Document]:
    """Documents whose issuer has every issuer word of the question and whose year is the one it gives."""
    words = issuer_words_in(question)
    years = {m.group(1) for m in YEAR.finditer(question)}
    if not words or not years:
        return []
    return [d for d in documents.values()
            if all(w in norm(d.issuer + d.title) for w in words) and year_of(d) in years]


def is_law_titled(name: str, title: str) -> bool:
    """Whether a title is the law named ("中华人民共和国教育法(2021修正)" is 教育法, not 义务教育法)."""
    return name.endswith(("法", "法典")) and norm(title).removeprefix("中华人民共和国").startswith(name)


def by_law_name(question: str, documents: dict[str, Document], names: tuple[str, ...]) -> list[Document]:
    """The law a question names ("教师法规定…"), when the index holds it."""
    laws = [name for name in names if name.endswith(("法", "法典"))]
    return [d for d in documents.values() if any(is_law_titled(name, d.title) for name in laws)]


def law_version(q: Question, versions: list[Document], documents: dict[str, Document]) -> Document:
    """Of the indexed versions of one law, the one the question means: the version in force on the last day of
    the year it names ("2015年修正"); the latest earlier one when it asks for history ("修订前"); else the
    one in force today, or for a law that no longer is, its latest."""
    today = dt.date.today().isoformat()
    by_start = sorted(versions, key=version_start)
    if q.version_year:
        on = f"{q.version_year}-12-31"
        return next((v for v in reversed(by_start) if version_start(v) <= on), by_start[0])
    current = [v for v in by_start if v.doc_id in laws_in_force(documents, today, today)
               or collection_of(v) != LAWS]  # a law ingested from a file has no versions: it counts as current
    if q.history and current:
        earlier = [v for v in by_start if version_start(v) < version_start(current[-1])]
        return earlier[-1] if earlier else current[-1]
    return (current or by_start)[-1]


def is_law_name(name: str) -> bool:
    return name.endswith(("法", "法典"))


_naming: dict[str, tuple[object, frozenset[str]]] = {}  # name -> (the documents mapping, the ids mentioning it)


def mentioning(name: str, documents: dict[str, Document]) -> frozenset[str]:
    """The ids of the documents that mention a name; a scan of every text (some ms over the law library),
    kept per name while the index is the same."""
    cached = _naming.get(name)
    if cached is None or cached[0] is not documents:
        if len(_naming) > 4096 or (cached is not None and cached[0] is not documents):
            _naming.clear()  # only the live index matters
        texts = corpus_texts(documents)
        cached = _naming[name] = (documents, frozenset(d for d, text in texts.items() if name_found(name, text)))
    return cached[1]


def documents_naming(names: tuple[str, ...], documents: dict[str, Document]) -> set[str] | None:
    """The ids of the documents that mention any of the names (places and laws a question names); None when
    some name is in no document at all (then nothing indexed is about it)."""
    found = [mentioning(name, documents) for name in names]
    return None if any(not ids for ids in found) else set().union(*found)


def place_documents(q: Question, documents: dict[str, Document]) -> set[str] | None:
    """The documents a question naming places can be answered from: those that mention one of them, as
    composition answers only from them (answer.compose.about_names). Searched alone, so that in a large index
    (the law library beside a county's plans) the articles that share the question's other words do not push
    the named places' clauses out of the hits. A comparison ("分别") is narrowed only when it names two places
    or more: a document named by its place may be compared with one named by its title, which need not
    mention that place. None when the question names no place or a place no document mentions (composition
    refuses that one)."""
    places = tuple(name for name in q.names if not is_law_name(name))
    if not places or (q.several and len(places) < 2):
        return None
    return documents_naming(places, documents)


def named_document(q: Question, documents: dict[str, Document], allowed: set[str] | None = None) -> str | None:
    """The id of the one document the question names, or None (none named, several, or a question about
    several documents, or one naming a place the named document does not mention). Only documents in
    `allowed` (None: all) count, and the versions of one law count as one: the question's version is
    chosen (`law_version`)."""
    if q.several or len(documents) < 2:
        return None
    finders = (documents_by_number, by_issuer_and_year, lambda text, docs: by_law_name(text, docs, q.names))
    for finder in finders:
        found = [d for d in finder(q.normalised, documents) if allowed is None or d.doc_id in allowed]
        if len(found) > 1 and len({law_name(d.title) for d in found}) == 1:
            found = [law_version(q, found, documents)]
        if len(found) > 1:
            return None  # the question's words fit several documents: do not guess
        if found:
            doc = found[0]
            text = corpus_texts(documents)[doc.doc_id]
            places = [p for p in q.names if not p.endswith(("法", "法典"))]
            return None if any(not name_found(p, text) for p in places) else doc.doc_id
    return None
