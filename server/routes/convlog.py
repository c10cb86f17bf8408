"""The conversation log (server/convlog.py): GET /api/log and GET /api/log/export?format=csv|xlsx. Key-protected
like the writes: it holds what people asked."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from server.convlog import ConversationLog, LogQuery, parse_time, to_csv, to_xlsx
from server.deps import require_admin
from server.schemas import LogPage

router = APIRouter(prefix="/api", tags=["log"], dependencies=[Depends(require_admin)])
EXPORT_LIMIT = 100_000  # rows in one export file
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def get_convlog(request: Request) -> ConversationLog:
    return request.app.state.convlog


def log_query(since: str | None = Query(None, description="From this ISO date or date-time (UTC without a zone)."),
              until: str | None = Query(None, description="Before this ISO date or date-time."),
              refused: bool | None = Query(None, description="Only refused (true) or answered (false) questions."),
              approved: bool | None = Query(None, description="Only answers served from an approved answer."),
              q: str = Query("", max_length=200, description="Text in the question or the answer."),
              rated: Literal["up", "down", "any"] | None = Query(None, description="Only answers with this "
                                                                  "feedback (any: with feedback)."),
              limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)) -> LogQuery:
    try:
        times = {name: parse_time(value, name) if value else None for name, value in (("since", since),
                                                                                       ("until", until))}
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return LogQuery(times["since"], times["until"], refused, approved, q.strip(), rated, limit, offset)


@router.get("/log", response_model=LogPage)
async def conversation_log(query: LogQuery = Depends(log_query),
                           log: ConversationLog = Depends(get_convlog)) -> dict:
    """Logged answers, newest first (`total`: how many match; page with `limit` and `offset`)."""
    entries, total = await run_in_threadpool(log.query, query)
    return {"entries": entries, "total": total, "retention_days": log.retention_days}


@router.get("/log/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "The log as a file."}})
async def export_log(format: Literal["csv", "xlsx"] = Query("csv"), query: LogQuery = Depends(log_query),
                     log: ConversationLog = Depends(get_convlog)) -> Response:
    """The logged answers matching the same filters as GET /api/log (all of them, up to 100,000, oldest
    first) as CSV (UTF-8 with BOM, for Excel) or XLSX."""
    query.limit, query.offset = EXPORT_LIMIT, 0
    entries, _ = await run_in_threadpool(log.query, query)
    if format == "csv":
        content, media = await run_in_threadpool(to_csv, entries), "text/csv; charset=utf-8"
    else:
        content, media = await run_in_threadpool(to_xlsx, entries), XLSX
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="policyqa-log.{format}"'})
