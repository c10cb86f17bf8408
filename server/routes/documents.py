"""GET /api/documents, GET /api/documents/{doc_id}; POST /api/documents (upload) and
DELETE /api/documents/{doc_id}, which change the index in the background."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ingest.pipeline import doc_id_for
from policyqa.models import Document
from policyqa.service import QAService
from policyqa.settings import Settings
from retrieval.filters import LAWS, LOCAL, collection_of, version_start
from server.access import Access, check_write, upload_collection
from server.deps import get_live, get_service, get_settings, require_reader, require_writer
from server.live import LiveIndex
from server.schemas import DocumentDetail, DocumentSummary, JobAccepted
from server.uploads import (
    UPLOAD_METADATA_KEYS,
    UploadError,
    accepted_suffixes,
    parse_metadata,
    safe_upload_name,
    staging_path,
)

router = APIRouter(prefix="/api/documents", tags=["documents"])


def lifecycle(doc: Document, today: str | None = None) -> str:
    """in force, abolished, superseded or not yet effective (from the sidecar's lifecycle fields)."""
    if doc.abolished:
        return "abolished"
    if doc.superseded_by:
        return "superseded"
    start = version_start(doc)
    return "not yet effective" if start and start > (today or dt.date.today().isoformat()) else "in force"


def summary(doc: Document, live: LiveIndex | None = None) -> dict:
    law = collection_of(doc) == LAWS
    source = live.public(doc.source_path) if live is not None and doc.source_path and not law else ""
    return {"doc_id": doc.doc_id, "title": doc.title, "doc_number": doc.doc_number, "issuer": doc.issuer,
            "date": doc.date, "doc_type": doc.doc_type, "n_clauses": len(doc.clauses), "n_records": len(doc.records),
            "collection": collection_of(doc), "status": doc.extra.get("status"),
            "version": (doc.extra.get("version_date") or doc.date) if law else doc.source_hash[:10],
            "lifecycle": lifecycle(doc), "source": source,
            "uploaded": bool(live is not None and doc.source_path and live.is_upload(doc.source_path)),
            "removed": dict(doc.removed), "read_method": doc.read_method, "n_warnings": len(doc.warnings)}


@router.get("", response_model=list[DocumentSummary])
def list_documents(collection: str | None = Query(None, max_length=50, description=f"Only this collection: "
                                                  f"{LAWS}, {LOCAL} or one that sidecars and uploads name "
                                                  "(a key scoped to collections sees its own only)."),
                   service: QAService = Depends(get_service), live: LiveIndex = Depends(get_live),
                   access: Access = Depends(require_reader)) -> list[dict]:
    return [summary(d, live) for d in service.index.documents.values()
            if collection in (None, collection_of(d)) and access.can_read(d)]


@router.get("/{doc_id}", response_model=DocumentDetail)
def get_document(doc_id: str, service: QAService = Depends(get_service), live: LiveIndex = Depends(get_live),
                 access: Access = Depends(require_reader)) -> dict:
    """The cleaned full text with the clause tree (character offsets, level, parent), responsibility records,
    and what ingest did: the noise lines cleaning removed and the reader's warnings."""
    doc = service.index.documents.get(doc_id)
    if doc is None or not access.can_read(doc):  # the same answer for both: a key learns nothing of the others
        raise HTTPException(404, f"no document '{doc_id}'; GET /api/documents lists them")
    return summary(doc, live) | {
        "text": doc.text,
        "clauses": [{"clause_id": c.clause_id, "path": c.path, "start": c.start, "end": c.end, "level": c.level,
                     "number": c.number, "heading": c.heading, "parent_id": c.parent_id} for c in doc.clauses],
        "records": [r.to_dict() for r in doc.records],
        "removed_lines": [{"kind": kind, "line": line} for kind, line in doc.removed_lines],
        "warnings": [live.public(w) for w in doc.warnings],
    }


def accepted(response: Response, job, **extra) -> dict:
    url = f"/api/jobs/{job.id}"
    response.headers["Location"] = url
    return job.to_dict() | {"url": url} | extra


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": f"The document: {' '.join(accepted_suffixes())} (a .zip holds documents "
                                "of these formats, each ingested on its own; at most POLICYQA_MAX_FILE_MB)."},
        "metadata": {"type": "string", "description": "Optional JSON object with keys among "
                     + ", ".join(UPLOAD_METADATA_KEYS) + ", written as the document's sidecar."},
    }}}}}}


def save_staged(source, folder, job_name: str, name: str, max_bytes: int):
    """Copy the uploaded file into a hidden staging file in uploads/; 413 (and nothing kept) when too big."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = staging_path(folder, job_name, name)
    source.seek(0)
    with staged.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
        size = out.tell()
    if size > max_bytes:
        staged.unlink(missing_ok=True)
        raise HTTPException(413, f"the file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit "
                            "(POLICYQA_MAX_FILE_MB)")
    if size == 0:
        staged.unlink(missing_ok=True)
        raise HTTPException(422, "the file is empty")
    return staged


def replaced_by(current: QAService | None, target, live: LiveIndex) -> list[Document]:
    """The indexed documents an upload to `target` replaces: the upload of its document id, or the members of
    the archive uploaded under its name."""
    if current is None:
        return []
    docs = current.index.documents
    return [d for d in docs.values() if live.is_upload(d.source_path)
            and (d.doc_id == doc_id_for(target) or d.extra.get("archive") == target.name)]


@router.post("", status_code=202, response_model=JobAccepted, dependencies=[Depends(require_writer)],
             openapi_extra=UPLOAD_BODY)
async def upload_document(request: Request, response: Response, live: LiveIndex = Depends(get_live),
                          settings: Settings = Depends(get_settings), access: Access = Depends(require_writer)) -> dict:
    """Upload a document (multipart: `file`, optional `metadata` JSON). It is saved in uploads/ and
    indexed in the background; poll the returned job URL. The document is searchable once the job is done."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send the document as multipart/form-data, the file in a field named 'file'")
    try:
        form_cm = request.form(max_files=1, max_fields=4, max_part_size=settings.max_request_kb * 1024)
    except AssertionError as exc:  # python-multipart is not installed
        raise HTTPException(501, "uploads need the python-multipart package on the server") from exc
    async with form_cm as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise HTTPException(422, "no file: send the document in a multipart field named 'file'")
        raw_meta = form.get("metadata")
        try:
            name = safe_upload_name(file.filename)
            metadata = parse_metadata(raw_meta if isinstance(raw_meta, str) else None)
        except UploadError as exc:
            raise HTTPException(exc.status, str(exc)) from exc
        collection = upload_collection(metadata.get("collection"), access)
        if collection:
            metadata["collection"] = collection  # into the sidecar, which ingest reads (archive members too)
        target = live.uploads / name
        doc_id = doc_id_for(target)
        current = request.app.state.service
        existing = current.index.documents.get(doc_id) if current is not None else None
        if existing is not None and not live.is_upload(existing.source_path):
            raise HTTPException(409, f"'{doc_id}' is already indexed from {existing.source_path}; rename the "
                                "file to add it as another document")
        for replaced in replaced_by(current, target, live):
            check_write(replaced, access, "replace")
        max_bytes = int(settings.max_file_mb * 1e6)
        staged = await run_in_threadpool(save_staged, file.file, live.uploads, uuid.uuid4().hex[:12], name,
                                         max_bytes)
    job = live.submit_upload(staged, target, metadata)
    return accepted(response, job, filename=name)


@router.delete("/{doc_id}", status_code=202, response_model=JobAccepted,
               dependencies=[Depends(require_writer)])
def delete_document(doc_id: str, response: Response, live: LiveIndex = Depends(get_live),
                    service: QAService = Depends(get_service), access: Access = Depends(require_writer)) -> dict:
    """Remove a document from the index in the background (an uploaded one also from uploads/)."""
    doc = service.index.documents.get(doc_id)
    if doc is None:
        raise HTTPException(404, f"no document '{doc_id}'; GET /api/documents lists them")
    check_write(doc, access, "delete")
    if len(service.index.documents) == 1:
        raise HTTPException(409, f"'{doc_id}' is the only document; an index cannot be empty")
    return accepted(response, live.submit_delete(doc_id, collection_of(doc)))
