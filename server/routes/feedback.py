"""POST /api/feedback: a thumbs up or down on an answer, kept for review (`policyqa eval from-feedback`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from policyqa.settings import Settings
from server.deps import checked_question, get_feedback_log, get_settings
from server.feedback import FeedbackLog
from server.jobs import now_iso
from server.schemas import FeedbackAccepted, FeedbackRequest

router = APIRouter(prefix="/api", tags=["feedback"])


@router.post("/feedback", status_code=201, response_model=FeedbackAccepted)
async def feedback(body: FeedbackRequest, log: FeedbackLog = Depends(get_feedback_log),
                   settings: Settings = Depends(get_settings)) -> dict:
    """Appended as one JSON line to <data_dir>/feedback.jsonl, on disk before the answer."""
    checked_question(body.question, settings, ("body", "question"))
    at = now_iso()
    record = body.model_dump(mode="json", exclude_none=False) | {"at": at}
    await run_in_threadpool(log.append, record)
    return {"ok": True, "at": at}
