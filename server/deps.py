"""FastAPI dependencies: the settings, the QA service, the live index, the feedback log, write access; the
question length limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from policyqa.service import QAService
from policyqa.settings import Settings
from server.feedback import FeedbackLog
from server.live import LiveIndex
from server.security import key_matches, local_write_refusal

# Declared as dependencies of require_writer so that OpenAPI shows both schemes on every write route.
KEY_NOTE = "POLICYQA_API_KEY; needed when the server has one (without one, writes are for this machine only)"
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description=f"`Authorization: Bearer <key>`: {KEY_NOTE}")
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey", description=KEY_NOTE)


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


def require_writer(request: Request,
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
                   x_api_key: Annotated[str | None, Security(API_KEY)] = None) -> None:
    """Write endpoints: the API key when one is set; otherwise requests from this machine, not from a web
    page of another site (server.security.local_write_refusal)."""
    expected = request.app.state.settings.api_key
    if expected:
        presented = bearer.credentials if bearer else (x_api_key or "").strip()
        if not key_matches(presented, expected):
            raise HTTPException(401, "this endpoint needs the API key: `Authorization: Bearer <key>` or "
                                "`X-API-Key: <key>`", headers={"WWW-Authenticate": "Bearer"})
        return
    refusal = local_write_refusal(request.client.host if request.client else None, request.headers)
    if refusal:
        raise HTTPException(403, refusal)


def checked_question(text: str, settings: Settings, loc: tuple[str | int, ...]) -> str:
    """`text` when it is within POLICYQA_MAX_QUESTION_CHARS, else a validation error at `loc` (422; under
    /v1: 400). The limit is a setting, so it is checked here rather than as the schema's fixed maxLength
    (the published schema takes its maxLength from the setting: server.app.finish_openapi)."""
    limit = settings.max_question_chars
    if len(text) > limit:
        raise RequestValidationError([{
            "type": "string_too_long", "loc": loc, "ctx": {"max_length": limit},
            "msg": f"the question is {len(text)} characters, over the limit of {limit} "
                   "(POLICYQA_MAX_QUESTION_CHARS); shorten it"}])
    return text
