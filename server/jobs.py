"""Background jobs that change the index, run one at a time by a single worker thread, in order."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("policyqa.jobs")


class JobFailed(RuntimeError):
    """A job that could not do its work; str(error) is the message the job reports."""


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Job:
    id: str
    kind: str  # upload | delete | reindex
    doc_id: str | None = None
    status: str = "queued"  # queued | running | done | failed
    message: str = "waiting for the jobs before it"
    warnings: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    started_at: str | None = None
    finished_at: str | None = None
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict:
        return {"job_id": self.id, "kind": self.kind, "doc_id": self.doc_id, "status": self.status,
                "message": self.message, "warnings": self.warnings, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at}


class JobRunner:
    """A FIFO of jobs and one daemon worker thread (started on the first job). Each job's work function
    returns the message to report, or raises (JobFailed for an expected failure)."""

    def __init__(self, keep: int = 500) -> None:
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[tuple[Job, Callable[[Job], str]] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False

    def submit(self, kind: str, work: Callable[[Job], str], doc_id: str | None = None) -> Job:
        job = Job(uuid.uuid4().hex[:16], kind, doc_id)
        with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:  # forget the oldest finished jobs
                oldest = next((j for j in self._jobs.values() if j.finished.is_set()), None)
                if oldest is None:
                    break
                del self._jobs[oldest.id]
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="policyqa-jobs", daemon=True)
                self._worker.start()
        self._queue.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self, n: int = 50) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())[-n:][::-1]

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        job = self.get(job_id)
        if job is not None:
            job.finished.wait(timeout)
        return job

    def close(self, timeout: float = 60.0) -> None:
        """Take no new jobs; let the queued ones finish (up to `timeout` seconds)."""
        with self._lock:
            self._closed = True
            worker = self._worker
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, work = item
            job.status, job.message, job.started_at = "running", "working", now_iso()
            try:
                job.message = work(job)
                job.status = "done"
            except JobFailed as exc:
                job.status, job.message = "failed", str(exc)
            except Exception as exc:  # noqa: BLE001 - a job must never take the worker down
                log.exception("job %s (%s) failed", job.id, job.kind)
                job.status, job.message = "failed", f"{exc.__class__.__name__}: {exc}"
            finally:
                job.finished_at = now_iso()
                job.finished.set()
