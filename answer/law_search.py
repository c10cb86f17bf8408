"""What a question searches: the filters its words imply, and the article it names.

- A question that names one document (a 文号, an issuer and year, a law) searches that document only; of a
  law's versions, the one it means (`answer.mentions.law_version`).
- A question that asks for history ("修订前", "2018年版") searches the law library's earlier and repealed
  versions too; otherwise the search keeps to the laws in force (retrieval.filters).
- "…法第二十七条" is answered by that article: it is looked up, not searched for, since the words of a
  question about an article are rarely the article's.
"""

from __future__ import annotations

from dataclasses import replace

from answer.doc_facts import clause_as_hit
from answer.laws import article_number
from answer.mentions import by_law_name, law_version, named_document, place_documents
from answer.question import Question
from policyqa.models import Chunk, Document
from retrieval.filters import SearchFilters, allowed_documents, law_name
from retrieval.search import SearchHit


def search_filters(q: Question, documents: dict[str, Document], filters: SearchFilters | None) -> SearchFilters:
    """The filters to search the question with. When the caller chose documents (ids, issuers, types,
    years) they are kept as given; otherwise the question may name one, within the collections and the
    versions the caller's filters allow (a key scoped to collections searches those: the one named must be
    among them), or by default within the laws in force (all versions when the question asks for history)."""
    filters = filters or SearchFilters()
    if filters.doc_ids or filters.issuers or filters.doc_types or filters.years:
        return filters
    if q.history and filters.in_force is None and not filters.as_of:
        filters = replace(filters, in_force=False)
    allowed = allowed_documents(documents, filters)
    if named := named_document(q, documents, allowed):
        return replace(filters, doc_ids=[named])
    places = place_documents(q, documents)
    if places and allowed is not None:
        places &= allowed
    # every document (or none) naming the places: nothing to narrow, or nothing the caller may search
    if not places or len(places) == len(documents):
        return filters
    return replace(filters, doc_ids=sorted(places))


def article_hits(q: Question, documents: dict[str, Document], chunks: list[Chunk],
                 filters: SearchFilters | None = None) -> list[SearchHit]:
    """The article the question names of the one law it names, as a hit (its chunk when one chunk holds
    exactly it, else the article cut from the text); [] when the question names no article or not one
    law, or the law (in the versions the filters allow) has no such article."""
    if q.article is None:
        return []
    allowed = allowed_documents(documents, filters or SearchFilters())
    laws = [d for d in by_law_name(q.normalised, documents, q.names) if allowed is None or d.doc_id in allowed]
    if not laws or len({law_name(d.title) for d in laws}) > 1:
        return []
    doc = law_version(q, laws, documents)
    clause = next((c for c in doc.clauses if article_number(c.number) == q.article), None)
    if clause is None:
        return []
    chunk = next((c for c in chunks if c.doc_id == doc.doc_id and (c.start, c.end) == (clause.start, clause.end)),
                 None)
    return [SearchHit(chunk, 0.0) if chunk else clause_as_hit(doc, clause)]


def put_first(found: list[SearchHit], hits: list[SearchHit]) -> list[SearchHit]:
    """The looked-up hits before the searched ones (without a second copy of the same clause), scored as
    the best of them so a reader of scores sees them on top."""
    if not found:
        return hits
    top = max((h.score for h in hits), default=0.0)
    clauses = {h.chunk.clause_id for h in found}
    merged = [replace(h, score=max(h.score, top)) for h in found] + [h for h in hits if h.chunk.clause_id not in clauses]
    return merged[:max(len(hits), len(found))]
