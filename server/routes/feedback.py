"""POST /api/feedback: a thumbs up or down on an answer, kept for review (`policyqa eval from-feedback`);
GET /api/feedback: the records, for the admin console."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from policyqa.settings import Settings
from server.deps import checked_question, get_feedback_log, get_settings, require_admin
from server.feedback import FeedbackLog
from server.jobs import now_iso
from server.schemas import FeedbackAccepted, FeedbackOut, FeedbackRequest

router = APIRouter(prefix="/api", tags=["feedback"])


@router.post("/feedback", status_code=201, response_model=FeedbackAccepted)
async def feedback(body: FeedbackRequest, request: Request, log: FeedbackLog = Depends(get_feedback_log),
                   settings: Settings = Depends(get_settings)) -> dict:
    """Appended as one JSON line to <data_dir>/feedback.jsonl, on disk before the answer."""
    checked_question(body.question, settings, ("body", "question"))
    at = now_iso()
    record = body.model_dump(mode="json", exclude_none=False) | {"at": at}
    await run_in_threadpool(log.append, record)
    linked = False
    if body.log_id:  # kept with its answer in the conversation log too (comment masked there)
        linked = await run_in_threadpool(request.app.state.convlog.add_feedback, body.log_id, body.rating,
                                         body.reason, body.comment)
    return {"ok": True, "at": at, "linked": linked}


@router.get("/feedback", response_model=list[FeedbackOut], dependencies=[Depends(require_admin)])
async def list_feedback(rating: str | None = Query(None, pattern="^(up|down)$"),
                        limit: int = Query(500, ge=1, le=10_000),
                        log: FeedbackLog = Depends(get_feedback_log)) -> list[dict]:
    """The feedback records, newest first (people's questions: for those who may change the index)."""
    rows = await run_in_threadpool(log.read)
    return [r for r in rows if rating in (None, r.get("rating"))][:limit]
