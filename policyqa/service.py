"""The library API the CLI and the HTTP routes call: ingest a corpus, ask, search."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import ChunkSettings
from ingest.pipeline import IngestReport, discover, file_hash, prepare_documents
from policyqa.settings import Settings
from retrieval.embedders import Embedder, make_embedder
from retrieval.index import Index, build_index, expected_manifest_fields, load_index, read_manifest, recover
from retrieval.search import Retriever, SearchHit
from server.answer import Answer, compose_answer


def index_dir(settings: Settings) -> Path:
    return settings.data_dir / "index"


def chunk_settings(settings: Settings) -> ChunkSettings:
    return ChunkSettings(max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)


def get_embedder(settings: Settings) -> Embedder:
    return make_embedder(settings.embedder, settings.st_query_prefix, settings.st_passage_prefix)


def index_is_current(settings: Settings, paths: list[Path], embedder: Embedder) -> bool:
    """True when the index was built from exactly these files with this embedder and these settings."""
    recover(index_dir(settings))
    manifest = read_manifest(index_dir(settings))
    if manifest is None:
        return False
    expected = expected_manifest_fields(embedder.name, embedder.dim, vars(chunk_settings(settings)))
    if any(manifest.get(k) != v for k, v in expected.items()):
        return False
    from ingest.pipeline import doc_id_for

    files = [f for f in discover(paths) if f.suffix.lower() in (".txt", ".md")]
    return manifest.get("documents") == {doc_id_for(f): file_hash(f) for f in files}


@dataclass
class IngestOutcome:
    report: IngestReport
    manifest: dict | None
    skipped: bool  # the index was already current


def ingest(settings: Settings, paths: list[Path], embedder: Embedder, rebuild: bool = False,
           progress=None, embed_progress=None) -> IngestOutcome:
    if not rebuild and index_is_current(settings, paths, embedder):
        return IngestOutcome(IngestReport(), read_manifest(index_dir(settings)), True)
    report = prepare_documents(paths, chunk_settings(settings), settings.max_file_mb, progress)
    if not report.documents:
        return IngestOutcome(report, None, False)
    manifest = build_index(index_dir(settings), report.documents, report.chunks, embedder,
                           vars(chunk_settings(settings)), settings.data_dir / "embed_cache", embed_progress)
    return IngestOutcome(report, manifest, False)


@dataclass
class AskResult:
    answer: Answer
    hits: list[SearchHit]
    latency_ms: float

    def to_dict(self) -> dict:
        return {"answer": self.answer.answer, "refused": self.answer.refused,
                "citations": [c.to_dict() for c in self.answer.citations],
                "latency_ms": round(self.latency_ms, 2)}


class QAService:
    """Loaded once per process: the embedder, the index and the retriever."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, index: Index | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings)
        self.index = index or load_index(index_dir(settings), self.embedder.name, self.embedder.dim)
        self.retriever = Retriever(self.index, self.embedder)

    def search(self, query: str, top_k: int | None = None, mode: str = "hybrid") -> list[SearchHit]:
        return self.retriever.search(query, top_k or self.settings.top_k, mode)

    def ask(self, question: str, top_k: int | None = None, mode: str = "hybrid") -> AskResult:
        started = time.perf_counter()
        hits = self.search(question, top_k, mode)
        answer = compose_answer(question, hits, self.index.documents, self.settings.refusal_threshold)
        return AskResult(answer, hits, (time.perf_counter() - started) * 1000)
