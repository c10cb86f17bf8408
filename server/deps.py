"""FastAPI dependencies: the settings, the QA service, the live index, the feedback log, write access."""

from __future__ import annotations

from fastapi import HTTPException, Request

from policyqa.service import QAService
from policyqa.settings import Settings
from server.feedback import FeedbackLog
from server.live import LiveIndex
from server.security import is_loopback, key_matches, presented_key


def get_service(request: Request) -> QAService:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the index is not loaded yet; run `policyqa ingest` and restart the server")
    return service


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_live(request: Request) -> LiveIndex:
    return request.app.state.live


def get_feedback_log(request: Request) -> FeedbackLog:
    return request.app.state.feedback


def require_writer(request: Request) -> None:
    """Write endpoints: the API key when one is set; otherwise loopback clients only."""
    expected = request.app.state.settings.api_key
    if expected:
        if not key_matches(presented_key(request.headers), expected):
            raise HTTPException(401, "this endpoint needs the API key: `Authorization: Bearer <key>` or "
                                "`X-API-Key: <key>`", headers={"WWW-Authenticate": "Bearer"})
        return
    host = request.client.host if request.client else None
    if not is_loopback(host):
        raise HTTPException(403, "write endpoints are open to this machine only while no API key is set; "
                            "set POLICYQA_API_KEY on the server and send it as `Authorization: Bearer <key>`")
