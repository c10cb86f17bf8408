"""retrieval.index_lock: one index change at a time across processes and threads, a change calling another
does not wait for itself, and a waiting writer says whom it waits for."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from helpers import REPO, cli_env
from lawsource import FixtureSource

from ingest.laws.scope import load_scope
from policyqa import service
from retrieval.index import read_manifest
from retrieval.index_lock import holder, index_write_lock


def test_a_second_thread_waits_and_hears_whom_for(tmp_path):
    folder = tmp_path / "index"
    heard, order = [], []
    with index_write_lock(folder, "laws import (scope education)"):
        assert holder(folder) == f"pid {os.getpid()}: laws import (scope education)"
        with index_write_lock(folder, "nested"):  # the same thread: no wait
            order.append("nested")

        def second():
            with index_write_lock(folder, "ingest", heard.append):
                order.append("second")

        t = threading.Thread(target=second)
        t.start()
        t.join(1.0)
        assert t.is_alive() and order == ["nested"]  # blocked while the first holds it
        order.append("first done")
    t.join(10)
    assert order == ["nested", "first done", "second"]
    assert heard[0] == f"waiting for pid {os.getpid()}: laws import (scope education), which is changing the " \
                       f"index at {folder}" and heard[1].startswith("the other change ended after")


def test_an_ingest_in_a_terminal_waits_for_the_server_s_change(tmp_path, corpus_dir):
    """`policyqa ingest` while another process (here: this test) changes the same index: it waits, says so,
    and ends with its documents indexed once the other change is done."""
    data = tmp_path / "data"
    folder = data / "index"
    env = cli_env(POLICYQA_DATA_DIR=str(data), POLICYQA_CORPUS_DIR=str(corpus_dir), POLICYQA_EMBEDDER="hashing")
    with index_write_lock(folder, "laws import (scope education)"):
        proc = subprocess.Popen([sys.executable, "-m", "policyqa.cli", "ingest"], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        time.sleep(8)  # long enough to start, read the settings and reach the lock
        assert proc.poll() is None, proc.communicate()
        assert read_manifest(folder) is None  # nothing written while the other change holds the index
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"waiting for pid {os.getpid()}: laws import (scope education)" in err and "Ctrl-C stops" in err
    assert len(read_manifest(folder)["documents"]) == 5


def test_every_index_change_of_the_service_takes_the_lock(hashing_settings, hashing_embedder, corpus_dir):
    folder = service.index_dir(hashing_settings)
    service.ingest(hashing_settings, [corpus_dir], hashing_embedder)
    assert "ingest" in holder(folder)
    doc = next(iter(read_manifest(folder)["documents"]))
    service.delete_documents(hashing_settings, [doc], hashing_embedder)
    assert "delete" in holder(folder)
    service.import_laws(hashing_settings, FixtureSource(), load_scope("all"), False, hashing_embedder)
    assert "laws import (scope all)" in holder(folder)
