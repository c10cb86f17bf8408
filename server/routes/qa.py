"""POST /api/ask and POST /api/search."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from policyqa.service import QAService
from policyqa.settings import Settings
from retrieval.filters import SearchFilters
from server.access import Access, read_filters, readable_answer
from server.curated import ask_with_approved
from server.deps import checked_question, get_service, get_settings, require_reader
from server.schemas import AskRequest, AskResponse, Filters, SearchRequest, SearchResponse, SearchResult
from server.streaming import SSE_HEADERS, ask_events


def to_filters(body: Filters | None) -> SearchFilters | None:
    if not body:
        return None
    fields = body.model_dump()
    return SearchFilters(**fields | {"as_of": body.as_of.isoformat() if body.as_of else ""})

router = APIRouter(prefix="/api", tags=["qa"])


def wants_stream(request: Request, body_stream: bool) -> bool:
    """`"stream": true`, or an Accept header asking for events rather than JSON."""
    accept = request.headers.get("accept", "")
    return body_stream or ("text/event-stream" in accept and "application/json" not in accept)


@router.post("/ask", response_model=AskResponse, responses={200: {"content": {"text/event-stream": {}}}})
def ask(body: AskRequest, request: Request, service: QAService = Depends(get_service),
        settings: Settings = Depends(get_settings), access: Access = Depends(require_reader)):
    """Answer a question with numbered citations, or refuse when the documents do not say.

    With `"stream": true` (or `Accept: text/event-stream`) the answer comes as server-sent events:
    `citations` (the list), `delta` ({"text": piece}, in order), then `done` ({refused, latency_ms, approved,
    log_id}). A question that means the same as one with an approved answer (/api/curated) gets that answer,
    `"approved": true`. Every answer is kept in the conversation log (GET /api/log) under `log_id`.
    """
    question = checked_question(body.question, settings, ("body", "question"))
    filters = read_filters(to_filters(body.filters), access)
    resolved = service.resolve(question, [t.model_dump() for t in body.history])  # a follow-up in context
    result = ask_with_approved(request.app.state.curated, service, resolved, body.top_k, filters)
    result.resolved_question = resolved if resolved != question else None
    readable_answer(result.answer, access)
    stream = wants_stream(request, body.stream)
    answer = result.to_dict()
    log_id = request.app.state.convlog.record("ask-stream" if stream else "ask", question, answer)
    if stream:
        return StreamingResponse(ask_events(result, log_id), media_type="text/event-stream", headers=SSE_HEADERS)
    return answer | {"log_id": log_id}


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, service: QAService = Depends(get_service),
           settings: Settings = Depends(get_settings), access: Access = Depends(require_reader)) -> SearchResponse:
    """Hybrid (dense + BM25) search over the indexed clauses. With `"explain": true` (the admin console's
    hit test) the question goes through the answer step too: the hits are the ones the answer reads, with
    their cosine similarities, and the response has the refusal model's answerability and verdict."""
    query = checked_question(body.query, settings, ("body", "query"))
    extra = {}
    if body.explain:
        result = service.ask(query, body.top_k, filters=read_filters(to_filters(body.filters), access))
        hits = result.hits
        extra = {"answerability": round(result.answer.answerability, 4), "refused": result.answer.refused,
                 "threshold": round(service.composer.model().threshold, 4)}
    else:
        hits = service.search(query, body.top_k, filters=read_filters(to_filters(body.filters), access))
    docs = service.index.documents
    return SearchResponse(results=[
        SearchResult(chunk_id=h.chunk.chunk_id, doc_id=h.chunk.doc_id, doc_title=docs[h.chunk.doc_id].title,
                     clause_path=h.chunk.clause_path, text=h.chunk.text, score=round(h.score, 5), signals=h.signals,
                     similarities={k: round(v, 4) for k, v in h.similarities.items()} if body.explain else None)
        for h in hits
    ], **extra)
