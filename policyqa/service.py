"""The library API the CLI and the HTTP routes call: ingest a corpus, ask, search."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from answer.citations import Answer
from answer.compose import Composer
from answer.generate import AnswerGenerator, ExtractiveGenerator, LLMGenerator
from answer.mentions import named_document
from answer.places import document_places, with_document_places
from answer.question import Question, analyse
from answer.refusal import RefusalModel, default_model
from answer.sentences import SentenceEncoder
from ingest.chunking import ChunkSettings
from ingest.pipeline import IngestReport, discover, doc_id_for, file_hash, prepare_documents
from ingest.quarantine import Quarantine
from ingest.readers import SUPPORTED_SUFFIXES
from ingest.sandbox import ParseLimits
from policyqa.models import Chunk, Document
from policyqa.settings import Settings
from retrieval.embedders import (
    ACTIVITY,
    Embedder,
    EmbedderError,
    USEEmbedder,
    make_embedder,
    model_parts,
    use_model_threads,
)
from retrieval.filters import SearchFilters
from retrieval.index import (
    Index,
    IndexError_,
    StoreConfig,
    build_index,
    expected_manifest_fields,
    load_index,
    read_contents,
    read_manifest,
    recover,
)
from retrieval.search import Retriever, SearchHit


def index_dir(settings: Settings) -> Path:
    return settings.data_dir / "index"


def chunk_settings(settings: Settings) -> ChunkSettings:
    return ChunkSettings(max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars,
                         whole_clauses=settings.chunk_whole_clauses, context=settings.chunk_context)


def store_config(settings: Settings) -> StoreConfig:
    uri = settings.milvus_uri or str((settings.data_dir / "milvus.db").resolve())
    return StoreConfig(settings.vector_store, settings.ann_threshold, uri, settings.milvus_token,
                       settings.milvus_collection, settings.hnsw_ef_search)


def get_embedder(settings: Settings) -> Embedder:
    use_model_threads(settings.embed_threads)
    return make_embedder(settings.embedder, settings.st_query_prefix, settings.st_passage_prefix)


def compatible_manifest(settings: Settings, embedder: Embedder) -> dict | None:
    """The live index's manifest if it was built with this embedder, chunking and pipeline; else None."""
    recover(index_dir(settings))
    manifest = read_manifest(index_dir(settings))
    if manifest is None:
        return None
    expected = expected_manifest_fields(embedder.name, embedder.dim, vars(chunk_settings(settings)))
    expected["vector_store"] = settings.vector_store
    return manifest if all(manifest.get(k, "faiss" if k == "vector_store" else None) == v
                           for k, v in expected.items()) else None


def index_is_current(settings: Settings, paths: list[Path], embedder: Embedder, prune: bool = False) -> bool:
    """True when every given file is indexed as it is now (and, with prune, nothing else is)."""
    manifest = compatible_manifest(settings, embedder)
    if manifest is None:
        return False
    files = {doc_id_for(f): file_hash(f) for f in discover(paths) if f.suffix.lower() in SUPPORTED_SUFFIXES}
    indexed = manifest.get("documents", {})
    if prune and set(indexed) != set(files):
        return False
    return all(indexed.get(doc_id) == h for doc_id, h in files.items())


@dataclass
class IngestOutcome:
    report: IngestReport
    manifest: dict | None
    skipped: bool  # the index was already current
    deleted: list[str] = field(default_factory=list)


def ingest(settings: Settings, paths: list[Path], embedder: Embedder, rebuild: bool = False,
           progress=None, embed_progress=None, prune: bool = False) -> IngestOutcome:
    """Add or update the documents under `paths`; other indexed documents stay unless `prune` drops the
    ones whose source file is gone. Unchanged files are neither parsed nor embedded again."""
    with ACTIVITY():
        return _ingest(settings, paths, embedder, rebuild, progress, embed_progress, prune)


def _ingest(settings: Settings, paths: list[Path], embedder: Embedder, rebuild: bool, progress,
            embed_progress, prune: bool) -> IngestOutcome:
    if not rebuild and index_is_current(settings, paths, embedder, prune):
        return IngestOutcome(IngestReport(), read_manifest(index_dir(settings)), True)
    known: dict[str, tuple[Document, list[Chunk]]] = {}
    if not rebuild and compatible_manifest(settings, embedder):
        documents, chunks = read_contents(index_dir(settings))
        by_doc: dict[str, list[Chunk]] = {doc.doc_id: [] for doc in documents}
        for c in chunks:  # one pass: a scan per document was quadratic (minutes at 100k chunks)
            by_doc.setdefault(c.doc_id, []).append(c)
        for doc in documents:
            known[doc.doc_id] = (doc, by_doc[doc.doc_id])
    report = prepare_documents(paths, chunk_settings(settings), settings.max_file_mb, progress, known,
                               ParseLimits.from_settings(settings), Quarantine(settings.data_dir), rebuild)
    given = {d.doc_id for d in report.documents}
    deleted = [doc_id for doc_id, (doc, _) in known.items()
               if doc_id not in given and prune and not Path(doc.source_path).exists()]
    kept = [known[doc_id] for doc_id in known if doc_id not in given and doc_id not in deleted]
    documents = report.documents + [doc for doc, _ in kept]
    chunks = report.chunks + [c for _, cs in kept for c in cs]
    if not documents:
        return IngestOutcome(report, None, False, deleted)
    # Incremental unless rebuilding: chunks already indexed keep their vectors and tokens, and the dense
    # index is updated in place (retrieval/index.py).
    manifest = build_index(index_dir(settings), documents, chunks, embedder, vars(chunk_settings(settings)),
                           settings.data_dir / "embed_cache", embed_progress,
                           store=store_config(settings), incremental=not rebuild)
    return IngestOutcome(report, manifest, False, deleted)


def delete_documents(settings: Settings, doc_ids: list[str], embedder: Embedder) -> dict:
    """Remove documents from the index (the embedding cache keeps their vectors for a later re-add). The
    dense index drops their vectors in place; nothing is embedded or tokenised again."""
    if compatible_manifest(settings, embedder) is None:
        raise IndexError_(f"no index at {index_dir(settings)} built with {embedder.name}; run `policyqa ingest`.")
    documents, chunks = read_contents(index_dir(settings))
    unknown = sorted(set(doc_ids) - {d.doc_id for d in documents})
    if unknown:
        raise IndexError_(f"not in the index: {', '.join(unknown)}; `policyqa documents` lists the ids.")
    gone = set(doc_ids)
    documents = [d for d in documents if d.doc_id not in gone]
    chunks = [c for c in chunks if c.doc_id not in gone]
    return build_index(index_dir(settings), documents, chunks, embedder, vars(chunk_settings(settings)),
                       settings.data_dir / "embed_cache", store=store_config(settings))


@dataclass
class AskResult:
    answer: Answer
    hits: list[SearchHit]
    latency_ms: float
    llm_configured: bool = False  # only then does the result say which generator wrote the answer

    def to_dict(self) -> dict:
        body = {"answer": self.answer.answer, "refused": self.answer.refused,
                "citations": [c.to_dict() for c in self.answer.citations],
                "latency_ms": round(self.latency_ms, 2), "answerability": round(self.answer.answerability, 4)}
        if self.llm_configured:
            body["generator"] = self.answer.generator  # "llm", or "extractive" when it fell back
        return body


def answer_generator(settings: Settings) -> AnswerGenerator:
    """An LLM writes the answers when POLICYQA_LLM_BASE_URL is set; the extractive composer otherwise."""
    if not settings.llm_base_url:
        return ExtractiveGenerator()
    return LLMGenerator(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout_s)


def warm_up(service: QAService | None = None) -> None:
    """Load what the first question would otherwise wait for: jieba's part-of-speech tagger (place names),
    OpenCC's dictionaries (question analysis), the sentence encoder's weights (USE loads on first use) and
    the pinyin of the indexed documents' places (read for the first English question)."""
    analyse.__wrapped__("北京的學校")
    if service is not None:
        document_places(service.index.documents)
        if service.composer.encoder is not None:
            service.composer.encoder.encode(["学校"])


def sentence_encoder(embedder: Embedder) -> SentenceEncoder | None:
    """The encoder sentence selection uses: the index's USE model when it has one, else a USE model of its
    own (fast enough for a few dozen sentences a question); None when USE cannot be loaded."""
    for name, model, _ in model_parts(embedder):
        if name.startswith("use:"):
            return SentenceEncoder(model)
    try:
        return SentenceEncoder(USEEmbedder())
    except EmbedderError:
        return None


def refusal_model(settings: Settings) -> RefusalModel:
    """The fitted refusal model, with the threshold the settings give when they give one."""
    model = default_model()
    if settings.refusal_threshold is None:
        return model
    return replace(model, threshold=settings.refusal_threshold)


class QAService:
    """Loaded once per process: the embedder, the index, the retriever and the answer step."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, index: Index | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings)
        self.index = index or load_index(index_dir(settings), self.embedder.name, self.embedder.dim,
                                         settings.milvus_token, ef_search=settings.hnsw_ef_search)
        self.retriever = Retriever(self.index, self.embedder, dense_weight=settings.dense_weight,
                                   rrf_k=settings.rrf_k, weights=settings.fusion_weights())
        self.generator = answer_generator(settings)
        self.composer = Composer(encoder=sentence_encoder(self.embedder), refusal=refusal_model(settings))

    def analyse(self, text: str) -> Question:
        """The question analysed, with the places of the indexed documents its English words name."""
        return with_document_places(analyse(text), self.index.documents)

    def search(self, query: str | Question, top_k: int | None = None, mode: str = "hybrid",
               filters: SearchFilters | None = None) -> list[SearchHit]:
        q = query if isinstance(query, Question) else self.analyse(query)
        with ACTIVITY():
            return self._search(q, top_k, mode, filters)

    def _search(self, q: Question, top_k: int | None, mode: str, filters: SearchFilters | None) -> list[SearchHit]:
        if filters is None or not filters.active():
            # a question that names one document (by 文号, or issuer and year) searches it only
            named = named_document(q, self.index.documents)
            filters = SearchFilters(doc_ids=[named]) if named else filters
        return self.retriever.search(q.normalised, top_k or self.settings.top_k, mode, filters)

    def ask(self, question: str, top_k: int | None = None, mode: str = "hybrid",
            filters: SearchFilters | None = None) -> AskResult:
        started = time.perf_counter()
        q = self.analyse(question)  # once: search, composition and refusal all read it
        with ACTIVITY():  # one piece of work in flight, from the search to the composed answer
            hits = self._search(q, top_k, mode, filters)
            answer = self.generator.generate(q, hits, self.index.documents, self.composer)
        return AskResult(answer, hits, (time.perf_counter() - started) * 1000,
                         llm_configured=isinstance(self.generator, LLMGenerator))
