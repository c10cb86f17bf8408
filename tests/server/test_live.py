"""server/live.py: jobs of the two lanes that end together serve the later index, not the earlier."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from server import live


def test_two_swaps_at_once_leave_the_later_service_served(hashing_settings, monkeypatch):
    """A laws job and an upload job end together: the one that started loading first (from the earlier index)
    must not replace the service the other loaded after it. The services are stand-ins (plumbing): the first
    is slow to load."""
    loading, go_on = threading.Event(), threading.Event()
    loaded = []

    class Service:
        def __init__(self, settings, embedder) -> None:
            self.n = len(loaded) + 1
            loaded.append(self.n)
            if self.n == 1:  # the first swap reads the earlier index, then takes a while
                loading.set()
                assert go_on.wait(30)
            self.embedder = embedder

    monkeypatch.setattr(live, "QAService", Service)
    state = SimpleNamespace(service=SimpleNamespace(embedder="hashing"))
    index = live.LiveIndex(state, hashing_settings)
    first = threading.Thread(target=index.swap)
    first.start()
    assert loading.wait(30)
    second = threading.Thread(target=index.swap)
    second.start()
    time.sleep(0.3)  # without one swap at a time, the second would load and be served meanwhile
    go_on.set()
    first.join(30)
    second.join(30)
    assert loaded == [1, 2] and state.service.n == 2
