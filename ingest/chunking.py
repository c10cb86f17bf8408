"""Chunks follow clauses: one chunk per clause's own text, long ones split at sentence ends, tiny ones merged.

A clause's own text runs from its heading to its first child; a table row is a child clause of the
clause that holds the table. Every chunk is a verbatim slice of the cleaned text (offsets kept) so a
citation quotes exactly what the document says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import count

from langchain_text_splitters import RecursiveCharacterTextSplitter

from policyqa.models import Chunk, Clause, Document

# Chinese sentence ends first, then clause-level punctuation; never split inside a word if avoidable.
SEPARATORS = ["\n\n", "\n", "。", ";", "!", "?", ",", "、", ""]


@dataclass(frozen=True)
class ChunkSettings:
    max_chars: int = 400
    min_chars: int = 20
    # A clause whose whole text, sub-clauses included, fits max_chars is one chunk ("第八条 教师应当履行
    # 下列义务:(一)…(六)…" rather than six items without their lead-in).
    whole_clauses: bool = True
    # What the indexed text adds to the chunk: "path" (title and clause path), "parent" (also the short
    # lead-in of the clause a sub-clause belongs to) or "window" (that, and the ends of the chunks before
    # and after it: what a clause means often depends on its neighbours).
    context: str = "parent"
    # Each chunk's sentences are embedded too, so a chunk can be found by its best sentence
    # (retrieval/sentences.py); here because it changes what an index holds, like the fields above.
    sentence_vectors: bool = True


def _first_piece(text: str, size: int) -> str:
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=0, separators=SEPARATORS, keep_separator="end", strip_whitespace=False
    )
    pieces = splitter.split_text(text)
    return pieces[0] if pieces else text


def split_long(text: str, max_chars: int, is_heading=None) -> list[tuple[int, str]]:
    """(offset, piece) pairs of a text cut at sentence boundaries under max_chars; pieces cover the text.
    A heading line is never left alone: it starts the piece that follows it."""
    out: list[tuple[int, str]] = []
    at = 0
    while at < len(text):
        rest = text[at:]
        if len(rest) <= max_chars:
            out.append((at, rest))
            break
        piece = _first_piece(rest, max_chars)
        while ((is_heading_line(piece) or (is_heading and is_heading(piece))) and max_chars - len(piece) >= 20
               and len(piece) < len(rest)):
            piece += _first_piece(rest[len(piece):], max_chars - len(piece))
        out.append((at, piece))
        at += len(piece)
    return out


def is_heading_line(piece: str) -> bool:
    """Heading lines only: up to three short lines with no sentence end, such as "一、指导思想" or
    "二、工作目标\n(一)总体目标"."""
    lines = [line.strip() for line in piece.strip().split("\n")]
    return (0 < len(lines) <= 3 and all(0 < len(line) <= 40 for line in lines)
            and not any(line.endswith(("。", ";", "!", "?")) for line in lines))


NUMBER_LABEL = re.compile(r"第[一二三四五六七八九十百千零]+(?:分编|[编章节条])|[一二三四五六七八九十]+[、是]|\([一二三四五六七八九十\d]+\)|\d+[.、]|[①-⑳]")


def headings_only(headings: list[str]):
    """A predicate: is a piece nothing but these headings with their numbers?"""
    def check(piece: str) -> bool:
        for h in sorted(headings, key=len, reverse=True):
            piece = piece.replace(h, "")
        return not re.sub(r"[\s。,,;;::、]", "", NUMBER_LABEL.sub("", piece))
    return check


def heading_only(clause: Clause, body: str) -> bool:
    """True when a clause's own text is nothing but its number and heading words. An article's first
    sentence is taken as its heading words, but a one-sentence article ("第四条 民事主体在民事活动中的法律地位
    一律平等。") is a rule, not a title."""
    if not clause.heading or clause.is_article:
        return False
    at = body.find(clause.heading)
    return at != -1 and at <= 8 and not re.sub(r"[\s。,,;;::]", "", body[at + len(clause.heading):])


def own_spans(clauses: list[Clause], text: str, whole_under: int = 0) -> list[tuple[Clause, int, int]]:
    """Each clause with the part of its span that is not inside a child clause, in document order: the text before
    its first child and, when its children end before it does (an article's paragraph after its list, see
    ingest.structure.ending_lists_at_their_last_item), the text after the last one. With `whole_under`, a clause
    whose whole span is shorter keeps its children inside it (they get no span of their own), unless they are
    articles: a chapter of short articles stays one chunk per article, each citable."""
    children: dict[str, list[Clause]] = {}
    for c in clauses:
        if c.parent_id:
            children.setdefault(c.parent_id, []).append(c)
    whole: set[str] = set()
    out = []
    for c in clauses:
        if c.parent_id in whole:
            whole.add(c.clause_id)  # inside a clause kept whole
            continue
        kids = children.get(c.clause_id)
        if kids and whole_under and c.end - c.start <= whole_under and not any(k.is_article for k in kids):
            whole.add(c.clause_id)
            kids = None
        end = min(k.start for k in kids) if kids else c.end
        out.append((c, c.start, min(end, len(text))))
        after = max(k.end for k in kids) if kids else c.end
        if after < c.end and text[after:c.end].strip():
            out.append((c, after, min(c.end, len(text))))
    return sorted(out, key=lambda span: span[1])


def descendants(clauses: list[Clause], clause_id: str) -> set[str]:
    """The ids of a clause and of every clause below it."""
    found = {clause_id}
    for c in clauses:  # clauses come in document order: a parent before its children
        if c.parent_id in found:
            found.add(c.clause_id)
    return found


def parent_lead_in(doc: Document, clause: Clause, limit: int = 80) -> str:
    """The text of a clause's parent before its first sub-clause ("第八条 教师应当履行下列义务:"), when
    short: what an item means depends on it."""
    parent = next((c for c in doc.clauses if c.clause_id == clause.parent_id), None)
    if parent is None:
        return ""
    first = min((c.start for c in doc.clauses if c.parent_id == parent.clause_id), default=parent.end)
    lead = " ".join(doc.text[parent.start:first].split())
    return lead if 0 < len(lead) <= limit else ""


def within(clause_id: str | None, ancestor_id: str, parents: dict[str, str | None]) -> bool:
    """Whether a clause is the given one or lies below it."""
    while clause_id:
        if clause_id == ancestor_id:
            return True
        clause_id = parents.get(clause_id)
    return False


def ending_the_list_before(pending: list[tuple[int, int, Clause]], unit: Clause, before: Clause | None,
                           parents: dict[str, str | None], tail: bool = False) -> int:
    """How many of the tiny pieces waiting before a unit end the list of the unit before them: items whose list
    the unit is not in ("(十一)学校有未依法履行职责的其他情形。" is 第三十一条's last item, not part of 第三十二条), or
    whose list the unit follows (`tail`: the article's paragraph after its list). They join that unit; a bare
    heading, whose list the unit is in, still travels forward with it."""
    if before is None or not pending:
        return 0
    back = 0
    for _, _, piece in pending:
        parent = piece.parent_id
        in_list = within(unit.clause_id, parent, parents) and not (tail and unit.clause_id == parent)
        if not parent or in_list or not within(before.clause_id, parent, parents):
            break
        back += 1
    return back


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    text = doc.text
    records_by_clause: dict[str, list] = {}
    for r in doc.records:
        records_by_clause.setdefault(r.clause_id, []).append(r)
    # Collect (clause, start, end) units, merging tiny ones forward into the next unit.
    units: list[list] = []
    pending: list[tuple[int, int, Clause]] = []  # tiny pieces waiting for the unit they travel with
    parent_of = {c.clause_id: c.parent_id for c in doc.clauses}
    whole_under = settings.max_chars if settings.whole_clauses else 0
    for clause, start, end in own_spans(doc.clauses, text, whole_under):
        body = text[start:end].strip()
        tail = start > clause.start  # the paragraph after an article's list: the list has ended
        # An article is cited by its number, so even a short one ("第十条 本法自公布之日起施行。") stands alone.
        short_text = len(body) < (len(clause.number) + 4 if clause.is_article else settings.min_chars)
        tiny = short_text or heading_only(clause, body)
        if tail and tiny and units and within(units[-1][0].clause_id, clause.clause_id, parent_of):
            units[-1][2] = end  # too short to stand alone: it ends the chunk of its article's last item
            continue
        if tiny and clause.clause_id not in records_by_clause:
            # Too small to stand alone (usually a bare heading): it travels with what follows.
            pending.append((start, end, clause))
            continue
        back = ending_the_list_before(pending, clause, units[-1][0] if units else None, parent_of, tail)
        if back:  # the last items of the list before stay with it
            units[-1][2] = pending[back - 1][1]
        if back < len(pending):
            start = pending[back][0]
        pending = []
        units.append([clause, start, end])
    if pending:
        if units:
            units[-1][2] = len(text)
        else:
            units.append([pending[0][2], pending[0][0], len(text)])

    parents = {c.parent_id for c in doc.clauses if c.parent_id}
    chunks: list[Chunk] = []
    taken: set[str] = set()
    for clause, start, end in units:
        raw = text[start:end]
        lead = len(raw) - len(raw.lstrip())
        raw = raw.strip()
        start += lead
        headings = [c.heading for c in doc.clauses if start <= c.start < end and c.heading]
        pieces = split_long(raw, settings.max_chars, headings_only(headings))
        for n, (offset, piece) in enumerate(pieces, start=1):
            stripped = piece.strip()
            if not stripped:
                continue
            s = start + offset + (len(piece) - len(piece.lstrip()))
            chunk_id = clause.clause_id if len(pieces) == 1 else f"{clause.clause_id}~{n}"
            if chunk_id in taken:  # the paragraph after an article's list: a second unit of the article
                chunk_id = next(f"{clause.clause_id}~{k}" for k in count(2) if f"{clause.clause_id}~{k}" not in taken)
            taken.add(chunk_id)
            # a clause kept whole, items and all (not the paragraph after its list, a unit of its own)
            whole = clause.clause_id in parents and clause.end <= end and start <= clause.start
            covered = descendants(doc.clauses, clause.clause_id) if whole else {clause.clause_id}
            records = [r for cid in records_by_clause if cid in covered for r in records_by_clause[cid]]
            lead = parent_lead_in(doc, clause) if settings.context in ("parent", "window") else ""
            chunks.append(Chunk(
                chunk_id=chunk_id, doc_id=doc.doc_id, clause_id=clause.clause_id, clause_path=clause.path,
                text=stripped, start=s, end=s + len(stripped), records=records, page=doc.page_of(s),
                index_text=index_text(doc, clause.path, stripped, records, lead),
            ))
    if settings.context == "window":
        with_neighbours(chunks)
    return chunks


NEIGHBOUR_CHARS = 80  # of the chunk before (its end) and after (its start): context, not content


def with_neighbours(chunks: list[Chunk]) -> None:
    """Each chunk's indexed text also gets the end of the chunk before it and the start of the one after."""
    own = [c.index_text for c in chunks]
    for i, c in enumerate(chunks):
        before = chunks[i - 1].text[-NEIGHBOUR_CHARS:] if i > 0 else ""
        after = chunks[i + 1].text[:NEIGHBOUR_CHARS] if i + 1 < len(chunks) else ""
        c.index_text = "\n".join(p for p in (before, own[i], after) if p)


def index_text(doc: Document, path: str, text: str, records: list, lead: str = "") -> str:
    """What retrieval sees: the title and clause path give context a bare clause lacks (and, for a
    sub-clause, its parent's lead-in when asked for)."""
    parts = [doc.title, path, lead if lead and lead not in text else "", text]
    parts += [r.render() for r in records]
    return "\n".join(p for p in parts if p)
