"""Turn files into Documents and Chunks: read -> clean -> metadata -> clauses -> tables -> chunks."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ingest.archives import ARCHIVE_SUFFIXES, Member, is_archive, members, unpack
from ingest.chunking import ChunkSettings, chunk_document
from ingest.clean import clean_text
from ingest.metadata import (
    LIFECYCLE_FLAGS,
    SIDECAR_FIELDS,
    SidecarError,
    cover_notice_parts,
    infer_metadata,
    infer_title,
    load_sidecar,
    read_sidecar,
    sidecar_path,
)
from ingest.quarantine import Quarantine
from ingest.readers import SUPPORTED_SUFFIXES, ReadError
from ingest.sandbox import PageProgress, ParseLimits, Sandbox
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
    # doc ids to drop from the index: members an archive read anew no longer holds (its file still exists)
    dropped: list[str] = field(default_factory=list)
    # files by (suffix, outcome): read / ocr / converted (Document.read_method), unchanged, refused, and
    # unpacked for archives (their members count under their own suffix)
    formats: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, name: str, outcome: str) -> None:
        self.formats[(Path(name).suffix.lower() or "(none)", outcome)] += 1

    def refuse(self, name: str, message: str) -> None:
        """The file (or archive member) `name` is not ingested; `message` is one line naming it, what is
        wrong and what to do."""
        self.errors.append(message)
        self.count(name, "refused")


def doc_id_for(path: Path) -> str:
    slug = re.sub(r"[^\w\-]+", "-", path.stem, flags=re.UNICODE).strip("-").lower()
    return slug or hashlib.sha1(path.name.encode()).hexdigest()[:12]


def member_doc_id(archive: Path, member: str) -> str:
    """An archive member's document id: the archive's name and the member's path, so the 附件1.pdf of two
    archives are two documents."""
    text = f"{archive.stem}-{PurePosixPath(member).with_suffix('')}"
    slug = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-").lower()
    return slug or hashlib.sha1(f"{archive.name}/{member}".encode()).hexdigest()[:12]


def member_hashes(archive: Path, listed: list[Member]) -> dict[str, str]:
    """The source hash of each document member, by name: its name, CRC-32 and size from the central
    directory, its sidecar's (`<stem>.meta.json` beside it) and the archive's sidecar. Nothing is unpacked
    to tell a changed member, so a new version of an archive, or one without a member, re-reads only the
    members that changed. (CRC-32 is no defence against a forged twin, but only the uploader could forge
    one, of their own documents.)"""
    by_name = {m.name: m for m in listed}
    side = sidecar_path(archive)
    shared = side.read_bytes() if side.exists() else b""
    hashes = {}
    for m in filter(is_document_member, listed):
        h = hashlib.sha256(f"{m.name}\0{m.info.CRC}\0{m.info.file_size}".encode())
        own = by_name.get(str(PurePosixPath(m.name).with_suffix(".meta.json")))
        if own is not None:
            h.update(f"\0{own.info.CRC}\0{own.info.file_size}".encode())
        h.update(shared)
        hashes[m.name] = h.hexdigest()
    return hashes


def expected_hashes(files: list[Path]) -> dict[str, str | None]:
    """The doc id and source hash each file (each member of an archive) would be indexed with, without
    reading a document: an archive's central directory is listed, nothing is unpacked. None for an archive
    that cannot be listed, which then never looks indexed."""
    found: dict[str, str | None] = {}
    for f in files:
        if is_archive(f):
            try:
                found |= {member_doc_id(f, name): h for name, h in member_hashes(f, members(f)).items()}
            except (ReadError, OSError):
                found[f"{f} (archive)"] = None
        elif f.suffix.lower() in SUPPORTED_SUFFIXES:
            found[doc_id_for(f)] = file_hash(f)
    return found


def is_document_member(m: Member) -> bool:
    """Read as a document: a supported format, not a sidecar, a folder note or an archive."""
    return (m.suffix in SUPPORTED_SUFFIXES and m.suffix not in ARCHIVE_SUFFIXES
            and not FOLDER_NOTES.match(PurePosixPath(m.name).name) and not m.name.lower().endswith(".meta.json"))


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
    listed: set[str] = set()
    for clause, start, end in own_spans(doc.clauses, doc.text):
        if clause.clause_id not in listed:  # once: an article's paragraph after its list is a second span of it
            listed.add(clause.clause_id)
            new_clauses.append(clause)
        for rows in find_tables(doc.text, start, end):
            for row in rows:
                row_id = f"{clause.clause_id}.{row.number}"
                new_clauses.append(Clause(row_id, row.number, row.task, f"{clause.path} › {row.number} {row.task}",
                                          clause.level + 1, row.start, row.end, clause.clause_id))
                doc.records.append(ResponsibilityRecord(row.task, row.lead, row.assisting, row_id, row.number,
                                                        row.lead_label, row.assist_label, row.deadline,
                                                        row.deadline_label))
        for duty in find_duty_mentions(doc.text, start, end):
            task = clause.heading or clause.path
            doc.records.append(ResponsibilityRecord(task, duty.lead, duty.assisting, clause.clause_id, clause.number,
                                                    duty.lead_label, duty.assist_label))
    doc.clauses = new_clauses


def load_document(path: Path, max_file_mb: float = 20.0, sandbox: Sandbox | None = None,
                  doc_id: str | None = None) -> Document:
    """Read and parse one file, reading it in `sandbox` (by default one of its own, with default limits),
    as `doc_id` (default: from its name). Raises IngestError with a one-line message (UnreadableFile when
    the file itself is at fault)."""
    if sandbox is None:
        with Sandbox() as own:
            return load_document(path, max_file_mb, own, doc_id)
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
        doc_id=doc_id or doc_id_for(path), text=cleaned.text, source_path=str(path), source_hash=file_hash(path),
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


# A page of a clean scan reads at 0.98 or more (benches/formats_ocr.py); under 0.9 about one character in
# ten is a guess: a person should look at the page.
OCR_DOUBTFUL = 0.9


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
    if doc.read_method == "ocr":
        pages, scores = doc.read_info.get("ocr_pages", []), doc.read_info.get("confidence", [])
        doubtful = [str(page) for page, score in zip(pages, scores, strict=False) if score < OCR_DOUBTFUL]
        if doubtful:
            warnings.append(f"OCR was unsure of pages {', '.join(doubtful)} (mean confidence under "
                            f"{OCR_DOUBTFUL:g}): check their text against the scan")
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
                      retry_quarantined: bool = False,
                      page_progress: PageProgress | None = None) -> IngestReport:
    """Parse and chunk every file; a bad file is reported and skipped, the rest still go in.

    `known` maps doc ids already indexed to their document and chunks: a file whose hash is unchanged
    reuses them instead of being parsed again. Files are read in a sandbox under `limits`. A file that
    cannot be read goes into `quarantine`, and is not read again while its content stays the same (unless
    `retry_quarantined`, for a rebuild). `page_progress` hears of each page OCR'd (seconds a page).
    """
    with Sandbox(limits, page_progress) as sandbox:  # one child for all the files: started once, if at all
        return _prepare(discover(paths), chunking, max_file_mb, progress, known or {}, sandbox, quarantine,
                        retry_quarantined)


def _prepare(files: list[Path], chunking: ChunkSettings, max_file_mb: float, progress,
             known: dict[str, tuple[Document, list[Chunk]]], sandbox: Sandbox, quarantine: Quarantine | None,
             retry_quarantined: bool) -> IngestReport:
    report = IngestReport()
    seen: dict[str, str] = {}
    hashes: dict[str, str] = {}
    # The text of documents already indexed (whose files still exist), so a copy under another name is
    # refused whether it comes with them or alone (one upload): one document, one id.
    indexed = {hashlib.sha256(doc.text.encode()).hexdigest(): doc for doc, _ in known.values()
               if Path(doc.source_path).exists()}

    def take(name: str, doc: Document, chunks: list[Chunk] | None) -> None:
        """Add a document read anew (chunks None) or reused, unless its id or its text is taken."""
        if doc.doc_id in seen:
            report.refuse(name, f"{name}: same document id '{doc.doc_id}' as {seen[doc.doc_id]}; rename one.")
            return
        content = hashlib.sha256(doc.text.encode()).hexdigest()
        if content in hashes:
            report.refuse(name, f"{name}: same text as {hashes[content]}; remove the duplicate.")
            return
        twin = indexed.get(content)
        if twin is not None and twin.doc_id != doc.doc_id and twin.doc_id not in report.dropped:
            report.refuse(name, f"{name}: same text as {twin.source_path}, indexed as '{twin.doc_id}'; remove "
                          f"the duplicate (or delete '{twin.doc_id}' first to index it under this name).")
            return
        seen[doc.doc_id], hashes[content] = name, name
        report.documents.append(doc)
        if chunks is None:
            chunks = chunk_document(doc, chunking)
            report.parsed.append(doc.doc_id)
            report.warnings += [f"{name}: {w}" for w in doc.warnings]
            report.removed.update(doc.removed)
            report.count(name, doc.read_method)
        else:
            report.unchanged.append(doc.doc_id)
            report.count(name, "unchanged")
        report.chunks += chunks

    for path in progress(files) if progress else files:
        if not path.exists():
            report.refuse(str(path), f"{path}: no such file; check the path.")
            continue
        if is_archive(path):
            for name, doc, chunks in archive_documents(path, known, max_file_mb, sandbox, quarantine,
                                                       retry_quarantined, report):
                take(name, doc, chunks)
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.refuse(str(path), f"{path}: unsupported file type {path.suffix or '(none)'}; "
                          f"supported: {', '.join(SUPPORTED_SUFFIXES + ARCHIVE_SUFFIXES)}.")
            continue
        previous = known.get(doc_id_for(path))
        if previous and previous[0].source_hash == file_hash(path) and previous[0].source_path == str(path):
            take(str(path), *previous)
            continue
        held = quarantine.is_quarantined(path) if quarantine and not retry_quarantined else None
        if held:
            report.refuse(str(path), f"{path}: quarantined since {held['since']}: {held['message'].rstrip('.')}; "
                          "fix or replace the file (or ingest with --rebuild to read it again).")
            continue
        try:
            doc = load_document(path, max_file_mb, sandbox)
        except IngestError as exc:
            report.refuse(str(path), str(exc))
            if quarantine and isinstance(exc, UnreadableFile):
                quarantine.record(path, str(exc))
            continue
        if quarantine:
            quarantine.clear(path)
        take(str(path), doc, None)
    return report


# Sidecar fields of an archive that are not passed on to its members: each names one document.
ONE_DOCUMENT_FIELDS = ("title", "doc_number")


def archive_documents(path: Path, known: dict[str, tuple[Document, list[Chunk]]], max_file_mb: float,
                      sandbox: Sandbox, quarantine: Quarantine | None, retry_quarantined: bool,
                      report: IngestReport) -> list[tuple[str, Document, list[Chunk] | None]]:
    """The documents of a zip's members, each named `<archive>/<member>` in messages (ingest/archives.py).

    A member indexed from this archive with the same content (`member_hashes`) is reused; the others are
    unpacked into a temporary folder (removed after) and read there like files, as `member_doc_id`, with
    the archive as source_path and {"archive", "member"} in extra. A member's sidecar is `<stem>.meta.json` beside it
    in the archive; the archive's own sidecar applies to every member, but for its title and 文号. A
    hostile archive is refused whole and quarantined; so is one with an unreadable member (the other
    members still go in), which is then not read again while it stays the same. Members of an earlier
    version of the archive that this one no longer holds go into `report.dropped`. A zip inside a zip is
    refused: one level only."""
    try:
        listed = members(path)
        shared = {k: v for k, v in read_sidecar(path).items() if k not in ONE_DOCUMENT_FIELDS}
    except ReadError as exc:
        report.refuse(str(path), str(exc))
        if quarantine:
            quarantine.record(path, str(exc))
        return []
    except (SidecarError, OSError) as exc:
        report.refuse(str(path), str(exc))
        return []
    hashes, by_name = member_hashes(path, listed), {m.name: m for m in listed}
    found, pending = [], []
    for m in listed:
        shown = f"{path}/{m.name}"
        if m.suffix in ARCHIVE_SUFFIXES:
            report.refuse(shown, f"{shown}: an archive inside an archive is not unpacked (one level only); unzip "
                          "it and put its files into the outer archive, or ingest it on its own.")
        elif m.suffix not in SUPPORTED_SUFFIXES and not m.name.lower().endswith(".meta.json"):
            report.refuse(shown, f"{shown}: unsupported file type {m.suffix or '(none)'}; supported: "
                          f"{', '.join(SUPPORTED_SUFFIXES)}.")
        elif is_document_member(m):
            doc_id = member_doc_id(path, m.name)
            previous = known.get(doc_id)
            if previous and previous[0].source_path == str(path) and previous[0].source_hash == hashes[m.name]:
                found.append((shown, *previous))
            elif previous and previous[0].source_path != str(path) and Path(previous[0].source_path).exists():
                report.refuse(shown, f"{shown}: its document id '{doc_id}' is taken by {previous[0].source_path}; "
                              "rename the member or the archive.")
            else:
                pending.append((m, doc_id, shown))
    ids = {member_doc_id(path, m.name) for m in listed if is_document_member(m)}
    report.dropped += [d for d, (doc, _) in known.items() if doc.source_path == str(path) and d not in ids]
    if not pending:  # every document reused (or none in it: its members were refused one by one)
        report.count(str(path), "unchanged" if found else "unpacked")
        return found
    held = quarantine.is_quarantined(path) if quarantine and not retry_quarantined else None
    if held:
        report.refuse(str(path), f"{path}: quarantined since {held['since']}: {held['message'].rstrip('.')}; fix "
                      "or replace the archive (or ingest with --rebuild to read it again).")
        return found
    unreadable = []
    with tempfile.TemporaryDirectory(prefix="policyqa-zip-") as tmp:
        # Our own names (the member's suffix kept, for its reader): no name from the archive reaches the disk.
        local = {m: Path(tmp) / f"{i}{m.suffix}" for i, (m, _, _) in enumerate(pending)}
        sides = {by_name[side]: sidecar_path(local[m]) for m, _, _ in pending
                 if (side := str(PurePosixPath(m.name).with_suffix(".meta.json"))) in by_name}
        try:
            unpack(path, local | sides, sandbox.limits.max_unpacked_mb)
        except ReadError as exc:
            report.refuse(str(path), str(exc))
            if quarantine:
                quarantine.record(path, str(exc))
            return found
        report.count(str(path), "unpacked")
        for m, doc_id, shown in pending:
            try:
                merged_sidecar(sidecar_path(local[m]), shared,
                               f"{path}/{PurePosixPath(m.name).with_suffix('.meta.json')}")
                doc = load_document(local[m], max_file_mb, sandbox, doc_id)
            except IngestError as exc:
                message = str(exc).replace(str(local[m]), shown)
                report.refuse(shown, message)
                if isinstance(exc, UnreadableFile):
                    unreadable.append(message.replace(f"{path}/", "member ", 1))
                continue
            doc.source_path, doc.source_hash = str(path), hashes[m.name]
            doc.extra |= {"archive": path.name, "member": m.name}
            found.append((shown, doc, None))
    if quarantine and unreadable:
        quarantine.record(path, f"{path}: " + "; ".join(unreadable))
    elif quarantine:
        quarantine.clear(path)
    return found


def merged_sidecar(side: Path, shared: dict, shown: str) -> None:
    """Write a member's sidecar: the archive's shared fields under the member's own (unpacked to `side`),
    but for the archive's `collection`, which holds for every member: an archive uploaded into a collection
    (with a key scoped to it) cannot put a member into another through the member's sidecar."""
    try:
        own = load_sidecar(side, shown, "fix it in the archive or leave it out") if side.exists() else {}
    except SidecarError as exc:
        raise IngestError(str(exc)) from exc
    if shared or own:
        pinned = {"collection": shared["collection"]} if shared.get("collection") else {}
        side.write_text(json.dumps(shared | own | pinned, ensure_ascii=False), encoding="utf-8")
