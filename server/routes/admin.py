"""The admin console at /admin (server/static/admin.html), and the small endpoints only it needs:
POST/GET /api/eval/drafts (feedback turned into draft eval items in <data_dir>/eval-drafts.jsonl) and
GET /api/eval/report (the newest `policyqa eval` report in POLICYQA_REPORTS_DIR)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from evals.feedback import draft_from_feedback, read_feedback
from policyqa.settings import Settings
from server.deps import get_feedback_log, get_settings, require_admin
from server.feedback import FeedbackLog
from server.schemas import EvalDraftOut, EvalDraftRequest

STATIC = Path(__file__).resolve().parents[1] / "static"
DRAFTS_LOCK = threading.Lock()  # the check for an existing draft and the append are one step

page = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/eval", tags=["admin"], dependencies=[Depends(require_admin)])


@page.get("/admin")
def admin_page() -> FileResponse:
    """The console itself is public (a static page); everything it shows comes from key-protected calls."""
    return FileResponse(STATIC / "admin.html")


def drafts_path(settings: Settings) -> Path:
    return settings.data_dir / "eval-drafts.jsonl"


def add_draft(settings: Settings, feedback: FeedbackLog, feedback_id: str) -> tuple[dict, bool]:
    """The draft of a feedback record, appended unless a draft of the same question is there: (draft, new)."""
    record = next((r for r in feedback.read() if r["id"] == feedback_id), None)
    if record is None:
        raise HTTPException(404, f"no feedback '{feedback_id}'; GET /api/feedback lists them")
    draft = draft_from_feedback(record)
    if draft is None:
        raise HTTPException(422, "that feedback has no question to make an eval item of")
    path = drafts_path(settings)
    with DRAFTS_LOCK:
        existing = next((d for d in read_feedback(path) if d.get("id") == draft["id"]), None)
        if existing is not None:
            return existing, False
        FeedbackLog(path).append(draft)  # the same durable JSONL append as the feedback itself
    return draft, True


@router.post("/drafts", status_code=201, response_model=EvalDraftOut,
             responses={200: {"model": EvalDraftOut, "description": "A draft of that question was there already."}})
async def create_draft(body: EvalDraftRequest, response: Response, settings: Settings = Depends(get_settings),
                       feedback: FeedbackLog = Depends(get_feedback_log)) -> dict:
    """Add a feedback record to <data_dir>/eval-drafts.jsonl as a draft eval item (evals/README.md's format;
    answerable, evidence and answer_terms are left for a reviewer, the feedback is under `review`)."""
    draft, new = await run_in_threadpool(add_draft, settings, feedback, body.feedback_id)
    if not new:
        response.status_code = 200
    return draft


@router.get("/drafts", response_model=list[EvalDraftOut])
async def list_drafts(settings: Settings = Depends(get_settings)) -> list[dict]:
    """The draft eval items, oldest first."""
    return await run_in_threadpool(read_feedback, drafts_path(settings))


def report_summary(path: Path) -> dict:
    payload = json.loads(path.read_text(encoding="utf-8"))
    results = [{"system": r.get("system", ""), "answers": r.get("answers", True), "summary": r.get("summary", {}),
                "by_group": r.get("by_group", {})} for r in payload.get("results", [])]
    html = path.with_suffix(".html")
    return {"file": path.name, "set": Path(payload.get("set", "")).name, "created": payload.get("created", ""),
            "html": html.name if html.exists() else None, "results": results}


def latest_reports(folder: Path) -> dict:
    """The newest report, and the newest of each set (report names start with their time stamp)."""
    found = sorted(folder.glob("*.json"), key=lambda p: p.name) if folder.is_dir() else []
    newest_by_set: dict[str, Path] = {}
    for path in found:
        stem = path.stem.split("-", 2)
        newest_by_set[stem[2] if len(stem) == 3 else path.stem] = path
    if not found:
        raise HTTPException(404, f"no eval report in {folder.name}/ (POLICYQA_REPORTS_DIR); run "
                            "`policyqa eval evals/seed.jsonl` to write one")
    sets = []
    for path in sorted(newest_by_set.values(), key=lambda p: p.name, reverse=True):
        try:
            s = report_summary(path)
        except (ValueError, OSError):
            continue  # a report being written or broken: not shown
        sets.append({k: s[k] for k in ("file", "set", "created")}
                    | {"summary": s["results"][0]["summary"] if s["results"] else {}})
    for path in reversed(found):
        try:
            return {"latest": report_summary(path), "sets": sets}
        except (ValueError, OSError):
            continue
    raise HTTPException(404, f"no readable eval report in {folder.name}/")


@router.get("/report")
async def eval_report(settings: Settings = Depends(get_settings)) -> dict:
    """The newest eval report (`policyqa eval … -o/--reports`): its set, time, and per configuration the
    summary and per-group figures; and the newest report of every set with its summary."""
    return await run_in_threadpool(latest_reports, settings.reports_dir)
