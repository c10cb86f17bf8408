"""Background jobs that change the index, run in order by a worker thread per lane (the law library's jobs beside
the documents').

Every job is journaled in SQLite (<data_dir>/jobs.db) when it is accepted, when it starts and when it
ends, with what it needs to run again (`payload`). A server killed mid-job finds the job unfinished at its
next start and runs it again (server/live.py makes each kind of job safe to run twice), so an accepted
upload is never lost and its job id keeps answering across restarts.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("policyqa.jobs")


class JobFailed(RuntimeError):
    """A job that could not do its work; str(error) is the message the job reports."""


class JobCancelled(JobFailed):
    """A job stopped on request (POST /api/jobs/{id}/cancel); its work left things as they were before it."""


class JobInterrupted(BaseException):
    """The server is stopping: a job that can stop between its steps ends there, unfinished in the journal, and
    the next start runs it again (a first start's laws import would otherwise hold a Ctrl-C up for a minute).
    A BaseException, like KeyboardInterrupt: handlers that turn a failure into a failed job let it through."""


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Job:
    id: str
    kind: str  # upload | delete | reindex | laws
    doc_id: str | None = None
    status: str = "queued"  # queued | running | done | failed | cancelled
    message: str = "waiting for the jobs before it"
    warnings: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    started_at: str | None = None
    finished_at: str | None = None
    payload: dict = field(default_factory=dict, repr=False)  # what the job needs to run again after a restart
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
    # Set by a cancel request; the work checks it where it can stop cleanly (each OCR page of a scan).
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    # Set when the server stops (JobRunner.close); work that is safe to stop and run again checks it.
    stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    def check_cancelled(self) -> None:
        """Raise JobCancelled if a cancel was requested: called by long work between its steps."""
        if self.cancel.is_set():
            raise JobCancelled("cancelled on request")

    def check_stopping(self) -> None:
        """Raise JobInterrupted if the server is stopping: called between steps by work that is safe to run again
        from the start (a laws import: the index is left as it was, what was embedded is cached)."""
        if self.stopping.is_set():
            raise JobInterrupted

    def to_dict(self) -> dict:
        return {"job_id": self.id, "kind": self.kind, "doc_id": self.doc_id, "status": self.status,
                "message": self.message, "warnings": self.warnings, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at}


COLUMNS = ("id", "kind", "doc_id", "status", "message", "warnings", "created_at", "started_at", "finished_at",
           "payload")


class JobJournal:
    """Jobs in a SQLite file (WAL: readers never wait for the worker's writes). Each write is committed
    before the call returns, so what the journal says survives a kill."""

    def __init__(self, path: Path, keep: int = 1000) -> None:
        self.path, self.keep = path, keep
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, "
                       "kind TEXT, doc_id TEXT, status TEXT, message TEXT, warnings TEXT, created_at TEXT, "
                       "started_at TEXT, finished_at TEXT, payload TEXT)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def save(self, job: Job) -> None:
        row = (job.id, job.kind, job.doc_id, job.status, job.message, json.dumps(job.warnings, ensure_ascii=False),
               job.created_at, job.started_at, job.finished_at, json.dumps(job.payload, ensure_ascii=False))
        with self._lock, self._connect() as db:
            db.execute(f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
                       "ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in COLUMNS[1:]),
                       row)
            if job.finished_at:  # forget the oldest finished jobs beyond `keep`
                db.execute("DELETE FROM jobs WHERE finished_at IS NOT NULL AND seq <= "
                           "(SELECT seq FROM jobs ORDER BY seq DESC LIMIT 1 OFFSET ?)", (self.keep,))

    def _jobs(self, where: str, args: tuple = (), order: str = "seq", limit: int = -1) -> list[Job]:
        with self._lock, self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE {where} ORDER BY {order} LIMIT ?",
                              (*args, limit)).fetchall()
        jobs = []
        for row in rows:
            values = dict(zip(COLUMNS, row, strict=True))
            values["warnings"] = json.loads(values["warnings"] or "[]")
            values["payload"] = json.loads(values["payload"] or "{}")
            job = Job(**values)
            if job.finished_at:
                job.finished.set()
            jobs.append(job)
        return jobs

    def get(self, job_id: str) -> Job | None:
        found = self._jobs("id = ?", (job_id,))
        return found[0] if found else None

    def recent(self, n: int) -> list[Job]:
        return self._jobs("1", order="seq DESC", limit=n)

    def unfinished(self) -> list[Job]:
        """Jobs accepted or started by an earlier process that never ended, oldest first."""
        return self._jobs("finished_at IS NULL")


Queued = queue.Queue[tuple[Job, Callable[[Job], str]] | None]


class JobRunner:
    """FIFOs of jobs ("lanes"), each with one daemon worker thread (started on its first job). Each job's work
    function returns the message to report, or raises (JobFailed for an expected failure). `public(text)` turns
    a message into what clients may see (server/live.py drops the server's own paths).

    Jobs of one lane run one after another, in the order they came; lanes run side by side (the index lock,
    retrieval/index_lock.py, keeps their index changes one at a time). The law library has a lane of its own:
    a first start's import embeds for a quarter of an hour, and an upload meanwhile should not wait for it."""

    def __init__(self, journal: JobJournal | None = None, keep: int = 500,
                 public: Callable[[str], str] = str) -> None:
        self.journal, self.keep, self.public = journal, keep, public
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lanes: dict[str, tuple[Queued, threading.Thread]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, kind: str, work: Callable[[Job], str], doc_id: str | None = None,
               payload: dict | None = None, resumed: Job | None = None, lane: str = "documents") -> Job:
        """Queue `work` on `lane`; journaled before this returns. `resumed`: a job of an earlier process, run
        again under its own id."""
        job = resumed or Job(uuid.uuid4().hex[:16], kind, doc_id, payload=payload or {})
        if resumed is not None:
            job.status, job.message, job.started_at = "queued", "resumed after a server restart", None
        with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            if self.journal is not None:
                self.journal.save(job)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:  # forget the oldest finished jobs (the journal keeps them)
                oldest = next((j for j in self._jobs.values() if j.finished.is_set()), None)
                if oldest is None:
                    break
                del self._jobs[oldest.id]
            if lane not in self._lanes:
                fifo: Queued = queue.Queue()
                worker = threading.Thread(target=self._run, args=(fifo,), name=f"policyqa-jobs-{lane}", daemon=True)
                self._lanes[lane] = (fifo, worker)
                worker.start()
            fifo = self._lanes[lane][0]
        fifo.put((job, work))
        return job

    def record_failed(self, kind: str, message: str, doc_id: str | None = None) -> Job:
        """A job that failed before it could run (e.g. an upload cut off by a restart), for the record."""
        job = Job(uuid.uuid4().hex[:16], kind, doc_id, "failed", self.public(message))
        job.started_at = job.finished_at = now_iso()
        job.finished.set()
        if self.journal is not None:
            self.journal.save(job)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None and self.journal is not None:
            job = self.journal.get(job_id)  # a job of an earlier process, or one forgotten in memory
        return job

    def recent(self, n: int = 50) -> list[Job]:
        if self.journal is not None:
            with self._lock:
                live = dict(self._jobs)
            return [live.get(j.id, j) for j in self.journal.recent(n)]
        with self._lock:
            return list(self._jobs.values())[-n:][::-1]

    def cancel(self, job_id: str) -> Job | None:
        """Ask a queued or running job to stop (None: no such job in this process). A queued job is
        cancelled when its turn comes; a running one at its next stopping point (a scan's next page)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None and not job.finished.is_set():
            job.cancel.set()
            job.message = "cancel requested; the job stops at its next step (a scan's page, a batch of passages) or before it starts"
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        job = self.get(job_id)
        if job is not None:
            job.finished.wait(timeout)
        return job

    def close(self, timeout: float = 60.0) -> None:
        """Take no new jobs; let the queued ones finish (up to `timeout` seconds), except that work which can stop
        between its steps stops at the next one, to be run again at the next start."""
        with self._lock:
            self._closed = True
            lanes = list(self._lanes.values())
            for job in self._jobs.values():
                job.stopping.set()
        for fifo, _ in lanes:
            fifo.put(None)
        deadline = time.monotonic() + timeout
        for _, worker in lanes:
            worker.join(max(0.0, deadline - time.monotonic()))

    def _save(self, job: Job) -> None:
        if self.journal is None:
            return
        try:
            self.journal.save(job)
        except sqlite3.Error:  # the job's own outcome matters more than its record
            log.exception("could not journal job %s", job.id)

    def _run(self, fifo: Queued) -> None:
        while True:
            item = fifo.get()
            if item is None:
                return
            job, work = item
            job.status, job.message, job.started_at = "running", "working", now_iso()
            self._save(job)
            try:
                message, status = work(job), "done"
            except JobInterrupted:  # left running in the journal: the next start runs it again
                job.message = "stopped with the server; the next start runs it again"
                continue
            except JobCancelled as exc:
                message, status = str(exc), "cancelled"
            except JobFailed as exc:
                message, status = str(exc), "failed"
            except Exception as exc:  # noqa: BLE001 - a job must never take the worker down
                log.exception("job %s (%s) failed", job.id, job.kind)
                message, status = f"{exc.__class__.__name__}: {exc}", "failed"
            # the status last: a client that sees the job finished sees its message too
            job.message = self.public(message)
            job.warnings = [self.public(w) for w in job.warnings]
            job.finished_at = now_iso()
            job.status = status
            self._save(job)
            job.finished.set()
