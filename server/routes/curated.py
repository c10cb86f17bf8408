"""Approved answers (server/curated.py): POST, GET and DELETE /api/curated. An editor approves an answer, from
the feedback, from the log or written anew, with the clauses it cites; later questions that mean the same get
it, marked `"approved": true`, while its clauses are unchanged in the index."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from policyqa.service import QAService
from policyqa.settings import Settings
from server.curated import CuratedError, CuratedStore
from server.deps import checked_question, get_service, get_settings, require_admin
from server.schemas import CuratedCreated, CuratedOut, CuratedRequest

router = APIRouter(prefix="/api", tags=["curated"], dependencies=[Depends(require_admin)])


def get_curated(request: Request) -> CuratedStore:
    return request.app.state.curated


@router.post("/curated", status_code=201, response_model=CuratedCreated)
async def approve(body: CuratedRequest, service: QAService = Depends(get_service),
                  store: CuratedStore = Depends(get_curated), settings: Settings = Depends(get_settings)) -> dict:
    """Approve an answer to a question, citing clauses by their `chunk_id` (as /api/ask and /api/search give
    them); [n] in the answer refers to the n-th citation."""
    checked_question(body.question, settings, ("body", "question"))
    try:
        entry = await run_in_threadpool(store.add, body.question, body.answer, body.citations, service.index,
                                        body.source)
    except CuratedError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"id": entry.id}


@router.get("/curated", response_model=list[CuratedOut])
def approved_answers(service: QAService = Depends(get_service),
                     store: CuratedStore = Depends(get_curated)) -> list[dict]:
    """Every approved answer, oldest first; `stale` ones (a cited clause deleted or changed since approval)
    are not served and say why, for review: approve the answer again against the clauses as they are now."""
    chunks = store.chunks(service.index)
    out = []
    for e in store.entries():
        problems = e.problems(chunks)
        out.append({"id": e.id, "question": e.question, "answer": e.answer,
                    "citations": [c["chunk_id"] for c in e.citations], "source": e.source,
                    "created_at": e.created_at, "stale": bool(problems), "reason": "; ".join(problems)})
    return out


@router.delete("/curated/{curated_id}", status_code=204)
async def withdraw(curated_id: str, store: CuratedStore = Depends(get_curated)) -> Response:
    if not await run_in_threadpool(store.delete, curated_id):
        raise HTTPException(404, f"no approved answer {curated_id!r}; GET /api/curated lists them")
    return Response(status_code=204)
