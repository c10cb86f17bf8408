"""Turn files into Documents and Chunks: read -> clean -> metadata -> clauses -> tables -> chunks."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunking import ChunkSettings, chunk_document
from ingest.clean import clean_text
from ingest.metadata import (
    LIFECYCLE_FLAGS,
    SIDECAR_FIELDS,
    SidecarError,
    cover_notice_parts,
    infer_metadata,
    infer_title,
    read_sidecar,
    sidecar_path,
)
from ingest.quarantine import Quarantine
from ingest.readers import SUPPORTED_SUFFIXES, ReadError
from ingest.sandbox import ParseLimits, Sandbox
from ingest.structure import parse_clauses
from ingest.tables import find_duty_mentions, find_tables
from policyqa.models import Chunk, Clause, Document, ResponsibilityRecord


class IngestError(ValueError):
    """A file that could not be ingested; str(error) is one line naming the file and what to do."""


class UnreadableFile(IngestError):
    """The file itself could not be read (broken, hostile, past a parse limit, no text): it is quarantined
    until it changes. Not for a bad sidecar or an I/O error, which the next run may not meet."""


@dataclass
class IngestReport:
    documents: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    removed: Counter = field(default_factory=Counter)
    parsed: list[str] = field(default_factory=list)  # doc ids read anew (new or changed files)
    warnings: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # doc ids reused from the index as they were

    @property
    def ok(self) -> bool:
        return not self.errors


def doc_id_for(path: Path) -> str:
    slug = re.sub(r"[^\w\-]+", "-", path.stem, flags=re.UNICODE).strip("-").lower()
    return slug or hashlib.sha1(path.name.encode()).hexdigest()[:12]


def file_hash(path: Path) -> str:
    h = hashlib.sha256(path.read_bytes())
    side = sidecar_path(path)
    if side.exists():
        h.update(side.read_bytes())
    return h.hexdigest()


def add_records(doc: Document) -> None:
    """Responsibility tables inside a clause become records and child clauses (one per row); 牵头部门 lines
    and 〔责任单位〕 tags become records of the clause that states them (its heading names the task)."""
    from ingest.chunking import own_spans

    new_clauses: list[Clause] = []
    for clause, start, end in own_spans(doc.clauses, len(doc.text)):
        new_clauses.append(clause)
        for rows in find_tables(doc.text, start, end):
            for row in rows:
                row_id = f"{clause.clause_id}.{row.number}"
                new_clauses.append(Clause(row_id, row.number, row.task, f"{clause.path} › {row.number} {row.task}",
                                          clause.level + 1, row.start, row.end, clause.clause_id))
                doc.records.append(ResponsibilityRecord(row.task, row.lead, row.assisting, row_id, row.number,
                                                        row.lead_label, row.assist_label))
        for duty in find_duty_mentions(doc.text, start, end):
            task = clause.heading or clause.path
            doc.records.append(ResponsibilityRecord(task, duty.lead, duty.assisting, clause.clause_id, clause.number,
                                                    duty.lead_label, duty.assist_label))
    doc.clauses = new_clauses


def load_document(path: Path, max_file_mb: float = 20.0, sandbox: Sandbox | None = None) -> Document:
    """Read and parse one file, reading it in `sandbox` (by default one of its own, with default limits).
    Raises IngestError with a one-line message (UnreadableFile when the file itself is at fault)."""
    if sandbox is None:
        with Sandbox() as own:
            return load_document(path, max_file_mb, own)
    try:
        size_mb = path.stat().st_size / 1e6
        if size_mb > max_file_mb:
            raise IngestError(f"{path}: {size_mb:.1f} MB is over the {max_file_mb:g} MB limit "
                              "(setting POLICYQA_MAX_FILE_MB); split the file or raise the limit.")
        got = sandbox.read(path)
        sidecar = read_sidecar(path)
    except ReadError as exc:
        raise UnreadableFile(str(exc)) from exc
    except (SidecarError, OSError) as exc:
        raise IngestError(str(exc)) from exc
    cleaned = clean_text(got.text)
    if len(cleaned.text.strip()) < 20:
        raise UnreadableFile(f"{path}: no policy text left after removing page noise; check the file's content.")
    meta = infer_metadata(cleaned.text)
    meta.update({k: str(v) for k, v in sidecar.items() if k in SIDECAR_FIELDS and v})
    known = (*SIDECAR_FIELDS, *LIFECYCLE_FLAGS)
    doc = Document(
        doc_id=doc_id_for(path), text=cleaned.text, source_path=str(path), source_hash=file_hash(path),
        removed=dict(cleaned.removed), removed_lines=[list(r) for r in cleaned.removed_lines],
        page_starts=cleaned.page_starts, abolished=bool(sidecar.get("abolished", False)),
        extra={k: v for k, v in sidecar.items() if k not in known},
        read_method=got.method, read_info=got.info,
        **{k: meta.get(k, "") for k in SIDECAR_FIELDS},
    )
    doc.parts = cover_notice_parts(doc.text, infer_title(doc.text))
    doc.clauses = parse_clauses(doc.doc_id, doc.text)
    split_cover_notice(doc)
    add_records(doc)
    doc.warnings = document_warnings(doc, sidecar)
    return doc


def split_cover_notice(doc: Document) -> None:
    """The text before the first heading of a 印发 notice holds two things: the notice and the start of
    the issued plan. They become two clauses, so a citation says which one it quotes."""
    if not doc.parts or not doc.clauses or not doc.clauses[0].clause_id.endswith("#preamble"):
        return
    preamble, at = doc.clauses[0], doc.parts[1]["start"]
    if not preamble.start < at < preamble.end:
        return
    notice = Clause(f"{doc.doc_id}#notice", "", "印发通知", "印发通知", 0, preamble.start, at)
    preamble.start, preamble.path = at, f"《{doc.parts[1]['title']}》(正文前部分)"
    doc.clauses.insert(0, notice)


def document_warnings(doc: Document, sidecar: dict) -> list[str]:
    """What a person should check: structure or metadata that could not be found."""
    warnings = []
    if all(c.clause_id.endswith(("#preamble", "#notice")) for c in doc.clauses):
        warnings.append("no clause headings found: the document is indexed as plain paragraphs")
    for key, label in (("title", "title"), ("issuer", "issuer"), ("date", "date")):
        if not getattr(doc, key):
            warnings.append(f"no {label} found; add it to {doc.doc_id}.meta.json")
    if not sidecar.get("title"):
        warnings.append(f"title inferred from the text: {doc.title}")
    return warnings


# A folder's own notes, not policy documents.
FOLDER_NOTES = re.compile(r"^(readme|sources|license|changelog)(\.\w+)?$", re.I)


def discover(paths: list[Path]) -> list[Path]:
    """Files to ingest under the given files/folders (sidecars, hidden files and a folder's README/SOURCES
    notes excluded), sorted for stable output. A file named explicitly is always taken."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += [f for f in sorted(p.rglob("*")) if f.is_file() and not f.name.endswith(".meta.json")
                      and not f.name.startswith(".") and not FOLDER_NOTES.match(f.name)]
        else:
            found.append(p)
    return found


def prepare_documents(paths: list[Path], chunking: ChunkSettings, max_file_mb: float = 20.0,
                      progress=None, known: dict[str, tuple[Document, list[Chunk]]] | None = None,
                      limits: ParseLimits | None = None, quarantine: Quarantine | None = None,
                      retry_quarantined: bool = False) -> IngestReport:
    """Parse and chunk every file; a bad file is reported and skipped, the rest still go in.

    `known` maps doc ids already indexed to their document and chunks: a file whose hash is unchanged
    reuses them instead of being parsed again. Files are read in a sandbox under `limits`. A file that
    cannot be read goes into `quarantine`, and is not read again while its content stays the same (unless
    `retry_quarantined`, for a rebuild).
    """
    with Sandbox(limits) as sandbox:  # one child for all the files: it is started once, if at all
        return _prepare(discover(paths), chunking, max_file_mb, progress, known or {}, sandbox, quarantine,
                        retry_quarantined)


def _prepare(files: list[Path], chunking: ChunkSettings, max_file_mb: float, progress,
             known: dict[str, tuple[Document, list[Chunk]]], sandbox: Sandbox, quarantine: Quarantine | None,
             retry_quarantined: bool) -> IngestReport:
    report = IngestReport()
    seen: dict[str, Path] = {}
    hashes: dict[str, Path] = {}
    # The text of documents already indexed (whose files still exist), so a copy under another name is
    # refused whether it comes with them or alone (one upload): one document, one id.
    indexed = {hashlib.sha256(doc.text.encode()).hexdigest(): doc for doc, _ in known.values()
               if Path(doc.source_path).exists()}
    for path in progress(files) if progress else files:
        if not path.exists():
            report.errors.append(f"{path}: no such file; check the path.")
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.errors.append(f"{path}: unsupported file type {path.suffix or '(none)'}; "
                                 f"supported: {', '.join(SUPPORTED_SUFFIXES)}.")
            continue
        previous = known.get(doc_id_for(path))
        if previous and previous[0].source_hash == file_hash(path) and previous[0].source_path == str(path):
            doc, chunks = previous
            report.unchanged.append(doc.doc_id)
        else:
            held = quarantine.is_quarantined(path) if quarantine and not retry_quarantined else None
            if held:
                report.errors.append(f"{path}: quarantined since {held['since']}: {held['message'].rstrip('.')}; "
                                     "fix or replace the file (or ingest with --rebuild to read it again).")
                continue
            try:
                doc = load_document(path, max_file_mb, sandbox)
            except IngestError as exc:
                report.errors.append(str(exc))
                if quarantine and isinstance(exc, UnreadableFile):
                    quarantine.record(path, str(exc))
                continue
            if quarantine:
                quarantine.clear(path)
            chunks = None
        if doc.doc_id in seen:
            report.errors.append(f"{path}: same document id '{doc.doc_id}' as {seen[doc.doc_id]}; rename one.")
            continue
        content = hashlib.sha256(doc.text.encode()).hexdigest()
        if content in hashes:
            report.errors.append(f"{path}: same text as {hashes[content]}; remove the duplicate.")
            continue
        twin = indexed.get(content)
        if twin is not None and twin.doc_id != doc.doc_id:
            report.errors.append(f"{path}: same text as {twin.source_path}, indexed as '{twin.doc_id}'; remove "
                                 f"the duplicate (or delete '{twin.doc_id}' first to index it under this name).")
            continue
        seen[doc.doc_id], hashes[content] = path, path
        report.documents.append(doc)
        if chunks is None:
            chunks = chunk_document(doc, chunking)
            report.parsed.append(doc.doc_id)
            report.warnings += [f"{path}: {w}" for w in doc.warnings]
            report.removed.update(doc.removed)
        report.chunks += chunks
    return report
