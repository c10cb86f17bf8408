"""The FastAPI application: API routes, the chat widget at /, OpenAPI docs at /docs."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from policyqa import __version__
from policyqa.service import QAService, warm_up
from policyqa.settings import Settings, get_settings
from retrieval.embedders import enable_query_cache
from server.convlog import ConversationLog
from server.curated import CuratedStore
from server.deps import get_service, require_reader, require_writer
from server.feedback import FeedbackLog, feedback_path
from server.live import LiveIndex
from server.replicas import IndexWatcher, ReplicaMiddleware, shares_index
from server.routes import admin, convlog, curated, documents, feedback, jobs, laws, openai_api, qa
from server.schemas import ErrorDetail, OpenAIError
from server.security import (
    QUESTION_PATHS,
    RATE_LIMITED_PREFIXES,
    LimitsMiddleware,
    SecurityHeadersMiddleware,
    error_body,
)

STATIC = Path(__file__).with_name("static")
UPLOAD_PATH = "/api/documents"
# Worker threads for the sync routes (AnyIO's default is 40). A question new to the server waits for the
# embedding model, which an upload's ingest can hold for seconds; with 40 threads such waits took every
# thread and answers from cached query vectors, searches and job polls queued behind them.
WORKER_THREADS = 200


def cors_origins(settings: Settings) -> list[str]:
    return [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]


def body_limit(settings: Settings):
    """Bytes a request body may have: POLICYQA_MAX_REQUEST_KB, or for an upload the file limit plus that."""
    json_limit = settings.max_request_kb * 1024
    upload_limit = int(settings.max_file_mb * 1e6) + json_limit  # room for the multipart framing and metadata

    def limit(scope) -> tuple[int, str]:
        if scope.get("method") == "POST" and scope.get("path") == UPLOAD_PATH:
            return upload_limit, "POLICYQA_MAX_FILE_MB"
        return json_limit, "POLICYQA_MAX_REQUEST_KB"

    return limit


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# FastAPI 0.16x keeps each included router as one node of app.routes and iter_route_contexts walks through
# them; older versions list the routes themselves.
iter_routes = getattr(fastapi.routing, "iter_route_contexts", iter)


def allowed_methods(request: Request) -> str:
    """Every method the request's path supports, asked of the router itself.

    Starlette answers a 405 from the first route whose path matches, naming that route's methods only, but
    FastAPI makes one route per method: GET and DELETE on /api/documents/{doc_id} are two routes, and the
    405 for a PUT there said `Allow: GET`."""

    scope = request.scope  # as routing found it: a mount has moved root_path in it, so start afresh
    scope = {"type": "http", "path": scope["path"], "root_path": scope.get("app_root_path", "")}

    def serves(route, method: str) -> bool:
        if route.matches({**scope, "method": method})[0] is not Match.FULL:
            return False
        return not isinstance(route, Mount) or method in ("GET", "HEAD")  # /static matches any method

    return ", ".join(m for m in HTTP_METHODS if any(serves(r, m) for r in request.app.router.routes))


def depends_on(dependant, call) -> bool:
    return any(d.call is call or depends_on(d, call) for d in dependant.dependencies)


def has_query_params(dependant) -> bool:
    """Whether the route or one of its dependencies (a filter object built from the query) reads the query."""
    return bool(dependant.query_params) or any(has_query_params(d) for d in dependant.dependencies)


# Errors only the route knows about; everything else in route_errors is derived from what the route is.
ROUTE_ERRORS = {
    ("POST", "/api/documents"): {409: "A document of that name is already indexed from the corpus folder."},
    ("DELETE", "/api/documents/{doc_id}"): {409: "It is the only document; an index cannot be empty."},
    ("POST", "/api/jobs/{job_id}/cancel"): {409: "The job has finished, or is not an upload."},
}


def route_errors(route: APIRoute, method: str) -> dict[int, str]:
    """The error statuses an operation really answers with, from its path, body and dependencies."""
    openai = route.path.startswith("/v1/")
    body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    multipart = "multipart/form-data" in str((route.openapi_extra or {}).get("requestBody", ""))
    errors: dict[int, str] = {}
    if body:
        errors[400] = ("Invalid request (OpenAI's status for a body that fails validation), or an unreadable "
                       "body" if openai else "A body that cannot be read (e.g. a bad Content-Length).")
        errors[408] = "The body did not arrive within POLICYQA_BODY_TIMEOUT_S."
        errors[413] = "The body is over its limit (POLICYQA_MAX_REQUEST_KB; uploads POLICYQA_MAX_FILE_MB)."
    if multipart:
        errors[415] = "The body is not multipart/form-data."
    if (body or route.dependant.path_params or has_query_params(route.dependant)) and not openai:
        errors[422] = "The request failed validation; `detail` says what failed."
    if route.dependant.path_params:
        errors[404] = "Not found."
    if depends_on(route.dependant, require_writer):
        errors[401] = ("The server has keys (POLICYQA_API_KEY, `policyqa keys`) and the request carries none it "
                       "knows.")
        errors[403] = ("No key is set and the request is not from this machine: a non-loopback client or "
                       "Host, or a web page of another site (Origin, Sec-Fetch-Site). Or the key may not make "
                       "this change: a read-only key, a document of a collection the key does not write, or "
                       "an index-wide change (reindex, laws) that needs the admin key.")
    if depends_on(route.dependant, require_reader):
        errors[401] = "POLICYQA_REQUIRE_READ_KEY is set and the request carries no key the server knows."
        if body:  # filters.collections
            errors[403] = "A key scoped to collections asked only for collections it does not read."
    if route.path.startswith(RATE_LIMITED_PREFIXES):
        errors[429] = "Over this client's rate limit (POLICYQA_RATE_LIMIT_PER_MINUTE); see Retry-After."
        if route.path in QUESTION_PATHS:
            errors[429] += " Or more questions at once than POLICYQA_MAX_CONCURRENT_PER_CLIENT."
    if depends_on(route.dependant, get_service):
        errors[503] = "The index is not loaded yet."
    return errors | ROUTE_ERRORS.get((method, route.path), {})


def finish_openapi(schema: dict, routes, settings: Settings) -> dict:
    """FastAPI's schema plus what it cannot know: the real error responses with their bodies ({"detail"}, or
    OpenAI's {"error"} under /v1), and the question length limit of the settings."""
    _, defs = models_json_schema([(ErrorDetail, "validation"), (OpenAIError, "validation")],
                                 ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(defs["$defs"])
    for route in iter_routes(routes):
        if not isinstance(getattr(route, "original_route", route), APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            model = "OpenAIError" if route.path.startswith("/v1/") else "ErrorDetail"
            if model == "OpenAIError":
                responses.pop("422", None)  # FastAPI adds it; /v1 answers validation errors with 400
            for status, text in route_errors(route, method).items():
                if status in route.responses:  # the route documents it itself
                    continue
                responses[str(status)] = {"description": text, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model}"}}}}
                if status == 429:
                    responses["429"]["headers"] = {"Retry-After": {
                        "description": "Seconds to wait.", "schema": {"type": "integer"}}}
    for name, field in ("AskRequest", "question"), ("SearchRequest", "query"), ("FeedbackRequest", "question"):
        components[name]["properties"][field]["maxLength"] = settings.max_question_chars
    return schema


def create_app(service: QAService | None = None, settings: Settings | None = None,
               laws_at_start: str | None = None) -> FastAPI:
    """The app serving `service` (None: not loaded yet).

    Settings default to the service's, then the process's (get_settings()). `laws_at_start`: a scope of
    national laws to import as a job once the app has started (`serve --ingest` decides when:
    policyqa/law_library.py)."""
    settings = settings or (service.settings if service is not None else get_settings())
    if service is not None:
        # Many users ask the same questions: repeated query vectors come from a small LRU (results are
        # unchanged). Later services reuse this embedder (server/live.py), so the cache survives swaps.
        enable_query_cache(service.embedder, settings.query_cache_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, WORKER_THREADS)
        # jieba's tagger, OpenCC, USE: loaded now, not in the first question
        await run_in_threadpool(warm_up, app.state.service)
        # jobs an earlier process accepted and never finished run again (server/live.py)
        await run_in_threadpool(app.state.live.resume)
        if laws_at_start:
            await run_in_threadpool(app.state.live.import_laws_at_start, laws_at_start)
        yield
        # Let a running index change finish (a cut-off build leaves the live index intact anyway).
        await run_in_threadpool(app.state.live.jobs.close, 60)

    app = FastAPI(title="PolicyQA", version=__version__, lifespan=lifespan,
                  description="Cited answers to questions about Chinese education-policy documents.")
    app.state.service = service
    app.state.settings = settings
    app.state.live = LiveIndex(app.state, settings)
    app.state.feedback = FeedbackLog(feedback_path(settings))
    app.state.convlog = ConversationLog(settings.data_dir / "log.db", settings.log_retention_days)
    app.state.curated = CuratedStore(settings.data_dir / "curated.db", settings.curated_threshold)
    for module in (qa, documents, jobs, laws, feedback, admin, openai_api):
        app.include_router(module.router)
    app.include_router(curated.router)  # approved answers
    app.include_router(convlog.router)  # the conversation log
    app.include_router(admin.page)  # the console at /admin
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    build_openapi, finished = app.openapi, [None]

    def openapi() -> dict:
        schema = build_openapi()  # FastAPI's, cached until the routes change
        if finished[0] is not schema:
            finished[0] = finish_openapi(schema, app.routes, settings)
        return schema

    app.openapi = openapi

    # Outermost last: CORS wraps the limits, so a 413 or 429 still carries the CORS headers a browser needs.
    app.add_middleware(LimitsMiddleware, per_minute=settings.rate_limit_per_minute,
                       body_limit=body_limit(settings), max_concurrent=settings.max_concurrent_per_client,
                       body_timeout=settings.body_timeout_s)
    origins = cors_origins(settings)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "Accept"],
                           expose_headers=["Retry-After", "Location"], max_age=600)
    docs = frozenset(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p)
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs)
    if shares_index(settings):
        # Replicas on one Milvus: a new index another process swapped in is loaded before the next request.
        app.state.watcher = IndexWatcher(app.state, settings)
        app.add_middleware(ReplicaMiddleware, watcher=app.state.watcher)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:
            allow = {"Allow": allowed_methods(request)}
            exc = StarletteHTTPException(405, exc.detail, (exc.headers or {}) | allow)
        if request.url.path.startswith("/v1/"):
            kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
            return JSONResponse(error_body(request.url.path, exc.status_code, str(exc.detail), kind),
                                exc.status_code, headers=getattr(exc, "headers", None))
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        if request.url.path.startswith("/v1/"):
            errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return JSONResponse(error_body(request.url.path, 400, errors, "invalid_request_error"), 400)
        return await request_validation_exception_handler(request, exc)

    @app.get("/", include_in_schema=False)
    def chat_page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/health", tags=["meta"])
    def health() -> dict:
        svc = app.state.service
        if svc is None:
            return {"status": "no index"}
        m = svc.index.manifest
        body = {"status": "ok", "documents": len(svc.index.documents), "chunks": len(svc.index.chunks),
                "embedder": m["embedder"]["name"], "corpus_hash": m["corpus_hash"]}
        importing = app.state.live.laws_import_under_way()
        if importing is not None:  # the widget says that law questions wait for it (a first import: minutes)
            body["laws_import"] = {"job_id": importing.id, "status": importing.status, "message": importing.message}
        return body

    return app
