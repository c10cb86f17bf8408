"""A law version as a Document: its text assembled from the data's chapters, sections and articles, its
clauses taken from them (not parsed), one chunk per article.

Ids and paths follow ingest/structure.py, so an imported law is cited like a law file ingested from the
corpus: clause `中华人民共和国义务教育法#第三章.第二十七条`, path `第三章学校 › 第二十七条对违反学校管理制度的学生…`.
Text is NFKC-normalised as ingest/clean.py does, so questions, tokens and quotes match the other documents.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from pathlib import Path

from ingest.chunking import ChunkSettings, index_text, parent_lead_in, with_neighbours
from ingest.clean import normalize_line
from ingest.laws.source import AMENDED, HISTORICAL, IN_FORCE, REPEALED, Article, LawInfo, LawSource
from ingest.pipeline import doc_id_for
from ingest.structure import heading_title, short
from policyqa.models import Chunk, Clause, Document

COLLECTION = "国家法律"  # Document.extra["collection"] of every imported law
# Part of every law's content hash: changing how a law becomes a Document (this module) must raise it, so
# the next import rebuilds the laws already indexed instead of keeping them as they were built.
FORMAT = 1
HEADING = re.compile(r"^(第[零〇一二三四五六七八九十百千\d]+[编分章节])\s*(.*)$")


def from_file(doc: Document) -> bool:
    """False for a document imported from a law source (source_path "<source>:<law_id>", never a file):
    a reindex must not drop it for having no file."""
    return doc.extra.get("collection") != COLLECTION


def current_versions(laws: list[LawInfo]) -> dict[str, LawInfo]:
    """Per law name, the version that gets the plain id: the one in force, else the latest. A status change
    (in force -> repealed) keeps the id, so the index replaces the document instead of adding a second."""
    current: dict[str, LawInfo] = {}
    for law in laws:
        held = current.get(law.name)
        rank = (law.status in (IN_FORCE, AMENDED), law.version_date)
        if held is None or rank > (held.status in (IN_FORCE, AMENDED), held.version_date):
            current[law.name] = law
    return current


def law_doc_id(law: LawInfo, current: LawInfo | None = None) -> str:
    """The law's name under the slug rule of file names; an earlier version adds @<version date>."""
    slug = doc_id_for(Path(f"{law.name}.law"))  # the name as a file stem: dots in it stay
    return slug if current is None or current.law_id == law.law_id else f"{slug}@{law.version_date}"


def content_hash(law: LawInfo, articles: list[Article]) -> str:
    """What the Document is built from (the source_hash): unchanged means nothing to re-chunk or re-embed."""
    data = {"format": FORMAT, "law": asdict(law), "articles": [asdict(a) for a in articles]}
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def split_heading(line: str) -> tuple[str, str]:
    """"第三章 学校" -> ("第三章", "学校"); a heading of another form is all label."""
    m = HEADING.match(line)
    return (m.group(1), m.group(2).strip()) if m else (line, "")


def law_document(law: LawInfo, articles: list[Article], source: LawSource, current: LawInfo | None) -> Document:
    """One Document for one version of a law; `current` is the version of the same name that gets the plain
    id (None when the source holds no other)."""
    doc_id = law_doc_id(law, current)
    later = current is not None and current.law_id != law.law_id
    superseded = ""
    if later:
        superseded = law_doc_id(current)
    elif law.status == HISTORICAL:  # still not the version in force, though the source lacks the later one
        superseded = f"a later version of {law.name}, not in {source.name} {source.version}"
    origin = f"{source.name} {source.version}"
    doc = Document(
        doc_id=doc_id, title=law.name, text="", source_path=f"{source.name}:{law.law_id}",
        source_hash=content_hash(law, articles), issuer=law.issuer, date=law.version_date, doc_type=law.doc_type,
        source=origin, effective_date=law.effective_date, abolished=law.status == REPEALED,
        superseded_by=superseded,
        extra={"collection": COLLECTION, "law_id": law.law_id, "status": law.status,
               "version_date": law.version_date, "publish_date": law.publish_date, "level": law.level,
               "department": law.department, "source": origin},
    )
    doc.text, doc.clauses = assemble(doc_id, law.name, articles)
    if law.status == AMENDED:
        doc.warnings.append(f"{law.status}: amended after {law.version_date}; the amending decisions are laws "
                            f"of their own in {source.name}")
    if not articles:
        doc.warnings.append(f"{source.name} holds no articles of this law")
    return doc


def assemble(doc_id: str, title: str, articles: list[Article]) -> tuple[str, list[Clause]]:
    """The text ("第一章 总则", "第一条 …" lines; a blank line before each chapter) and its clauses: chapters,
    sections and articles with the ids, paths and depth-levels the structure parser gives a law file."""
    parts = [normalize_line(title)]
    at = len(parts[0])
    clauses: list[Clause] = []
    seen: dict[str, int] = {}

    def add(line: str, gap: str) -> int:
        """Append a line; its start offset."""
        nonlocal at
        parts.append(gap + line)
        at += len(gap) + len(line)
        return at - len(line)

    def clause(label: str, heading: str, parent: Clause | None, start: int) -> Clause:
        base = f"{parent.clause_id}.{label}" if parent else f"{doc_id}#{label}"
        seen[base] = seen.get(base, 0) + 1  # the Civil Code's 编 restart their chapters: 第一章~2 …
        clause_id = base if seen[base] == 1 else f"{base}~{seen[base]}"
        shown = label + (short(heading) if parent else heading)
        new = Clause(clause_id, label, heading, f"{parent.path} › {shown}" if parent else shown,
                     parent.level + 1 if parent else 1, start, start, parent.clause_id if parent else None)
        clauses.append(new)
        return new

    chapter = section = None
    chapter_line = section_line = None
    for article in articles:
        if article.chapter != chapter_line:
            chapter_line, section_line, chapter, section = article.chapter, None, None, None
            if article.chapter:
                line = normalize_line(article.chapter)
                chapter = clause(*split_heading(line), None, add(line, "\n\n"))
        if article.section != section_line:
            section_line, section = article.section, None
            if article.section:
                line = normalize_line(article.section)
                section = clause(*split_heading(line), chapter, add(line, "\n"))
        body = "\n".join(line for line in map(normalize_line, article.text.splitlines()) if line)
        number = normalize_line(article.number)
        start = add(f"{number} {body}", "\n" if clauses else "\n\n")
        clause(number, heading_title(body), section or chapter, start)
        for c in (clauses[-1], section, chapter):  # an article's span ends its chapter's and section's so far
            if c is not None:
                c.end = at
    return "".join(parts), clauses


def law_chunks(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    """One chunk per article, quoting it whole; indexed with the title, path and (with the "parent" or
    "window" context) the chapter or section heading, as chunk_document indexes a law file's articles."""
    parents = {c.parent_id for c in doc.clauses if c.parent_id}
    leads: dict[str | None, str] = {}
    chunks = []
    for c in doc.clauses:
        if c.clause_id in parents:
            continue  # a chapter or section: its articles are the chunks
        text = doc.text[c.start:c.end]
        if settings.context in ("parent", "window"):
            if c.parent_id not in leads:
                leads[c.parent_id] = parent_lead_in(doc, c)
            lead = leads[c.parent_id]
        else:
            lead = ""
        chunks.append(Chunk(chunk_id=c.clause_id, doc_id=doc.doc_id, clause_id=c.clause_id, clause_path=c.path,
                            text=text, start=c.start, end=c.end, index_text=index_text(doc, c.path, text, [], lead)))
    if settings.context == "window":
        with_neighbours(chunks)
    return chunks
