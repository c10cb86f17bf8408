"""The FastAPI application: API routes, the chat widget at /, OpenAPI docs at /docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from policyqa import __version__
from policyqa.service import QAService
from server.routes import documents, qa

STATIC = Path(__file__).with_name("static")


def create_app(service: QAService | None = None) -> FastAPI:
    app = FastAPI(title="PolicyQA", version=__version__,
                  description="Cited answers to questions about Chinese education-policy documents.")
    app.state.service = service
    app.include_router(qa.router)
    app.include_router(documents.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

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
