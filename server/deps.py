"""FastAPI dependencies: the settings, the QA service, the live index, the feedback log, read and write access
(the admin key, keys scoped to collections, this machine); the question length limit."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from policyqa.keys import KeyError_, KeyStore, keys_path
from policyqa.service import QAService
from policyqa.settings import Settings
from server.access import ADMIN, ANYONE, THIS_MACHINE, Access, names, of_key
from server.feedback import FeedbackLog
from server.live import LiveIndex
from server.security import key_matches, local_write_refusal

log = logging.getLogger("policyqa.server")

# Declared as dependencies of the access checks so that OpenAPI shows both schemes on the routes they guard.
KEY_NOTE = ("POLICYQA_API_KEY (every collection) or a key of `policyqa keys add` (its collections); writes need "
            "one when the server has any (without, they are for this machine only), reads with "
            "POLICYQA_REQUIRE_READ_KEY")
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


def key_store(request: Request) -> KeyStore:
    state = request.app.state
    store = getattr(state, "keys", None)
    if store is None:  # made on first use; two made at once read the same file
        store = state.keys = KeyStore(keys_path(state.settings))
    return store


def key_access(request: Request, presented: str) -> Access | None:
    """What the presented key gives: everything (POLICYQA_API_KEY), its collections (a scoped key), or None
    (no key, or one the server does not know)."""
    if not presented:
        return None
    if key_matches(presented, request.app.state.settings.api_key):
        return ADMIN
    try:
        found = key_store(request).find(presented)
    except KeyError_ as exc:  # fail closed, without showing a client the server's paths
        log.error("%s", exc)
        raise HTTPException(503, "the server's keys file cannot be read; its administrator must fix it (the "
                            "server log says what is wrong)") from exc
    return of_key(found) if found else None


def keys_configured(request: Request) -> bool:
    return bool(request.app.state.settings.api_key) or bool(key_store(request).keys())


def presented_key(bearer: HTTPAuthorizationCredentials | None, x_api_key: str | None) -> str:
    return bearer.credentials if bearer else (x_api_key or "").strip()


NEEDS_KEY = "send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`"


def require_reader(request: Request,
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
                   x_api_key: Annotated[str | None, Security(API_KEY)] = None) -> Access:
    """Questions, searches and documents: what the key presented may read. Without POLICYQA_REQUIRE_READ_KEY a
    request without a known key reads everything (OpenAI clients send a placeholder key: it is ignored)."""
    presented = presented_key(bearer, x_api_key)
    access = key_access(request, presented)
    if access is not None:
        return access
    if request.app.state.settings.require_read_key:
        problem = "this key is not known to the server (revoked or mistyped)" if presented else \
            "this server answers only with a key (POLICYQA_REQUIRE_READ_KEY)"
        raise HTTPException(401, f"{problem}; {NEEDS_KEY}", headers={"WWW-Authenticate": "Bearer"})
    return ANYONE


def require_writer(request: Request,
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
                   x_api_key: Annotated[str | None, Security(API_KEY)] = None) -> Access:
    """Write endpoints: a key that writes (the admin key, or a scoped key, which routes hold to its
    collections) when the server has any key; otherwise requests from this machine, not from a web page of
    another site (server.security.local_write_refusal)."""
    presented = presented_key(bearer, x_api_key)
    access = key_access(request, presented)
    if access is not None:
        if access.write == frozenset():
            raise HTTPException(403, f"{access.who} only reads ({names(access.read or ())}); changing documents "
                                "needs a key that writes")
        return access
    if keys_configured(request):
        problem = "this key is not known to the server (revoked or mistyped)" if presented else \
            "this endpoint needs an API key"
        raise HTTPException(401, f"{problem}; {NEEDS_KEY}", headers={"WWW-Authenticate": "Bearer"})
    refusal = local_write_refusal(request.client.host if request.client else None, request.headers)
    if refusal:
        raise HTTPException(403, refusal)
    return THIS_MACHINE


def require_admin(access: Annotated[Access, Depends(require_writer)]) -> Access:
    """Changes to the whole index (reindex, the quarantine listing): the admin key, or this machine."""
    if not access.admin:
        raise HTTPException(403, f"{access.who} writes {names(access.write or ())} only; this needs the admin key "
                            "(POLICYQA_API_KEY)")
    return access


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
