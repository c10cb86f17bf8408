"""Live index changes: upload, delete and reindex run as background jobs, one at a time; each ends by
loading a new QAService from the swapped-in index and replacing app.state.service in one assignment.

Requests in flight keep the service they started with; a half-built index is never served, since
build_index swaps a complete folder in and the new service is loaded only after that.
"""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import doc_id_for
from policyqa import service as svc
from policyqa.service import QAService
from policyqa.settings import Settings
from retrieval.embedders import Embedder
from retrieval.index import IndexError_
from server.jobs import Job, JobFailed, JobRunner
from server.uploads import inside, place_upload, remove_upload, remove_uploads_of, uploads_dir


class LiveIndex:
    def __init__(self, state, settings: Settings) -> None:
        self.state = state  # app.state: its `service` attribute is the one requests use
        self.settings = settings
        self.jobs = JobRunner()
        self._embedder: Embedder | None = None

    @property
    def uploads(self) -> Path:
        return uploads_dir(self.settings)

    def embedder(self) -> Embedder:
        current = self.state.service
        if current is not None:
            return current.embedder
        if self._embedder is None:
            self._embedder = svc.get_embedder(self.settings)
        return self._embedder

    def swap(self) -> QAService:
        new = QAService(self.settings, self.embedder())
        self.state.service = new  # one assignment: a request sees the old service or the new one
        return new

    def is_upload(self, source_path: str) -> bool:
        return inside(Path(source_path), self.uploads)

    # -- jobs -------------------------------------------------------------------------------------

    def submit_upload(self, staged: Path, target: Path, metadata: dict[str, str]) -> Job:
        doc_id = doc_id_for(target)

        def work(job: Job) -> str:
            replaced = place_upload(staged, target, metadata)
            outcome = svc.ingest(self.settings, [target], self.embedder(), prune=False)
            if outcome.report.errors or outcome.manifest is None:
                remove_upload(target)
                raise JobFailed("; ".join(outcome.report.errors) or f"{target.name}: nothing indexed")
            job.warnings = list(outcome.report.warnings)
            current = self.state.service
            if outcome.skipped and current is not None and doc_id in current.index.documents:
                return f"{doc_id} is already indexed with this content; nothing changed"
            new = self.swap()
            doc = new.index.documents[doc_id]
            n_chunks = sum(1 for c in new.index.chunks if c.doc_id == doc_id)
            note = f" (replaced {', '.join(replaced)})" if replaced else ""
            return (f"indexed {doc_id}{note}: {len(doc.clauses)} clauses, {n_chunks} chunks, "
                    f"{len(doc.records)} responsibility records; "
                    f"the index has {len(new.index.documents)} documents")

        return self.jobs.submit("upload", work, doc_id)

    def submit_delete(self, doc_id: str) -> Job:
        def work(job: Job) -> str:
            current = self.state.service
            doc = current.index.documents.get(doc_id) if current is not None else None
            if doc is None:
                raise JobFailed(f"no document '{doc_id}' in the index")
            if len(current.index.documents) == 1:
                raise JobFailed(f"'{doc_id}' is the only document; an index cannot be empty")
            try:
                svc.delete_documents(self.settings, [doc_id], self.embedder())
            except IndexError_ as exc:
                raise JobFailed(str(exc)) from exc
            new = self.swap()
            if self.is_upload(doc.source_path):
                # By id, not by source_path: the same text re-uploaded under another suffix is not re-indexed.
                removed = remove_uploads_of(self.uploads, doc_id)
                where = f"its uploaded file was removed ({', '.join(removed) or 'already gone'})"
            else:
                where = (f"its source file {doc.source_path} is outside uploads/ and was kept, so ingesting "
                         "that folder again adds it back")
            return f"deleted {doc_id}; {where}; the index has {len(new.index.documents)} documents"

        return self.jobs.submit("delete", work, doc_id)

    def submit_reindex(self, rebuild: bool = False) -> Job:
        def work(job: Job) -> str:
            paths = [p for p in (self.settings.corpus_dir, self.uploads) if p.exists()]
            if not paths:
                raise JobFailed(f"no corpus folder at {self.settings.corpus_dir} and no uploads")
            outcome = svc.ingest(self.settings, paths, self.embedder(), rebuild=rebuild, prune=True)
            errors = outcome.report.errors
            job.warnings = list(outcome.report.warnings) + [f"skipped: {e}" for e in errors]
            if outcome.manifest is None:
                raise JobFailed("no document could be ingested; the index was left as it was: "
                                + "; ".join(errors))
            if outcome.skipped and self.state.service is not None:
                return f"the index is current ({len(outcome.manifest['documents'])} documents); nothing to do"
            new = self.swap()
            report = outcome.report
            deleted = f"; dropped (file gone): {', '.join(outcome.deleted)}" if outcome.deleted else ""
            return (f"reindexed {', '.join(map(str, paths))}: {len(report.parsed)} documents read anew, "
                    f"{len(report.unchanged)} unchanged, {len(errors)} skipped{deleted}; "
                    f"the index has {len(new.index.documents)} documents")

        return self.jobs.submit("reindex", work)
