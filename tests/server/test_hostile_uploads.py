"""A zip bomb uploaded to a running server fails its own job with one clear message; the server's memory
stays small (the parse runs in a child process under limits), the file is quarantined and a reindex does
not read it again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import REPO, cli_env, free_port
from hostile_files import zip_bomb

from policyqa import service
from policyqa.settings import Settings

# The file: ~1 MB that unpacks to 1.1 GB (it drove the server from 0.3 to 5 GB RSS).
BOMB_MB = 1100
SERVER_PEAK_LIMIT_MB = 1000


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return zip_bomb(tmp_path_factory.mktemp("bomb"), BOMB_MB)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, corpus_dir) -> Path:
    data = tmp_path_factory.mktemp("hostile") / "data"
    settings = Settings(data_dir=data, corpus_dir=corpus_dir, embedder="hashing")
    assert service.ingest(settings, [corpus_dir], service.get_embedder(settings)).report.ok
    return data


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def wait_for(base: str, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while (job := httpx.get(f"{base}/api/jobs/{job_id}", timeout=10).json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


@pytest.mark.slow
def test_a_zip_bomb_fails_its_job_and_the_server_stays_small(bomb, data_dir, corpus_dir):
    """(The child's own memory and time limits are tested in tests/ingest/test_sandbox.py.)"""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = cli_env(POLICYQA_DATA_DIR=str(data_dir), POLICYQA_CORPUS_DIR=str(corpus_dir),
                  POLICYQA_EMBEDDER="hashing", POLICYQA_MAX_FILE_MB="5")
    proc = subprocess.Popen([sys.executable, "-m", "policyqa.cli", "serve", "--port", str(port)], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1].decode()
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        name = "bomb.docx"
        r = httpx.post(f"{base}/api/documents", files={"file": (name, bomb.read_bytes())}, timeout=60)
        assert r.status_code == 202, r.text
        job = wait_for(base, r.json()["job_id"])
        assert job["status"] == "failed" and "zip bomb" in job["message"] and name in job["message"], job
        assert str(data_dir) not in job["message"]
        assert peak_rss_mb(proc.pid) < SERVER_PEAK_LIMIT_MB
        assert httpx.get(f"{base}/health", timeout=10).json()["documents"] == 5  # still serving

        kept = [f["name"] for f in httpx.get(f"{base}/api/quarantine", timeout=10).json()]
        assert f"quarantine/{job['job_id']}/{name}" in kept
        assert not (data_dir / "uploads" / name).exists()  # out of uploads/: no reindex reads it again
        reindex = wait_for(base, httpx.post(f"{base}/api/reindex", timeout=10).json()["job_id"])
        assert reindex["status"] == "done", reindex
    finally:
        proc.terminate()
        proc.wait(timeout=30)
