"""Several `policyqa serve` processes (replicas) on one index: with the Milvus store (POLICYQA_STORE=milvus)
dense vectors and BM25 live in Milvus, and a process holds only what it read from the shared index folder
(documents, chunks, the manifest naming the live collection). An upload, delete or reindex through one
replica swaps a new index folder in; every replica notices before its next request by a stat of the
manifest (server/replicas.py: IndexWatcher) and loads the new index, so all of them answer from it.

The previous Milvus collection is kept until the build after next (retrieval/index.py), so a replica that
has not reloaded yet still searches a collection that exists.
"""

from __future__ import annotations

import logging
import threading

import anyio.to_thread

from policyqa.service import QAService, index_dir
from retrieval.index import manifest_version

log = logging.getLogger("policyqa.replicas")
WATCHED = ("/api", "/v1", "/health")  # requests that read the index


class IndexWatcher:
    """Reloads the service when another process swapped a new index into the shared folder."""

    def __init__(self, state, settings) -> None:
        self.state, self.settings = state, settings
        self.folder = index_dir(settings)
        self._lock = threading.Lock()
        self._failed: tuple = ()  # a version that would not load: not tried again on every request

    def stale(self) -> bool:
        version = manifest_version(self.folder)
        service = self.state.service
        if not version or version == self._failed:
            return False
        return service is None or service.index.version != version

    def reload(self) -> None:
        """Load the index now on disk; one reload at a time (a request that finds one running goes on with
        the service it has: the previous collection still exists)."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            version = manifest_version(self.folder)
            service = self.state.service
            if not version or (service is not None and service.index.version == version):
                return
            try:
                new = QAService(self.settings, self.state.live.embedder())
            except Exception:  # noqa: BLE001 - keep serving the index this process has
                log.exception("could not load the index another process made")
                self._failed = version
                return
            self.state.service = new
            log.info("loaded the index another process swapped in (%d documents)", len(new.index.documents))
        finally:
            self._lock.release()


class ReplicaMiddleware:
    """ASGI middleware: before a request that reads the index, reload it if another replica changed it."""

    def __init__(self, app, watcher: IndexWatcher) -> None:
        self.app, self.watcher = app, watcher

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").startswith(WATCHED) and self.watcher.stale():
            await anyio.to_thread.run_sync(self.watcher.reload)
        await self.app(scope, receive, send)


def shares_index(settings) -> bool:
    """Replicas share the index when its search structures live in Milvus."""
    return settings.vector_store == "milvus"
