"""GET /api/jobs and /api/jobs/{job_id}: the status of uploads, deletes and reindexes (from the job journal,
so they outlive restarts); POST /api/reindex; GET /api/quarantine: uploads that failed, kept for a look."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field

from server.access import Access
from server.deps import get_live, require_admin, require_writer
from server.live import LiveIndex
from server.routes.documents import accepted
from server.schemas import JobAccepted, JobOut, ReindexRequest


class QuarantinedFile(BaseModel):
    name: str = Field(..., description="The file, as quarantine/<job>/<name> or its corpus path.")
    message: str = Field(..., description="Why it could not be read, and what to do.")
    since: str

# Job messages name documents and files: for the people who may change the index only.
router = APIRouter(prefix="/api", tags=["jobs"], dependencies=[Depends(require_writer)])


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(live: LiveIndex = Depends(get_live), access: Access = Depends(require_writer)) -> list[dict]:
    """The most recent jobs, newest first; for a key scoped to collections, the jobs on its collections."""
    return [j.to_dict() for j in live.jobs.recent()
            if access.admin or j.payload.get("collection", j.payload.get("metadata", {}).get("collection"))
            in access.write]


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, live: LiveIndex = Depends(get_live)) -> dict:
    """queued -> running -> done | failed, with a message saying what happened."""
    job = live.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job '{job_id}'; GET /api/jobs lists the recent ones")
    return job.to_dict()


CANCELLABLE = ("upload", "laws")  # the long ones: an OCR'd scan, a first import of the law library


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, status_code=202)
def cancel_job(job_id: str, live: LiveIndex = Depends(get_live)) -> dict:
    """Stop an upload or a laws import that is queued or running. An upload (a scan being OCR'd stops at its
    next page) is discarded and the version it would have replaced stays indexed; a laws import (it stops at
    its next batch) leaves the index as it was and keeps what it embedded for the next import. Poll the job
    for its end."""
    job = live.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job '{job_id}'; GET /api/jobs lists the recent ones")
    if job.status not in ("queued", "running"):
        raise HTTPException(409, f"job '{job_id}' is {job.status}; only a queued or running job can be cancelled")
    if job.kind not in CANCELLABLE:
        raise HTTPException(409, f"job '{job_id}' is a {job.kind}; only an upload or a laws import can be cancelled "
                                 "(the others are short, and a half-done index change is undone by the next one)")
    return live.jobs.cancel(job_id).to_dict()


@router.post("/reindex", status_code=202, response_model=JobAccepted, dependencies=[Depends(require_admin)])
def reindex(response: Response, body: ReindexRequest | None = None,
            live: LiveIndex = Depends(get_live)) -> dict:
    """Ingest the corpus folder and uploads/ again in the background (changed files are re-read, documents
    whose file is gone are dropped, files that failed before and have not changed are not read again)."""
    return accepted(response, live.submit_reindex(body.rebuild if body else False))


@router.get("/quarantine", response_model=list[QuarantinedFile], tags=["documents"],
            dependencies=[Depends(require_admin)])
def quarantined(live: LiveIndex = Depends(get_live)) -> list[dict]:
    """Files that could not be read (failed uploads, and corpus files ingest skipped), with the reason. They
    are kept, and not read again until they change; `policyqa documents --failed` lists the same."""
    return [{"name": live.public(e["path"]), "message": live.public(e["message"]), "since": e["since"]}
            for e in live.quarantine().entries()]
