"""The library API the CLI and the HTTP routes call: ingest a corpus, import national laws, ask, search."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from answer.citations import Answer
from answer.compose import Composer
from answer.followup import Turn, last_answer, own_value_kinds, points_back, quoted_chunk, resolve
from answer.generate import AnswerGenerator, ExtractiveGenerator, LLMGenerator
from answer.law_search import article_hits, put_first, search_filters
from answer.ordinals import by_ordinal
from answer.places import document_places, with_document_places
from answer.question import Question, analyse
from answer.refusal import RefusalModel, default_model
from answer.sentence_store import has_store, sentence_encoder, update_store
from ingest.archives import is_archive
from ingest.chunking import ChunkSettings
from ingest.laws.changes import ChangeReport, compare
from ingest.laws.documents import (
    content_hash,
    current_versions,
    from_file,
    law_chunks,
    law_doc_id,
    law_document,
)
from ingest.laws.scope import Scope, load_scope, select
from ingest.laws.source import LawSource
from ingest.pipeline import IngestReport, discover, expected_hashes, prepare_documents
from ingest.quarantine import Quarantine
from ingest.sandbox import PageProgress, ParseLimits
from policyqa.law_library import write_record
from policyqa.models import Chunk, Document
from policyqa.settings import Settings
from retrieval.embedders import (
    ACTIVITY,
    ONE_QUESTION,
    Embedder,
    make_embedder,
    use_model_threads,
)
from retrieval.filters import SearchFilters, document_priors, law_name
from retrieval.index import (
    Index,
    IndexError_,
    StoreConfig,
    build_index,
    embed_ahead,
    expected_manifest_fields,
    load_index,
    read_contents,
    read_manifest,
    recover,
)
from retrieval.index_lock import index_write_lock
from retrieval.search import Retriever, SearchHit

log = logging.getLogger("policyqa.service")
Waiting = Callable[[str], None]  # hears whom an index change waits for (another process changing the index)


def index_dir(settings: Settings) -> Path:
    return settings.data_dir / "index"


def chunk_settings(settings: Settings) -> ChunkSettings:
    return ChunkSettings(max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars,
                         whole_clauses=settings.chunk_whole_clauses, context=settings.chunk_context,
                         sentence_vectors=settings.chunk_sentence_vectors)


def store_config(settings: Settings) -> StoreConfig:
    uri = settings.milvus_uri or str((settings.data_dir / "milvus.db").resolve())
    return StoreConfig(settings.vector_store, settings.ann_threshold, uri, settings.milvus_token,
                       settings.milvus_collection, settings.hnsw_ef_search)


def get_embedder(settings: Settings) -> Embedder:
    use_model_threads(settings.embed_threads)
    return make_embedder(settings.embedder, settings.st_query_prefix, settings.st_passage_prefix, settings)


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
    found = discover(paths)
    files = expected_hashes(found)  # an archive's members too
    indexed = manifest.get("documents", {})
    archives = {str(f) for f in found if is_archive(f)}
    if archives:  # a member an archive no longer holds is still indexed: ingest drops it
        documents, _ = read_contents(index_dir(settings))
        if any(d.source_path in archives and d.doc_id not in files for d in documents):
            return False
    others = set(indexed) - set(files)  # indexed, with no file among the paths
    if prune and others:
        documents, _ = read_contents(index_dir(settings))
        if any(from_file(d) for d in documents if d.doc_id in others):  # only imported laws may stay
            return False
    return all(indexed.get(doc_id) == h for doc_id, h in files.items())


@dataclass
class IngestOutcome:
    report: IngestReport
    manifest: dict | None
    skipped: bool  # the index was already current
    deleted: list[str] = field(default_factory=list)
    answer_sentences: int = 0  # sentences embedded for the answer step (answer/sentence_store.py)


def ingest(settings: Settings, paths: list[Path], embedder: Embedder, rebuild: bool = False,
           progress=None, embed_progress=None, prune: bool = False,
           page_progress: PageProgress | None = None, waiting: Waiting = log.warning) -> IngestOutcome:
    """Add or update the documents under `paths`; other indexed documents stay unless `prune` drops the
    ones whose source file is gone. Unchanged files are neither parsed nor embedded again. `page_progress`
    hears of each page OCR'd (file, pages done, pages to OCR): a scan takes seconds a page. `waiting` hears
    when another process is changing the index and this one waits for it (retrieval/index_lock.py)."""
    with index_write_lock(index_dir(settings), "ingest", waiting), ACTIVITY():
        return _ingest(settings, paths, embedder, rebuild, progress, embed_progress, prune, page_progress)


def _ingest(settings: Settings, paths: list[Path], embedder: Embedder, rebuild: bool, progress,
            embed_progress, prune: bool, page_progress: PageProgress | None = None) -> IngestOutcome:
    if not rebuild and index_is_current(settings, paths, embedder, prune):
        # an index built before the answer step's sentences were stored gets them once
        stored = 0 if has_store(settings.data_dir, embedder) else update_store(
            settings.data_dir, embedder, read_contents(index_dir(settings))[1], embed_progress)
        return IngestOutcome(IngestReport(), read_manifest(index_dir(settings)), True, answer_sentences=stored)
    known: dict[str, tuple[Document, list[Chunk]]] = {}
    if not rebuild and compatible_manifest(settings, embedder):
        documents, chunks = read_contents(index_dir(settings))
        by_doc: dict[str, list[Chunk]] = {doc.doc_id: [] for doc in documents}
        for c in chunks:  # one pass: a scan per document was quadratic (minutes at 100k chunks)
            by_doc.setdefault(c.doc_id, []).append(c)
        for doc in documents:
            known[doc.doc_id] = (doc, by_doc[doc.doc_id])
    if not rebuild and not known:  # another embedder, chunking or pipeline: the index is built anew, so the
        paths = paths + files_indexed_before(settings, paths)  # files it holds are read again, not dropped
    report = prepare_documents(paths, chunk_settings(settings), settings.max_file_mb, progress, known,
                               ParseLimits.from_settings(settings), Quarantine(settings.data_dir), rebuild,
                               page_progress)
    given = {d.doc_id for d in report.documents}
    # dropped: members an archive read anew no longer holds (the archive is there: prune would keep them)
    deleted = [doc_id for doc_id, (doc, _) in known.items() if doc_id not in given and (doc_id in report.dropped
               or prune and from_file(doc) and not Path(doc.source_path).exists())]
    kept = [known[doc_id] for doc_id in known if doc_id not in given and doc_id not in deleted]
    if not known:  # a rebuild, or another embedder or chunking: imported laws have no file to read again
        kept += [pair for doc_id, pair in imported_laws(settings).items() if doc_id not in given]
    documents = report.documents + [doc for doc, _ in kept]
    chunks = report.chunks + [c for _, cs in kept for c in cs]
    if not documents:
        return IngestOutcome(report, None, False, deleted)
    # Incremental unless rebuilding: chunks already indexed keep their vectors and tokens, and the dense
    # index is updated in place (retrieval/index.py).
    manifest = build_index(index_dir(settings), documents, chunks, embedder, vars(chunk_settings(settings)),
                           settings.data_dir / "embed_cache", embed_progress,
                           store=store_config(settings), incremental=not rebuild,
                           sentence_vectors=settings.chunk_sentence_vectors)
    stored = update_store(settings.data_dir, embedder, chunks, embed_progress)
    return IngestOutcome(report, manifest, False, deleted, stored)


def files_indexed_before(settings: Settings, paths: list[Path]) -> list[Path]:
    """The files of the live index's documents that still exist, other than `paths` and what they hold: an
    ingest into an index built with another embedder, chunking or pipeline builds it anew, and without them
    every document not among the paths would be lost (an upload after a change of settings kept only itself)."""
    try:
        documents, _ = read_contents(index_dir(settings))
    except (OSError, ValueError, KeyError, TypeError):  # no index yet, or one this version cannot read
        return []
    given = [p.resolve() for p in paths]
    found: list[Path] = []
    for doc in documents:
        if not from_file(doc) or not doc.source_path:
            continue
        path = Path(doc.source_path)
        if not path.is_file() or path in found:
            continue
        resolved = path.resolve()
        if not any(resolved == g or g in resolved.parents for g in given):
            found.append(path)
    return found


def imported_laws(settings: Settings) -> dict[str, tuple[Document, list[Chunk]]]:
    """The imported laws of the index on disk (whatever it was built with), chunked anew with the current
    settings: a rebuild keeps them, since no file brings them back."""
    if read_manifest(index_dir(settings)) is None:
        return {}
    documents, _ = read_contents(index_dir(settings))
    return {d.doc_id: (d, law_chunks(d, chunk_settings(settings))) for d in documents if not from_file(d)}


def delete_documents(settings: Settings, doc_ids: list[str], embedder: Embedder,
                     waiting: Waiting = log.warning) -> dict:
    """Remove documents from the index (the embedding cache keeps their vectors for a later re-add). The
    dense index drops their vectors in place; nothing is embedded or tokenised again."""
    with index_write_lock(index_dir(settings), "delete", waiting):
        return _delete_documents(settings, doc_ids, embedder)


def _delete_documents(settings: Settings, doc_ids: list[str], embedder: Embedder) -> dict:
    if compatible_manifest(settings, embedder) is None:
        raise IndexError_(f"no index at {index_dir(settings)} built with {embedder.name}; run `policyqa ingest`.")
    documents, chunks = read_contents(index_dir(settings))
    unknown = sorted(set(doc_ids) - {d.doc_id for d in documents})
    if unknown:
        raise IndexError_(f"not in the index: {', '.join(unknown)}; `policyqa documents` lists the ids.")
    gone = set(doc_ids)
    documents = [d for d in documents if d.doc_id not in gone]
    chunks = [c for c in chunks if c.doc_id not in gone]
    manifest = build_index(index_dir(settings), documents, chunks, embedder, vars(chunk_settings(settings)),
                           settings.data_dir / "embed_cache", store=store_config(settings),
                           sentence_vectors=settings.chunk_sentence_vectors)
    update_store(settings.data_dir, embedder, chunks)
    return manifest


@dataclass
class LawImport:
    report: ChangeReport
    manifest: dict | None  # the index's manifest after the import (None: there is no index)
    built: bool  # False: nothing changed, the index was left as it was
    seconds: float
    answer_sentences: int = 0  # sentences embedded for the answer step (answer/sentence_store.py)
    # articles and their sentences embedded before the index lock was taken (import_laws)
    embedded_ahead: tuple[int, int] = (0, 0)

    @property
    def embedded(self) -> int:
        """Articles embedded by this import (ahead of the build and in it)."""
        return self.embedded_ahead[0] + (self.manifest["embedded_now"] if self.built and self.manifest else 0)

    @property
    def sentences_embedded(self) -> int:
        """The articles' sentences embedded for search by this import (retrieval/sentences.py)."""
        return self.embedded_ahead[1] + (self.manifest.get("sentences_embedded_now", 0)
                                         if self.built and self.manifest else 0)

    def summary(self) -> str:
        index = (f"; the index has {len(self.manifest['documents'])} documents, {self.manifest['n_chunks']} chunks"
                 if self.manifest else "")
        done = f"embedded {self.embedded} passages" if self.built else "nothing to re-index"
        return f"imported {self.report.summary()}; {done} in {self.seconds:.1f} s{index}"


def import_laws(settings: Settings, source: LawSource, scope: Scope, include_repealed: bool, embedder: Embedder,
                progress=None, embed_progress=None, waiting: Waiting = log.warning) -> LawImport:
    """Add the laws of `scope` (in force only, unless `include_repealed`) to the index, beside the documents
    already there. Laws imported before are brought up to date too, and dropped when the source no longer
    holds them. A law version whose content is unchanged is neither re-chunked nor re-embedded; when nothing
    changed, the index is not rebuilt at all.

    The embedding is nearly all of an import (a first start's education scope: 16 minutes on 2 cores), so it
    is done first, into the embedding cache, without the index lock: an upload or a delete meanwhile goes ahead
    instead of waiting for it. Holding the lock, the import then reads the index as it is by then and builds
    from the cache."""
    started = time.perf_counter()
    with ACTIVITY():
        ahead = _embed_import_ahead(settings, source, scope, include_repealed, embedder, progress, embed_progress)
    with index_write_lock(index_dir(settings), f"laws import (scope {scope.name})", waiting), ACTIVITY():
        outcome = _import_laws(settings, source, scope, include_repealed, embedder, embed_progress)
    return replace(outcome, seconds=time.perf_counter() - started, embedded_ahead=ahead)


@dataclass
class LawPlan:
    report: ChangeReport
    documents: list[Document]  # the index's documents when planned
    chunks: list[Chunk]
    replaced: dict[str, tuple[Document, list[Chunk]]]  # laws added or changed: their new document and chunks
    gone: set[str]  # imported laws the source no longer holds


def _plan_import(settings: Settings, source: LawSource, scope: Scope, include_repealed: bool,
                 manifest: dict | None, progress=None) -> LawPlan:
    """What an import changes in the index as it is on disk now (`progress` wraps the laws read)."""
    documents, chunks = read_contents(index_dir(settings)) if manifest else ([], [])
    indexed = {d.doc_id: d for d in documents}
    laws = source.laws()
    current = current_versions(laws)
    ids = {law_doc_id(law, current[law.name]): law for law in laws}
    chosen = set(select(laws, scope, include_repealed))
    # Laws imported before stay current as well: a package update may reword, repeal or replace them.
    wanted = [(doc_id, law) for doc_id, law in ids.items() if law in chosen
              or (doc_id in indexed and not from_file(indexed[doc_id]))]
    report = ChangeReport()
    replaced: dict[str, tuple[Document, list[Chunk]]] = {}
    # A law the index already holds as a file (uploaded or in a corpus folder) is not imported beside it:
    # two copies of one law would split its citations. The file wins; deleting it lets the import add the law.
    as_files = {d.title: d for d in documents if from_file(d)}
    for doc_id, law in progress(wanted) if progress else wanted:
        if law.name in as_files and doc_id not in indexed:
            report.errors.append(f"{law.name}: already indexed from {as_files[law.name].source_path} (as "
                                 f"'{as_files[law.name].doc_id}'); not imported twice. Delete that document to "
                                 "use the library's version.")
            continue
        old = indexed.get(doc_id)
        if old is not None and from_file(old):
            report.errors.append(f"{law.name}: the id '{doc_id}' is taken by {old.source_path}; delete that "
                                 "document (or rename its file) to import the law.")
            continue
        articles = source.articles(law.law_id)
        if old is not None and old.source_hash == content_hash(law, articles):
            report.changes.append(compare(old, old))
            continue
        doc = law_document(law, articles, source, current[law.name])
        replaced[doc_id] = (doc, law_chunks(doc, chunk_settings(settings)))
        report.changes.append(compare(old, doc))
    gone = {d.doc_id for d in documents if not from_file(d) and d.doc_id not in ids}
    report.changes += [compare(indexed[doc_id], None) for doc_id in sorted(gone)]
    return LawPlan(report, documents, chunks, replaced, gone)


def _embed_import_ahead(settings: Settings, source: LawSource, scope: Scope, include_repealed: bool,
                        embedder: Embedder, progress, embed_progress) -> tuple[int, int]:
    """Embed, into the cache, what the import would embed for the index as it is now; how many articles and
    sentences."""
    manifest = compatible_manifest(settings, embedder)
    if manifest is None and read_manifest(index_dir(settings)) is not None:
        return 0, 0  # the import under the lock says what to do about an index built otherwise
    plan = _plan_import(settings, source, scope, include_repealed, manifest, progress)
    laws = list(plan.replaced.values())
    return embed_ahead([d for d, _ in laws], [c for _, cs in laws for c in cs], embedder,
                       settings.data_dir / "embed_cache", embed_progress,
                       sentence_vectors=settings.chunk_sentence_vectors)


def _import_laws(settings: Settings, source: LawSource, scope: Scope, include_repealed: bool, embedder: Embedder,
                 embed_progress) -> LawImport:
    started = time.perf_counter()
    folder = index_dir(settings)
    manifest = compatible_manifest(settings, embedder)
    if manifest is None and read_manifest(folder) is not None:
        raise IndexError_(f"the index at {folder} was built with another embedder, chunking or pipeline; run "
                          "`policyqa ingest --rebuild` first (it keeps imported laws), then import the laws.")
    plan = _plan_import(settings, source, scope, include_repealed, manifest)  # again: the index may have changed
    report, replaced, gone = plan.report, plan.replaced, plan.gone
    if not replaced and not gone:
        if manifest is not None:
            write_record(settings.data_dir, source, scope, include_repealed)
        return LawImport(report, manifest, False, time.perf_counter() - started)
    by_doc: dict[str, list[Chunk]] = {}
    for c in plan.chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    pairs = [replaced.pop(d.doc_id, (d, by_doc.get(d.doc_id, []))) for d in plan.documents if d.doc_id not in gone]
    pairs += replaced.values()  # the laws new to the index, after the documents it had
    chunks = [c for _, cs in pairs for c in cs]
    manifest = build_index(folder, [d for d, _ in pairs], chunks, embedder, vars(chunk_settings(settings)),
                           settings.data_dir / "embed_cache", embed_progress, store=store_config(settings),
                           sentence_vectors=settings.chunk_sentence_vectors)
    stored = update_store(settings.data_dir, embedder, chunks, embed_progress)
    write_record(settings.data_dir, source, scope, include_repealed)
    return LawImport(report, manifest, True, time.perf_counter() - started, stored)


def law_list(settings: Settings, source: LawSource) -> list[dict]:
    """Every law version the source holds: name, status, version date, articles, whether the `education`
    scope has it and whether the index has it (by document id, from the manifest: nothing else is read)."""
    laws = source.laws()
    current = current_versions(laws)
    education = load_scope("education")
    indexed = (read_manifest(index_dir(settings)) or {}).get("documents", {})
    rows = []
    for law in laws:
        doc_id = law_doc_id(law, current[law.name])
        rows.append({"name": law.name, "status": law.status, "version_date": law.version_date,
                     "articles": law.articles, "education": education.includes(law.name),
                     "imported": doc_id in indexed, "doc_id": doc_id, "doc_type": law.doc_type})
    return rows


@dataclass
class AskResult:
    answer: Answer
    hits: list[SearchHit]
    latency_ms: float
    llm_configured: bool = False  # only then does the result say which generator wrote the answer
    approved: str | None = None  # the id of the editor's approved answer served instead (server/curated.py)
    resolved_question: str | None = None  # a follow-up read against the conversation ("理解为: …"); None: as asked

    def to_dict(self) -> dict:
        body = {"answer": self.answer.answer, "refused": self.answer.refused,
                "citations": [c.to_dict() for c in self.answer.citations],
                "latency_ms": round(self.latency_ms, 2), "answerability": round(self.answer.answerability, 4),
                "approved": self.approved is not None, "resolved_question": self.resolved_question}
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
    OpenCC's dictionaries (question analysis), the sentence encoder's weights (USE loads on first use),
    the pinyin of the indexed documents' places (read for the first English question) and the index's own
    words for abbreviations and English words (CC-CEDICT read backwards, ~0.6 s)."""
    analyse.__wrapped__("北京的學校")
    if service is not None:
        document_places(service.index.documents)
        service.index.lexical.with_index_words(["dormitory", "家暴"])
        if service.composer.encoder is not None:
            service.composer.encoder.encode(["学校"])


def document_weights(settings: Settings, documents: dict[str, Document]) -> dict[str, float]:
    """The search's prior on each document (retrieval.filters.document_priors): the law library's articles
    by settings.library_weight, those of laws outside the education scope by
    settings.library_outside_scope_weight as well."""
    return document_priors(documents, settings.library_weight, education_laws(),
                           settings.library_outside_scope_weight)


@lru_cache(maxsize=1)
def education_laws() -> frozenset[str]:
    """The laws of the education scope (ingest/laws/education_scope.tsv) by the names `law_name` gives: the
    library's own domain, against which settings.library_outside_scope_weight weighs the other laws."""
    return frozenset(law_name(name) for name in load_scope("education").reasons or {})


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
                                   rrf_k=settings.rrf_k, weights=settings.fusion_weights(),
                                   document_weights=document_weights(settings, self.index.documents),
                                   standardised_sentences=settings.sentence_scores == "standardised",
                                   fusion=settings.fusion)
        self.generator = answer_generator(settings)
        self.composer = Composer(encoder=sentence_encoder(self.embedder, settings.data_dir),
                                 refusal=refusal_model(settings))

    def analyse(self, text: str) -> Question:
        """The question analysed, with the places of the indexed documents its English words name."""
        return with_document_places(analyse(text), self.index.documents)

    def search(self, query: str | Question, top_k: int | None = None, mode: str = "hybrid",
               filters: SearchFilters | None = None) -> list[SearchHit]:
        q = query if isinstance(query, Question) else self.analyse(query)
        with ACTIVITY():
            return self._search(q, top_k, mode, filters)

    def _search(self, q: Question, top_k: int | None, mode: str, filters: SearchFilters | None,
                implied: SearchFilters | None = None) -> list[SearchHit]:
        # the question's own filters: the one document (or law version) it names, the documents of the places
        # it names, history when it asks for it (`implied`: already worked out by the caller)
        filters = implied or search_filters(q, self.index.documents, filters)
        hits = self.retriever.search(q.normalised, top_k or self.settings.top_k, mode, filters)
        # "…法第二十七条": that article first, looked up rather than searched for
        return put_first(article_hits(q, self.index.documents, self.index.chunks, filters), hits)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """A document's chunks, in order (a scan: only a question counting into a list needs it)."""
        return [c for c in self.index.chunks if c.doc_id == doc_id]

    def resolve(self, question: str, history: list[Turn] | list[dict] | None) -> str:
        """A follow-up question with the topic of the conversation it leaves out (answer/followup.py);
        the question as asked without history or when it stands alone."""
        return self.resolution(question, history)[0]

    def resolution(self, question: str, history: list[Turn] | list[dict] | None) -> tuple[str, Chunk | None]:
        """The resolved question, and the clause the previous answer quoted when the follow-up keeps to its
        document."""
        if not history:
            return question, None
        resolved = resolve(question, history, self.analyse, document_places(self.index.documents).values())
        answer = last_answer(history) if resolved.same_document else ""
        return resolved.resolved, quoted_chunk(answer, self.index) if answer else None

    def ask(self, question: str, top_k: int | None = None, mode: str = "hybrid",
            filters: SearchFilters | None = None, history: list[Turn] | list[dict] | None = None) -> AskResult:
        """Answer a question; `history` (earlier {"role", "content"} turns) makes a follow-up read in context."""
        started = time.perf_counter()
        resolved, quoted = self.resolution(question, history)
        q = self.analyse(resolved)  # once: search, composition and refusal all read it
        if resolved != question:  # a follow-up wants the values its own words ask for
            q = own_value_kinds(q, self.analyse(question))
        implied = search_filters(q, self.index.documents, filters)
        # a follow-up on the document just quoted, unless it (or the caller) names other documents
        on_quoted = quoted is not None and (not implied.doc_ids or quoted.doc_id in implied.doc_ids)
        if on_quoted and not implied.doc_ids:
            implied = replace(implied, doc_ids=[quoted.doc_id])
        # one piece of work in flight, from the search to the composed answer; the question's vectors kept till then
        with ACTIVITY(), ONE_QUESTION():
            hits = self._search(q, top_k or self.settings.answer_depth, mode, filters, implied)
            if on_quoted and points_back(question):  # "它的目标呢?": what "it" is, the clause just quoted says
                searched = next((h for h in hits if h.chunk.chunk_id == quoted.chunk_id), None)
                hits = put_first([searched or SearchHit(quoted, 0.0)], hits)
            hits = by_ordinal(q, hits, self.index.documents, self.chunks_of)
            answer = self.generator.generate(q, hits, self.index.documents, self.composer)
        return AskResult(answer, hits, (time.perf_counter() - started) * 1000,
                         llm_configured=isinstance(self.generator, LLMGenerator),
                         resolved_question=resolved if resolved != question else None)
