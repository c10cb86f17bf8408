"""Answers about a document itself rather than its clauses: its 文号, who issued it and when.

Staff refer to documents by number ("国办71号文") as often as by title, so a number in the question picks
the document; otherwise the retrieved clauses do. The citation is a clause that shows the fact verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.question import Question, norm
from policyqa.models import Chunk, Clause, Document
from retrieval.search import SearchHit

ISSUE_Q = re.compile(r"(印发|发布|签发|成文|落款|下发|哪天发|哪年发|什么时候发|啥时候发|发的|\bissued\b|\bsign(ed)?\b|"
                     r"\bdated\b|\bpublished\b)", re.I)
ISSUER_Q = re.compile(r"(谁(发|印发|制定|出台)的|哪(个|些|几个|几家|家)[^,,??]{0,4}(发|印发|出台|制定|联合)|发文(机关|单位|部门)|"
                      r"联合(印发|发布|发文)|落款单位|\bwho issued\b|\bissued by\b|\bissuing (body|bodies|authority|department|office)\b|"
                      r"\bwhich (departments?|bod(y|ies)|ministr(y|ies)|offices?|agenc(y|ies)|authorit(y|ies)) "
                      r"(jointly )?(issued|published)|\bjointly issued\b)", re.I)
CN_COUNT = "零一两三四五六七八九十"  # "两部门联合印发", "六部门联合印发"


@dataclass
class Fact:
    hit: SearchHit  # the clause cited for it
    document: Document
    value: str


def documents_by_number(question: str, documents: dict[str, Document]) -> list[Document]:
    """Documents whose 文号 ends with a number the question gives ("71号文", "2015年71号")."""
    found: dict[str, Document] = {}
    years = re.findall(r"(19|20)(\d\d)", question)
    for number in re.findall(r"(\d+)号", question):
        for doc in documents.values():
            if doc.doc_number and re.search(rf"\D{number}号$", doc.doc_number) and (
                    not years or any(f"{a}{b}" in doc.doc_number for a, b in years)):
                found[doc.doc_id] = doc
    return list(found.values())


def date_forms(iso: str) -> list[str]:
    """'2015-09-15' as the text writes it: 2015年9月15日 (or with zero padding)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso)
    if not m:
        return []
    y, mo, d = m.groups()
    return [f"{y}年{int(mo)}月{int(d)}日", f"{y}年{mo}月{d}日"]


def clause_hit(doc: Document, needle: str, hits: list[SearchHit]) -> SearchHit | None:
    """A retrieved chunk of the document that shows the text; else the clause holding it, cited whole."""
    for hit in hits:
        if hit.chunk.doc_id == doc.doc_id and needle in norm(hit.chunk.text):
            return hit
    at = doc.text.find(needle)
    if at < 0:
        return None
    clause = min((c for c in doc.clauses if c.start <= at < c.end), key=lambda c: c.end - c.start, default=None)
    return clause_as_hit(doc, clause) if clause else None


def clause_as_hit(doc: Document, clause: Clause, score: float = 0.0) -> SearchHit:
    """A whole clause (with its sub-clauses) as a citable hit: verbatim text, offsets, the clause id."""
    chunk = Chunk(clause.clause_id, doc.doc_id, clause.clause_id, clause.path, doc.text[clause.start:clause.end],
                  clause.start, clause.end, page=doc.page_of(clause.start))
    return SearchHit(chunk, score)


def documents_by_title(question: str, documents: dict[str, Document], min_chars: int = 5) -> list[Document]:
    """Documents whose title shares a run of at least `min_chars` characters with the question, longest
    shared run first."""
    text = norm(question)
    scored = []
    for doc in documents.values():
        title = norm(doc.title)
        longest = max((n for n in range(min_chars, min(len(text), 20) + 1)
                       if any(text[i:i + n] in title for i in range(len(text) - n + 1))), default=0)
        if longest:
            scored.append((longest, doc))
    return [doc for _, doc in sorted(scored, key=lambda s: -s[0])]


def candidate_documents(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> list[Document]:
    """The documents a question about documents means: by number, else by title words, else the top hits'."""
    many = q.several
    named = documents_by_number(q.normalised, documents)
    if named:
        return named
    ranked = [documents[d] for d in dict.fromkeys(h.chunk.doc_id for h in hits[:5])]
    titled = documents_by_title(q.normalised, documents) if many else []
    chosen = list({d.doc_id: d for d in titled + ranked}.values())
    return chosen[:2] if many else chosen[:1]


def doc_number_facts(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> list[Fact]:
    if not q.asks_doc_number:
        return []
    facts = []
    for doc in candidate_documents(q, hits, documents):
        hit = clause_hit(doc, norm(doc.doc_number), hits) if doc.doc_number else None
        if hit:
            facts.append(Fact(hit, doc, doc.doc_number))
    return facts


def issue_date_facts(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> list[Fact]:
    if "date" not in q.value_kinds or not ISSUE_Q.search(q.normalised):
        return []
    facts = []
    for doc in candidate_documents(q, hits, documents):
        for form in date_forms(doc.issued_date or doc.date):
            hit = clause_hit(doc, form, hits)
            if hit:
                facts.append(Fact(hit, doc, form))
                break
    return facts


def issuer_facts(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> list[Fact]:
    if not ISSUER_Q.search(q.normalised):
        return []
    facts = []
    for doc in candidate_documents(q, hits, documents):
        # cited where the last signer shows (for a joint document, the signature block)
        hit = clause_hit(doc, norm(doc.issuer.split("、")[-1]), hits) if doc.issuer else None
        if hit:
            facts.append(Fact(hit, doc, doc.issuer))
    return facts


def unknown_document_fact(q: Question, hits: list[SearchHit], documents: dict[str, Document]) -> bool:
    """The question asks for a 文号 or an issuer, and the document it means has none: nothing to answer with
    (a clause that merely names the document is not its 文号)."""
    wants = [field for field, asked in (("doc_number", q.asks_doc_number), ("issuer", ISSUER_Q.search(q.normalised)))
             if asked]
    chosen = candidate_documents(q, hits, documents) if wants else []
    return bool(chosen) and all(not getattr(doc, field) for doc in chosen for field in wants)


def render_fact(kind: str, fact: Fact, n: int, english: bool) -> str:
    title, number = fact.document.title, fact.document.doc_number
    if kind == "issuer":
        bodies = fact.value.split("、")
        if english:
            joint = f"jointly by {len(bodies)} bodies: " if len(bodies) > 1 else ""
            return f"{title} was issued {joint or 'by '}{', '.join(bodies)} [{n}]."
        count = CN_COUNT[len(bodies)] if len(bodies) <= 10 else str(len(bodies))
        joint = f"{count}部门联合" if len(bodies) > 1 else ""
        return f"《{title}》由{fact.value}{joint}印发[{n}]。"
    if kind == "number":
        return (f"{title} bears the document number (文号) {fact.value} [{n}]." if english
                else f"《{title}》的文号是{fact.value}[{n}]。")
    label = f"《{title}》" + (f"({number})" if number else "")
    return (f"{title} is dated {fact.value} [{n}]." if english else f"{label}的成文日期是{fact.value}[{n}]。")
