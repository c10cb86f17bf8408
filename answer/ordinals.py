"""A question that counts into a list ("第三步是什么时间段?", "最后一批占多少?", "the last stage") is answered by
that item, wherever search ranked it.

Search finds the list (its heading, or its items, share the question's words) but cannot count: "第三步" and
"最后一项" match no words of the item they mean. So, after search, the item is looked up by its place:
- in the words of the documents when they count the same way ("第一批…第二批…第三批": the last batch is the
  one with the highest number);
- else in the clause tree: the items (sub-clauses) of the list the question is about, i.e. the hit whose
  heading names what is counted ("实施步骤" for 步), or the best-ranked hit that is a list or an item of one.
The item's clause then leads the hits, so composition quotes it first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from answer.question import CN_NUM, Question, cn_number
from answer.vocab import ordinal_measures
from policyqa.models import Chunk, Clause, Document
from retrieval.search import SearchHit

DEPTH = 5  # the hits read for the list: the ones composition reads


def counted(text: str, measure: str) -> list[tuple[int, int]]:
    """(number, offset) of each "第N<measure>" in the text."""
    out = []
    for m in re.finditer(rf"第([{CN_NUM}]{{1,3}}|\d{{1,2}})\s*{re.escape(measure)}", text):
        n = cn_number(m.group(1))
        if n:
            out.append((n, m.start()))
    return out


def by_words(position: int, measure: str, hits: list[SearchHit],
             documents: dict[str, Document]) -> tuple[str, int, None] | None:
    """(doc_id, offset, None) of the "第N<measure>" the question means, in the document of the best hit
    whose document counts that way."""
    for hit in hits[:DEPTH]:
        doc = documents.get(hit.chunk.doc_id)
        found = counted(doc.text, measure) if doc else []
        if not found:
            continue
        wanted = max(n for n, _ in found) if position < 0 else position
        return next(((doc.doc_id, at, None) for n, at in found if n == wanted), None)
    return None


def items(doc: Document, clause: Clause) -> list[Clause]:
    return [c for c in doc.clauses if c.parent_id == clause.clause_id and c.number]


def by_tree(position: int, measure: str, hits: list[SearchHit],
            documents: dict[str, Document]) -> tuple[str, int, Clause] | None:
    """(doc_id, offset, clause) of the item at that place in the list the hits are about: lists are the hits'
    clauses with items of their own and the lists their clauses are items of; the one whose heading names
    what is counted wins, then the best-ranked."""
    best: tuple[tuple[int, int], Document, list[Clause]] | None = None
    for rank, hit in enumerate(hits[:DEPTH]):
        doc = documents.get(hit.chunk.doc_id)
        clause = next((c for c in doc.clauses if c.clause_id == hit.chunk.clause_id), None) if doc else None
        if clause is None:
            continue
        parent = next((c for c in doc.clauses if c.clause_id == clause.parent_id), None)
        for head in (clause, parent):
            members = items(doc, head) if head else []
            if len(members) < 2:
                continue
            # what a list of these is headed with ("五、实施步骤" for 第三步): answer/data/ordinals.tsv
            named = any(word in head.path for word in ordinal_measures().get(measure, (measure,)))
            key = (int(named), -rank)
            if best is None or key > best[0]:
                best = (key, doc, members)
    if best is None:
        return None
    _, doc, members = best
    if position > len(members):
        return None
    item = members[position - 1 if position > 0 else -1]
    return doc.doc_id, item.start, item


def by_ordinal(q: Question, hits: list[SearchHit], documents: dict[str, Document],
               chunks_of: Callable[[str], list[Chunk]]) -> list[SearchHit]:
    """The hits with the item the question counts to first (found among them, or taken from the index
    by `chunks_of(doc_id)`); unchanged when the question counts nothing or the item is not found."""
    if q.ordinal is None or not hits:
        return hits
    position, measure = q.ordinal
    place = by_words(position, measure, hits, documents) or by_tree(position, measure, hits, documents)
    if place is None:
        return hits
    doc_id, offset, item = place
    for i, hit in enumerate(hits):
        if hit.chunk.doc_id == doc_id and hit.chunk.start <= offset < hit.chunk.end:
            found = replace(hit, chunk=narrowed(hit.chunk, documents[doc_id], item),
                            signals=hit.signals | {"ordinal": 1})
            return [found, *hits[:i], *hits[i + 1:]]
    chunk = next((c for c in chunks_of(doc_id) if c.start <= offset < c.end), None)
    if chunk is None:
        return hits
    # Not among the hits: it comes first on its place in the list, with the best hit's similarities (what
    # the refusal features read) and a signal saying why it is there.
    found = replace(hits[0], chunk=narrowed(chunk, documents[doc_id], item), signals={"ordinal": 1},
                    similarities=dict(hits[0].similarities))
    return [found, *hits[:-1]]


def narrowed(chunk: Chunk, doc: Document, item: Clause | None) -> Chunk:
    """The item's own clause when the chunk holds more (a list kept whole): a verbatim slice of the
    document with the item's id and path, so the citation is the item."""
    if item is None or chunk.clause_id == item.clause_id:
        return chunk
    raw = doc.text[item.start:item.end]
    start = item.start + len(raw) - len(raw.lstrip())
    text = raw.strip()
    if not (chunk.start <= start and start + len(text) <= chunk.end):
        return chunk  # a piece of a long item: it stays as found
    return replace(chunk, chunk_id=item.clause_id, clause_id=item.clause_id, clause_path=item.path, text=text,
                   start=start, end=start + len(text), page=doc.page_of(start),
                   records=[r for r in chunk.records if r.clause_id == item.clause_id])
