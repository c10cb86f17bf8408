"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Filters(BaseModel):
    doc_ids: list[str] = Field(default_factory=list, description="Only these documents.")
    issuers: list[str] = Field(default_factory=list, description="Issuer contains one of these.")
    doc_types: list[str] = Field(default_factory=list, description="e.g. 实施方案, 通知, 条例.")
    years: list[int] = Field(default_factory=list, description="Year of the document's date.")
    in_force: bool = Field(False, description="Skip abolished, superseded and not-yet-effective documents.")


class AskRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=2000, examples=["哪个股室牵头实施特色创新课程构建工程?"])
    top_k: int | None = Field(None, ge=1, le=50)
    filters: Filters | None = None


class CitationOut(BaseModel):
    n: int
    chunk_id: str
    doc_id: str
    doc_title: str
    doc_number: str
    issuer: str
    date: str
    clause_path: str
    text: str
    score: float
    start: int
    end: int
    page: int | None = None


class AskResponse(BaseModel):
    answer: str
    refused: bool
    citations: list[CitationOut]
    latency_ms: float


class SearchRequest(BaseModel):
    query: str = Field(..., min_length=1, max_length=2000)
    top_k: int | None = Field(None, ge=1, le=50)
    filters: Filters | None = None


class SearchResult(BaseModel):
    chunk_id: str
    doc_id: str
    doc_title: str
    clause_path: str
    text: str
    score: float
    signals: dict[str, int]


class SearchResponse(BaseModel):
    results: list[SearchResult]


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    doc_number: str
    issuer: str
    date: str
    doc_type: str
    n_clauses: int
    n_records: int


class ClauseAnchor(BaseModel):
    clause_id: str
    path: str
    start: int
    end: int


class RecordOut(BaseModel):
    task: str
    lead: list[str]
    assisting: list[str]
    clause_id: str


class DocumentDetail(DocumentSummary):
    text: str
    clauses: list[ClauseAnchor]
    records: list[RecordOut]
