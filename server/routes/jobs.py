"""GET /api/jobs/{job_id}: the status of an upload, delete or reindex; POST /api/reindex."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Response

from server.deps import get_live, require_writer
from server.live import LiveIndex
from server.routes.documents import accepted
from server.schemas import JobAccepted, JobOut, ReindexRequest

router = APIRouter(prefix="/api", tags=["jobs"])


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(live: LiveIndex = Depends(get_live)) -> list[dict]:
    """The most recent jobs, newest first."""
    return [j.to_dict() for j in live.jobs.recent()]


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, live: LiveIndex = Depends(get_live)) -> dict:
    """queued -> running -> done | failed, with a message saying what happened."""
    job = live.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job '{job_id}' (jobs are kept in memory until the server restarts)")
    return job.to_dict()


@router.post("/reindex", status_code=202, response_model=JobAccepted, dependencies=[Depends(require_writer)])
def reindex(response: Response, body: ReindexRequest | None = None,
            live: LiveIndex = Depends(get_live)) -> dict:
    """Ingest the corpus folder and uploads/ again in the background (changed files are re-read, documents
    whose file is gone are dropped)."""
    return accepted(response, live.submit_reindex(body.rebuild if body else False))
