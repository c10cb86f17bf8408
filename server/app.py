"""The FastAPI application: API routes, the chat widget at /, OpenAPI docs at /docs."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from policyqa import __version__
from policyqa.service import QAService, warm_up
from policyqa.settings import Settings, get_settings
from retrieval.embedders import enable_query_cache
from server.feedback import FeedbackLog, feedback_path
from server.live import LiveIndex
from server.routes import documents, feedback, jobs, openai_api, qa
from server.security import LimitsMiddleware, error_body

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


def create_app(service: QAService | None = None, settings: Settings | None = None) -> FastAPI:
    """The app serving `service` (None: not loaded yet).

    Settings default to the service's, then the process's (get_settings())."""
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
        yield
        # Let a running index change finish (a cut-off build leaves the live index intact anyway).
        await run_in_threadpool(app.state.live.jobs.close, 60)

    app = FastAPI(title="PolicyQA", version=__version__, lifespan=lifespan,
                  description="Cited answers to questions about Chinese education-policy documents.")
    app.state.service = service
    app.state.settings = settings
    app.state.live = LiveIndex(app.state, settings)
    app.state.feedback = FeedbackLog(feedback_path(settings))
    for module in (qa, documents, jobs, feedback, openai_api):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # Outermost last: CORS wraps the limits, so a 413 or 429 still carries the CORS headers a browser needs.
    app.add_middleware(LimitsMiddleware, per_minute=settings.rate_limit_per_minute,
                       body_limit=body_limit(settings))
    origins = cors_origins(settings)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "Accept"],
                           expose_headers=["Retry-After", "Location"], max_age=600)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
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
        return {"status": "ok", "documents": len(svc.index.documents), "chunks": len(svc.index.chunks),
                "embedder": m["embedder"]["name"], "corpus_hash": m["corpus_hash"]}

    return app
