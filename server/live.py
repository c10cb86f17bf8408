"""Live index changes: upload, delete, reindex and laws import run as background jobs, one at a time per lane (the
law library's jobs beside the documents'); each ends by loading a new QAService from the swapped-in index and
replacing app.state.service in one assignment.

Requests in flight keep the service they started with; a half-built index is never served, since
build_index swaps a complete folder in and the new service is loaded only after that.

An upload replaces nothing until it is indexed: the file(s) it replaces are set aside under hidden names
and put back if the new file fails, which is then kept in quarantine/. Every step can be run again after a
kill (the job journal runs unfinished jobs again at the next start), so an accepted upload ends either
indexed or failed with its file kept, and the version it meant to replace is never lost.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

from ingest.archives import is_archive, members, without_member
from ingest.laws.documents import from_file
from ingest.laws.scope import ScopeError, load_scope
from ingest.laws.source import LawSourceError, default_source
from ingest.metadata import sidecar_path
from ingest.pipeline import doc_id_for, is_document_member, member_doc_id
from ingest.quarantine import Quarantine
from ingest.sandbox import PageProgress
from policyqa import service as svc
from policyqa.service import QAService
from policyqa.settings import Settings
from retrieval.embedders import Embedder
from retrieval.filters import LAWS
from retrieval.index import IndexError_
from server.jobs import Job, JobCancelled, JobFailed, JobJournal, JobRunner
from server.uploads import (
    SET_ASIDE,
    drop_set_aside,
    inside,
    place_upload,
    remove_upload,
    remove_uploads_of,
    restore_set_aside,
    set_aside,
    uploads_dir,
)

log = logging.getLogger("policyqa.live")
SHOWN_CHANGES = 30  # laws named in a laws import's message (a first import of `all` adds 378)


def page_note(job: Job) -> PageProgress:
    """A job's message while a scan is OCR'd names the page (GET /api/jobs/{id}): minutes go by otherwise
    with "working" and nothing else."""
    def note(path: Path, done: int, total: int) -> None:
        job.check_cancelled()  # raising here stops the OCR and its child process
        job.message = f"reading {path.name}: OCR page {done} of {total}"
    return note


def waiting_note(job: Job):
    """A job's message while it waits for another process's index change (a `policyqa ingest` in a terminal,
    retrieval/index_lock.py)."""
    def note(message: str) -> None:
        log.warning("job %s: %s", job.id, message)
        job.message = message
    return note


def job_progress(job: Job, doing: str):
    """Like the CLI's progress bars, for a job: its message says how far the work is (GET /api/jobs/{id}; a
    first import of the laws embeds for minutes), and a cancel request stops it between two steps, as does the
    server stopping (the job is then run again at the next start: server/jobs.py JobInterrupted). Work
    that goes over several lists (the articles, then their sentences for search, then the sentences
    answers quote) numbers them: "embedding batch 3 of 40 (pass 2)"."""
    passes = [0]

    def steps(items):
        passes[0] += 1
        total = len(items) if hasattr(items, "__len__") else None
        of = f" of {total}" if total else ""
        again = f" (pass {passes[0]})" if passes[0] > 1 else ""
        for n, item in enumerate(items, start=1):
            job.check_cancelled()
            job.check_stopping()
            job.message = f"{doing} {n}{of}{again}"
            yield item
    return steps


def lane_of(kind: str, collection: str | None = None) -> str:
    """The job lane (server/jobs.py JobRunner) of a job: the law library's changes (imports, deletes of its
    laws) one after another on their own, beside the bureau's own documents' uploads, deletes and reindexes.
    A delete of a law waits for an import under way (which would otherwise add the law back)."""
    return "library" if kind == "laws" or collection == LAWS else "documents"


class LiveIndex:
    def __init__(self, state, settings: Settings) -> None:
        self.state = state  # app.state: its `service` attribute is the one requests use
        self.settings = settings
        self.jobs = JobRunner(JobJournal(settings.data_dir / "jobs.db"), public=self.public)
        self._embedder: Embedder | None = None
        self._swap_lock = threading.Lock()

    @property
    def uploads(self) -> Path:
        return uploads_dir(self.settings)

    @property
    def quarantine_dir(self) -> Path:
        return self.settings.data_dir / "quarantine"

    def public(self, text: str) -> str:
        """A message without the server's own paths: clients see uploads/x.pdf, not /srv/data/uploads/x.pdf."""
        for folder, shown in ((self.uploads, "uploads"), (self.quarantine_dir, "quarantine"),
                              (self.settings.corpus_dir, self.settings.corpus_dir.name),
                              (self.settings.data_dir, "data")):
            for form in {str(folder.resolve()), str(folder.absolute()), str(folder)}:
                text = re.sub(re.escape(form.rstrip("/")) + r"(?=/|\b)", shown, text)
        return text

    def embedder(self) -> Embedder:
        current = self.state.service
        if current is not None:
            return current.embedder
        if self._embedder is None:
            self._embedder = svc.get_embedder(self.settings)
        return self._embedder

    def swap(self) -> QAService:
        """Serve the index now on disk. One swap at a time: jobs of two lanes may end together, and a service
        loaded from the earlier index must not replace one loaded from the later (each swap reads the index
        when its turn comes, so the last swap serves the last build)."""
        with self._swap_lock:
            new = QAService(self.settings, self.embedder())
            self.state.service = new  # one assignment: a request sees the old service or the new one
        return new

    def is_upload(self, source_path: str) -> bool:
        return inside(Path(source_path), self.uploads)

    # -- jobs -------------------------------------------------------------------------------------

    def submit_upload(self, staged: Path, target: Path, metadata: dict[str, str]) -> Job:
        payload = {"staged": staged.name, "target": target.name, "metadata": metadata}
        return self.jobs.submit("upload", self.upload_work, doc_id_for(target), payload)

    def upload_work(self, job: Job) -> str:
        """Index an upload. Safe to run again after a kill at any point: each step checks what is done."""
        staged, target = self.uploads / job.payload["staged"], self.uploads / job.payload["target"]
        doc_id = doc_id_for(target)
        if job.cancel.is_set() and staged.exists():  # cancelled while queued: nothing placed yet
            staged.unlink()
            raise JobCancelled(f"cancelled on request before it started: {target.name} is discarded")
        if staged.exists():  # not placed yet (a rerun may find part of the set-aside done: it finishes it)
            set_aside(target, job.id)
            place_upload(staged, target, job.payload["metadata"])
        elif not target.exists():
            restore_set_aside(self.uploads, job.id)
            raise JobFailed(f"the uploaded file {target.name} is missing from uploads/; send it again")
        archive, left_out = is_archive(target), []
        try:
            outcome = svc.ingest(self.settings, [target], self.embedder(), prune=False,
                                 page_progress=page_note(job), waiting=waiting_note(job))
            errors = outcome.report.errors or ([] if outcome.manifest else [f"{target.name}: nothing indexed"])
            if archive and (outcome.report.documents or outcome.skipped):
                # An archive fails only when none of its members goes in: the others' reasons become warnings.
                left_out, errors = [f"skipped: {e}" for e in errors], []
        except JobCancelled:
            # nothing to keep: the upload is dropped and the version it would have replaced comes back
            target.unlink(missing_ok=True)
            remove_upload(target)
            restored = restore_set_aside(self.uploads, job.id)
            if restored:
                self.reindex_restored(self.uploads / restored[0])
            still = f"; the earlier version ({', '.join(restored)}) is still indexed" if restored else ""
            raise JobCancelled(f"cancelled on request: {target.name} was not indexed and is discarded"
                               f"{still}") from None
        except Exception as exc:  # noqa: BLE001 - whatever failed, the replaced version must come back
            log.exception("upload job %s failed", job.id)
            errors = [f"{target.name}: {exc.__class__.__name__}: {exc}"]
        if errors:
            kept = self.quarantine_upload(target, job.id, "; ".join(errors))
            restored = restore_set_aside(self.uploads, job.id)
            if restored:
                self.reindex_restored(self.uploads / restored[0])
            still = f"; the earlier version ({', '.join(restored)}) is still indexed" if restored else ""
            raise JobFailed(f"{'; '.join(errors)}{still}; the file is kept as {kept} (GET /api/quarantine)")
        replaced = [n for n in drop_set_aside(self.uploads, job.id) if n != target.name]
        job.warnings = list(outcome.report.warnings) + left_out
        current = self.state.service
        if archive:
            return self.archive_indexed(target, outcome)
        if outcome.skipped and current is not None and doc_id in current.index.documents:
            return f"{doc_id} is already indexed with this content; nothing changed"
        new = self.swap()
        doc = new.index.documents[doc_id]
        n_chunks = sum(1 for c in new.index.chunks if c.doc_id == doc_id)
        note = f" (replaced {', '.join(replaced)})" if replaced else ""
        return (f"indexed {doc_id}{note}: {len(doc.clauses)} clauses, {n_chunks} chunks, "
                f"{len(doc.records)} responsibility records; "
                f"the index has {len(new.index.documents)} documents")

    def archive_indexed(self, target: Path, outcome: svc.IngestOutcome) -> str:
        """The message of an uploaded archive's job: its documents, and what was left out (the warnings)."""
        report = outcome.report
        if outcome.skipped and self.state.service is not None:
            return f"{target.name} is already indexed with this content; nothing changed"
        new = self.swap()
        per_doc = [f"{d.doc_id} ({d.extra.get('member')}: {len(d.clauses)} clauses, "
                   f"{sum(1 for c in new.index.chunks if c.doc_id == d.doc_id)} chunks)" for d in report.documents]
        dropped = f"; dropped the members it no longer holds: {', '.join(report.dropped)}" if report.dropped else ""
        skipped = f"; {len(report.errors)} left out (see warnings)" if report.errors else ""
        return (f"indexed {len(report.documents)} documents from {target.name}: {'; '.join(per_doc)}{skipped}"
                f"{dropped}; the index has {len(new.index.documents)} documents")

    def reindex_restored(self, path: Path) -> None:
        """Make sure a version put back is indexed: a `serve --ingest` run between the kill and this job's
        rerun saw it set aside (hidden) and dropped it. Nothing is read or embedded when it is current."""
        outcome = svc.ingest(self.settings, [path], self.embedder(), prune=False)
        if not outcome.skipped and outcome.manifest is not None:
            self.swap()

    def quarantine_upload(self, target: Path, job_id: str, message: str) -> str:
        """Move a failed upload out of uploads/ (so no reindex reads it again) into quarantine/<job>/,
        recorded with its message; returns where it is, as clients see it."""
        folder = self.quarantine_dir / job_id
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / target.name
        if target.exists():
            os.replace(target, kept)
        remove_upload(target)  # its sidecar, written for this upload
        quarantine = self.quarantine()
        quarantine.clear(target)
        if kept.exists():
            quarantine.record(kept, self.public(message))
        return f"quarantine/{job_id}/{target.name}"

    def quarantine(self) -> Quarantine:
        return Quarantine(self.settings.data_dir)

    def resume(self) -> list[Job]:
        """At start: run again the jobs an earlier process accepted but never finished, and report the
        uploads it was still receiving (staged `.part` files no job owns) as failed jobs."""
        resumed = []
        for job in self.jobs.journal.unfinished():
            work = {"upload": self.upload_work, "delete": self.delete_work, "reindex": self.reindex_work,
                    "laws": self.laws_work}[job.kind]
            lane = lane_of(job.kind, job.payload.get("collection"))
            resumed.append(self.jobs.submit(job.kind, work, job.doc_id, resumed=job, lane=lane))
        owned = {j.payload.get("staged") for j in resumed}
        if self.uploads.is_dir():
            for part in sorted(self.uploads.glob(".*.part")):
                if part.name not in owned:
                    name = part.name.split(".", 2)[-1][:-len(".part")]
                    part.unlink(missing_ok=True)
                    self.jobs.record_failed("upload", f"the upload of {name} was cut off by a server restart "
                                            "before it was accepted; send it again", doc_id_for(Path(name)))
            resumed_ids = {j.id for j in resumed}
            for left in sorted(self.uploads.glob(f".*{SET_ASIDE}")):
                job_id = left.name[1:].split(".", 1)[0]
                if job_id not in resumed_ids:  # a job that ended without its clean-up: put the file back
                    log.warning("restoring %s, set aside by job %s", left.name, job_id)
                    for name in restore_set_aside(self.uploads, job_id):
                        self.reindex_restored(self.uploads / name)
        return resumed

    def submit_delete(self, doc_id: str, collection: str | None = None) -> Job:
        # the collection: GET /api/jobs shows a scoped key the jobs on its collections
        return self.jobs.submit("delete", self.delete_work, doc_id, {"collection": collection} if collection else None,
                                lane=lane_of("delete", collection))

    def delete_work(self, job: Job) -> str:
        doc_id = job.doc_id
        current = self.state.service
        doc = current.index.documents.get(doc_id) if current is not None else None
        if doc is None:  # a rerun after a kill may find the deletion done
            removed = remove_uploads_of(self.uploads, doc_id)
            if job.message == "resumed after a server restart" or removed:
                return f"{doc_id} is not in the index (deleted before the restart)"
            raise JobFailed(f"no document '{doc_id}' in the index")
        if len(current.index.documents) == 1:
            raise JobFailed(f"'{doc_id}' is the only document; an index cannot be empty")
        if self.is_upload(doc.source_path) and is_archive(Path(doc.source_path)) and doc.extra.get("member"):
            return self.delete_member(doc)
        try:
            svc.delete_documents(self.settings, [doc_id], self.embedder(), waiting_note(job))
        except IndexError_ as exc:
            raise JobFailed(str(exc)) from exc
        new = self.swap()
        if not from_file(doc):
            where = "an imported law: importing the laws of a scope that has it adds it back"
        elif self.is_upload(doc.source_path):
            # By id, not by source_path: the same text re-uploaded under another suffix is not re-indexed.
            removed = remove_uploads_of(self.uploads, doc_id)
            where = f"its uploaded file was removed ({', '.join(removed) or 'already gone'})"
        else:
            where = (f"its source file {doc.source_path} is outside uploads/ and was kept, so ingesting "
                     "that folder again adds it back")
        return f"deleted {doc_id}; {where}; the index has {len(new.index.documents)} documents"

    def delete_member(self, doc) -> str:
        """Delete a document that came from an uploaded archive: the archive is rewritten without its member
        (so no reindex brings it back; the other members keep their content hashes and are not read again),
        or removed with the last of its documents in the index (members that could not be read go with it).
        Safe to run again after a kill: the archive changes first."""
        archive, member = Path(doc.source_path), doc.extra["member"]
        indexed = self.state.service.index.documents
        try:
            left = [m for m in members(archive) if m.name != member and is_document_member(m)
                    and member_doc_id(archive, m.name) in indexed] if archive.exists() else []
            if left:
                without_member(archive, member)
            else:
                archive.unlink(missing_ok=True)
                sidecar_path(archive).unlink(missing_ok=True)
                self.quarantine().clear(archive)  # an unreadable member's record goes with it
            svc.delete_documents(self.settings, [doc.doc_id], self.embedder())
        except (IndexError_, OSError, ValueError) as exc:  # ValueError: ingest.readers.ReadError
            raise JobFailed(self.public(f"{doc.doc_id}: {exc}")) from exc
        new = self.swap()
        where = (f"its member {member} was removed from the uploaded archive {archive.name} ({len(left)} "
                 "documents left in it)" if left else
                 f"it was the last document of the uploaded archive {archive.name}, which was removed")
        return f"deleted {doc.doc_id}; {where}; the index has {len(new.index.documents)} documents"

    def submit_reindex(self, rebuild: bool = False) -> Job:
        return self.jobs.submit("reindex", self.reindex_work, payload={"rebuild": rebuild})

    def reindex_work(self, job: Job) -> str:
        paths = [p for p in (self.settings.corpus_dir, self.uploads) if p.exists()]
        if not paths:
            raise JobFailed(f"no corpus folder at {self.settings.corpus_dir} and no uploads")
        rebuild = bool(job.payload.get("rebuild"))
        outcome = svc.ingest(self.settings, paths, self.embedder(), rebuild=rebuild, prune=True,
                             page_progress=page_note(job), waiting=waiting_note(job))
        errors = outcome.report.errors
        job.warnings = list(outcome.report.warnings) + [f"skipped: {e}" for e in errors]
        if outcome.manifest is None:
            raise JobFailed("no document could be ingested; the index was left as it was: " + "; ".join(errors))
        if outcome.skipped and self.state.service is not None:
            return f"the index is current ({len(outcome.manifest['documents'])} documents); nothing to do"
        new = self.swap()
        report = outcome.report
        deleted = f"; dropped (file gone): {', '.join(outcome.deleted)}" if outcome.deleted else ""
        return (f"reindexed {', '.join(p.name for p in paths)}: {len(report.parsed)} documents read anew, "
                f"{len(report.unchanged)} unchanged, {len(errors)} skipped{deleted}; "
                f"the index has {len(new.index.documents)} documents")

    def submit_laws_import(self, scope: str, include_repealed: bool) -> Job:
        return self.jobs.submit("laws", self.laws_work, payload={"scope": scope, "include_repealed": include_repealed},
                                lane=lane_of("laws"))

    def import_laws_at_start(self, scope: str) -> Job | None:
        """The start's import of the law library (`serve --ingest`, policyqa/law_library.py), unless a laws
        job the last process left unfinished was resumed: that one does the same work."""
        if self.laws_import_under_way() is not None:
            return None
        return self.submit_laws_import(scope, include_repealed=False)

    def laws_import_under_way(self) -> Job | None:
        """A laws job queued or running in this process (GET /health shows it: the widget says so)."""
        return next((j for j in self.jobs.recent(20) if j.kind == "laws" and j.status in ("queued", "running")),
                    None)

    def laws_work(self, job: Job) -> str:
        """Import national laws. Safe to run again after a kill: what is indexed already is not embedded again,
        and the index changes only by build_index's swap."""
        try:
            scope = load_scope(job.payload["scope"])
            source = default_source()
            outcome = svc.import_laws(self.settings, source, scope, bool(job.payload.get("include_repealed")),
                                      self.embedder(), job_progress(job, "reading law"),
                                      job_progress(job, "embedding batch"), waiting_note(job))
        except (ScopeError, LawSourceError, IndexError_) as exc:
            raise JobFailed(str(exc)) from exc
        except JobCancelled:
            raise JobCancelled("cancelled on request: the index was left as it was (what was embedded is cached: "
                               "importing again goes on from there)") from None
        job.warnings = [f"skipped: {e}" for e in outcome.report.errors]
        if outcome.built or (self.state.service is None and outcome.manifest is not None):
            self.swap()
        changes = outcome.report.lines()
        more = f"; and {len(changes) - SHOWN_CHANGES} more" if len(changes) > SHOWN_CHANGES else ""
        listed = f" — {'; '.join(changes[:SHOWN_CHANGES])}{more}" if changes else ""
        return f"{source.name} {source.version}, scope {scope.name}: {outcome.summary()}{listed}"
