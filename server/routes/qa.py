"""POST /api/ask and POST /api/search."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from policyqa.service import QAService
from retrieval.filters import SearchFilters
from server.deps import get_service
from server.schemas import AskRequest, AskResponse, Filters, SearchRequest, SearchResponse, SearchResult


def to_filters(body: Filters | None) -> SearchFilters | None:
    return SearchFilters(**body.model_dump()) if body else None

router = APIRouter(prefix="/api", tags=["qa"])


@router.post("/ask", response_model=AskResponse)
def ask(body: AskRequest, service: QAService = Depends(get_service)) -> dict:
    """Answer a question with numbered citations, or refuse when the documents do not say."""
    return service.ask(body.question.strip(), body.top_k, filters=to_filters(body.filters)).to_dict()


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, service: QAService = Depends(get_service)) -> SearchResponse:
    """Hybrid (dense + BM25) search over the indexed clauses."""
    hits = service.search(body.query.strip(), body.top_k, filters=to_filters(body.filters))
    docs = service.index.documents
    return SearchResponse(results=[
        SearchResult(chunk_id=h.chunk.chunk_id, doc_id=h.chunk.doc_id, doc_title=docs[h.chunk.doc_id].title,
                     clause_path=h.chunk.clause_path, text=h.chunk.text, score=round(h.score, 5), signals=h.signals)
        for h in hits
    ])
