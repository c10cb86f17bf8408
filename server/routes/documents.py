"""GET /api/documents and GET /api/documents/{doc_id}."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException

from policyqa.models import Document
from policyqa.service import QAService
from server.deps import get_service
from server.schemas import DocumentDetail, DocumentSummary

router = APIRouter(prefix="/api/documents", tags=["documents"])


def summary(doc: Document) -> dict:
    return {"doc_id": doc.doc_id, "title": doc.title, "doc_number": doc.doc_number, "issuer": doc.issuer,
            "date": doc.date, "doc_type": doc.doc_type, "n_clauses": len(doc.clauses), "n_records": len(doc.records)}


@router.get("", response_model=list[DocumentSummary])
def list_documents(service: QAService = Depends(get_service)) -> list[dict]:
    return [summary(d) for d in service.index.documents.values()]


@router.get("/{doc_id}", response_model=DocumentDetail)
def get_document(doc_id: str, service: QAService = Depends(get_service)) -> dict:
    """The cleaned full text with clause anchors (character offsets) and responsibility records."""
    doc = service.index.documents.get(doc_id)
    if doc is None:
        raise HTTPException(404, f"no document '{doc_id}'; GET /api/documents lists them")
    return summary(doc) | {
        "text": doc.text,
        "clauses": [{"clause_id": c.clause_id, "path": c.path, "start": c.start, "end": c.end} for c in doc.clauses],
        "records": [r.to_dict() for r in doc.records],
    }
