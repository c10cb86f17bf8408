"""FastAPI dependencies: the settings and the QA service, created once per app."""

from __future__ import annotations

from fastapi import HTTPException, Request

from policyqa.service import QAService


def get_service(request: Request) -> QAService:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the index is not loaded yet; run `policyqa ingest` and restart the server")
    return service
