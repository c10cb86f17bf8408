"""No accepted document is lost: jobs are journaled and resumed, a failed re-upload keeps the version it
meant to replace, failed files are quarantined, and a server killed mid-job loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest
from helpers import EXTCORPUS, REPO, cli_env, free_port, make_settings
from uploading import LABOUR_DOC, LABOUR_ID, LABOUR_META, LABOUR_NAME, local_client, poll, upload

from ingest.pipeline import doc_id_for
from policyqa import service
from policyqa.service import QAService
from server.app import create_app
from server.jobs import Job, JobJournal
from server.uploads import staging_path

BROKEN_PDF = b"%PDF-1.4 not really a pdf"


@pytest.fixture
def settings(tmp_path, corpus_dir):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing")
    assert service.ingest(settings, [corpus_dir], service.get_embedder(settings)).report.ok
    return settings


def app_for(settings):
    return create_app(QAService(settings, service.get_embedder(settings)))


def uploads(settings):
    return settings.data_dir / "uploads"


def documents(client) -> set[str]:
    return {d["doc_id"] for d in client.get("/api/documents").json()}


def test_failed_reupload_keeps_the_indexed_version(settings):
    with local_client(app_for(settings)) as c:
        assert poll(c, upload(c, LABOUR_NAME, LABOUR_DOC.encode(), LABOUR_META).json()["job_id"])["status"] == "done"
        job = poll(c, upload(c, f"{LABOUR_ID}.pdf", BROKEN_PDF).json()["job_id"])
        assert job["status"] == "failed", job
        assert "not a readable PDF" in job["message"] and "still indexed" in job["message"], job
        assert str(settings.data_dir.resolve()) not in job["message"]  # no server paths for clients
        assert f"quarantine/{job['job_id']}/{LABOUR_ID}.pdf" in job["message"]
        # the old file and its sidecar are back; nothing hidden is left behind
        assert sorted(p.name for p in uploads(settings).iterdir()) == [
            f"{LABOUR_ID}.meta.json", LABOUR_NAME]
        assert LABOUR_ID in documents(c)
        # a reindex neither drops the document nor reads the failed file again
        job = poll(c, c.post("/api/reindex", json={"rebuild": False}).json()["job_id"])
        assert job["status"] == "done" and "6 documents" in job["message"], job
        assert LABOUR_ID in documents(c)
        failed = c.get("/api/quarantine").json()
        assert [f["name"] for f in failed] == [f"quarantine/{job_id}/{LABOUR_ID}.pdf"
                                               for job_id in [failed[0]["name"].split("/")[1]]]
        assert "not a readable PDF" in failed[0]["message"]
        assert (settings.data_dir / failed[0]["name"]).read_bytes() == BROKEN_PDF


def test_jobs_outlive_the_server(settings):
    with local_client(app_for(settings)) as c:
        job_id = upload(c, LABOUR_NAME, LABOUR_DOC.encode()).json()["job_id"]
        assert poll(c, job_id)["status"] == "done"
    with local_client(app_for(settings)) as c:  # a new process over the same data dir
        job = c.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "done" and LABOUR_ID in job["message"]
        assert job_id in [j["job_id"] for j in c.get("/api/jobs").json()]


def journal_upload(settings, name: str, content: bytes, status: str = "queued") -> Job:
    """What a killed server leaves behind: an accepted upload's staged file and its journal entry."""
    folder = uploads(settings)
    folder.mkdir(parents=True, exist_ok=True)
    job = Job("killed0job0" + name.encode().hex()[:5], "upload", doc_id_for(folder / name), status,
              payload={"staged": "", "target": name, "metadata": {}})
    staged = staging_path(folder, job.id, name)
    staged.write_bytes(content)
    job.payload["staged"] = staged.name
    if status == "running":
        job.started_at = job.created_at
    JobJournal(settings.data_dir / "jobs.db").save(job)
    return job


@pytest.mark.parametrize("status", ["queued", "running"])
def test_an_interrupted_upload_is_resumed_at_start(settings, status):
    job = journal_upload(settings, LABOUR_NAME, LABOUR_DOC.encode(), status)
    with local_client(app_for(settings)) as c:
        done = poll(c, job.id)
        assert done["status"] == "done" and LABOUR_ID in done["message"], done
        assert LABOUR_ID in documents(c)
    assert sorted(p.name for p in uploads(settings).iterdir()) == [LABOUR_NAME]


def test_a_kill_between_set_aside_and_placing_is_finished(settings):
    """Killed after the old version was set aside but before the new file was moved into place."""
    with local_client(app_for(settings)) as c:
        assert poll(c, upload(c, LABOUR_NAME, LABOUR_DOC.encode(), LABOUR_META).json()["job_id"])["status"] == "done"
    job = journal_upload(settings, f"{LABOUR_ID}.md", LABOUR_DOC.replace("80万元", "95万元").encode(), "running")
    for name in (LABOUR_NAME, f"{LABOUR_ID}.meta.json"):  # the set-aside step, done before the kill
        os.replace(uploads(settings) / name, uploads(settings) / f".{job.id}.{name}.replaced")
    with local_client(app_for(settings)) as c:
        assert poll(c, job.id)["status"] == "done"
        assert "95万元" in c.get(f"/api/documents/{LABOUR_ID}").json()["text"]
    assert sorted(p.name for p in uploads(settings).iterdir()) == [f"{LABOUR_ID}.md"]


def test_a_failed_resumed_upload_puts_the_old_version_back(settings):
    with local_client(app_for(settings)) as c:
        assert poll(c, upload(c, LABOUR_NAME, LABOUR_DOC.encode()).json()["job_id"])["status"] == "done"
    job = journal_upload(settings, f"{LABOUR_ID}.pdf", BROKEN_PDF, "running")
    folder = uploads(settings)
    os.replace(folder / LABOUR_NAME, folder / f".{job.id}.{LABOUR_NAME}.replaced")
    os.replace(folder / job.payload["staged"], folder / f"{LABOUR_ID}.pdf")  # placed, then killed
    # `make run` ingests corpus/ and uploads/ before the server resumes the job: the set-aside version is
    # hidden then, so that ingest drops the document; the failed job's rerun must bring it back.
    outcome = service.ingest(settings, [settings.corpus_dir, folder], service.get_embedder(settings), prune=True)
    assert outcome.deleted == [LABOUR_ID]
    with local_client(app_for(settings)) as c:
        failed = poll(c, job.id)
        assert failed["status"] == "failed" and "still indexed" in failed["message"], failed
        assert LABOUR_ID in documents(c)
    assert sorted(p.name for p in folder.iterdir()) == [LABOUR_NAME]


def test_an_upload_cut_off_before_it_was_accepted_is_reported(settings):
    folder = uploads(settings)
    folder.mkdir(parents=True)
    staging_path(folder, "deadbeef", "半截.txt").write_bytes("一、总则".encode())  # no journal entry: no 202 sent
    with local_client(app_for(settings)) as c:
        jobs = c.get("/api/jobs").json()
        assert jobs[0]["status"] == "failed" and "半截.txt" in jobs[0]["message"]
        assert "send it again" in jobs[0]["message"]
    assert not any(folder.iterdir())


def test_job_endpoints_need_the_key(tmp_path, corpus_dir):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing", api_key="k3y")
    with local_client(create_app(None, settings)) as c:
        for path in ("/api/jobs", "/api/jobs/abc", "/api/quarantine"):
            assert c.get(path).status_code == 401, path
            assert c.get(path, headers={"X-API-Key": "k3y"}).status_code in (200, 404), path


# -- a real kill -9 in the middle of an upload job -------------------------------------------------


def start_server(data, corpus, port) -> subprocess.Popen:
    env = cli_env(POLICYQA_DATA_DIR=str(data), POLICYQA_CORPUS_DIR=str(corpus))
    proc = subprocess.Popen([sys.executable, "-m", "policyqa.cli", "serve", "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.communicate()[1].decode()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json().get("status") == "ok":
                return proc
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.3)


@pytest.mark.slow
def test_a_server_killed_during_an_upload_job_loses_nothing(real_index, tmp_path):
    """The real model makes a 30 KB policy take seconds to embed: the server is killed (SIGKILL) while
    the job runs, then started again; the document ends indexed, or its job failed with the file kept."""
    data = tmp_path / "data"
    shutil.copytree(real_index.settings.data_dir, data)
    name = "05_nantong_meiyu_tiyu_shishi_yijian_2018.txt"
    content = (EXTCORPUS / name).read_bytes()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(data, real_index.settings.corpus_dir, port)
    try:
        r = httpx.post(f"{base}/api/documents", files={"file": (name, content)}, timeout=30)
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/api/jobs/{job_id}", timeout=10).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # into the embedding
        assert httpx.get(f"{base}/api/jobs/{job_id}", timeout=10).json()["status"] == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc = start_server(data, real_index.settings.corpus_dir, port)
    try:
        deadline = time.monotonic() + 300
        while (job := httpx.get(f"{base}/api/jobs/{job_id}", timeout=10).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        doc_id = doc_id_for(data / "uploads" / name)
        if job["status"] == "done":
            assert doc_id in {d["doc_id"] for d in httpx.get(f"{base}/api/documents", timeout=10).json()}
            assert (data / "uploads" / name).read_bytes() == content
        else:
            kept = json.dumps(httpx.get(f"{base}/api/quarantine", timeout=10).json(), ensure_ascii=False)
            assert name in kept, (job, kept)
        assert not [p.name for p in (data / "uploads").iterdir() if p.name.startswith(".")]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_same_text_under_another_name_is_refused(settings):
    """As the CLI does: one text, one document (a copy uploaded alone is compared with the index)."""
    with local_client(app_for(settings)) as c:
        assert poll(c, upload(c, LABOUR_NAME, LABOUR_DOC.encode()).json()["job_id"])["status"] == "done"
        job = poll(c, upload(c, "副本.txt", LABOUR_DOC.encode()).json()["job_id"])
        assert job["status"] == "failed" and "same text as uploads/" in job["message"], job
        assert f"indexed as '{LABOUR_ID}'" in job["message"]
        assert "副本" not in documents(c) and LABOUR_ID in documents(c)
        assert sorted(p.name for p in uploads(settings).iterdir()) == [LABOUR_NAME]
