"""A .zip of attachments uploaded to a live server: each member indexed and cited, the archive kept in
uploads/; a member deleted is taken out of the archive; hostile archives fail their job naming archive and
member, and are quarantined (hashing embedder: quick)."""

from __future__ import annotations

import json
import zipfile

import pytest
from helpers import make_settings
from uploading import local_client, poll, upload
from zips import (
    ARCHIVE_SOURCE,
    LABOUR_MEMBER,
    LABOUR_ZIP_ID,
    PUCHENG_MEMBER,
    PUCHENG_ZIP_ID,
    QUESTIONS,
    RENHUAI_MEMBER,
    RENHUAI_ZIP_ID,
    ZIP_NAME,
    attachments,
    bomb_zip,
    with_symlink,
    write_zip,
)

from ingest.archives import members
from server.app import create_app
from server.uploads import safe_upload_name

PLAN = "某县课程建设方案\n一、工作目标\n到2025年,建成10所特色学校。\n二、经费保障\n每年安排专项经费50万元。\n".encode()


@pytest.fixture
def app(tmp_path):
    """A server started before any ingest: the first upload builds the index."""
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", embedder="hashing")
    return create_app(None, settings)


@pytest.fixture
def client(app):
    with local_client(app) as c:
        yield c


def uploads_of(app):
    return app.state.settings.data_dir / "uploads"


def test_zip_is_an_accepted_upload():
    assert safe_upload_name(f"some/dir/{ZIP_NAME}") == ZIP_NAME
    assert safe_upload_name("附件.ZIP") == "附件.zip"


def test_uploaded_attachments_are_indexed_cited_and_deleted_member_by_member(app, client, tmp_path):
    data = write_zip(tmp_path / ZIP_NAME, attachments()).read_bytes()
    metadata = {"source": ARCHIVE_SOURCE, "title": "不传给附件的标题"}  # the archive's: a title is not passed on
    r = upload(client, ZIP_NAME, data, metadata)
    assert r.status_code == 202, r.text
    job = poll(client, r.json()["job_id"])
    assert job["status"] == "done", job
    assert job["message"].startswith(f"indexed 3 documents from {ZIP_NAME}: ") and "the index has 3 documents" \
        in job["message"]
    assert LABOUR_MEMBER in job["message"] and "/tmp" not in job["message"]
    assert sorted(p.name for p in uploads_of(app).iterdir()) == sorted([ZIP_NAME, ZIP_NAME.replace(".zip", ".meta.json")])

    listed = {d["doc_id"]: d for d in client.get("/api/documents").json()}
    assert sorted(listed) == sorted(QUESTIONS)
    assert listed[LABOUR_ZIP_ID]["doc_number"] == "青教发〔2024〕9号" and listed[LABOUR_ZIP_ID]["n_clauses"] >= 8
    assert listed[RENHUAI_ZIP_ID]["n_records"] == 10 and listed[RENHUAI_ZIP_ID]["title"] == "仁怀市品牌学校创建工作实施方案"
    assert "不传给附件的标题" not in {d["title"] for d in listed.values()}
    labour = client.get(f"/api/documents/{LABOUR_ZIP_ID}").json()
    assert "全县建成县级劳动教育实践基地7个" in labour["text"]
    assert any(c["path"].startswith("二、主要任务 › (二)") for c in labour["clauses"])
    docs = app.state.service.index.documents
    assert {d.extra["member"] for d in docs.values()} == {LABOUR_MEMBER, RENHUAI_MEMBER, PUCHENG_MEMBER}
    assert {d.source for d in docs.values() if d.doc_id != RENHUAI_ZIP_ID} == {ARCHIVE_SOURCE}

    for doc_id, (question, fact) in QUESTIONS.items():
        body = client.post("/api/ask", json={"question": question}).json()
        assert body["refused"] is False and fact in body["answer"], body
        assert body["citations"][0]["doc_id"] == doc_id and fact in body["citations"][0]["text"]

    # The same archive again: nothing to do, no document twice.
    job = poll(client, upload(client, ZIP_NAME, data, metadata).json()["job_id"])
    assert job["status"] == "done" and "already indexed" in job["message"], job
    assert client.get("/health").json()["documents"] == 3

    # Deleting one document takes its member out of the uploaded archive: a reindex does not bring it back.
    job = poll(client, client.delete(f"/api/documents/{PUCHENG_ZIP_ID}").json()["job_id"])
    assert job["status"] == "done", job
    assert f"its member {PUCHENG_MEMBER} was removed from the uploaded archive {ZIP_NAME}" in job["message"]
    archive = uploads_of(app) / ZIP_NAME
    assert sorted(m.name for m in members(archive)) == sorted([LABOUR_MEMBER, RENHUAI_MEMBER,
                                                              RENHUAI_MEMBER.replace(".txt", ".meta.json")])
    job = poll(client, client.post("/api/reindex").json()["job_id"])
    assert job["status"] == "done" and "nothing to do" in job["message"], job
    assert sorted(d["doc_id"] for d in client.get("/api/documents").json()) == [LABOUR_ZIP_ID, RENHUAI_ZIP_ID]

    # A new version of the archive replaces the old one: its members, and only those, are indexed.
    newer = write_zip(tmp_path / "newer.zip", [(LABOUR_MEMBER.replace(".docx", ".txt"), PLAN)]).read_bytes()
    job = poll(client, upload(client, ZIP_NAME, newer).json()["job_id"])
    assert job["status"] == "done", job
    assert "dropped the members it no longer holds" in job["message"]
    assert [d["doc_id"] for d in client.get("/api/documents").json()] == [LABOUR_ZIP_ID]
    assert client.get(f"/api/documents/{LABOUR_ZIP_ID}").json()["text"].startswith("某县课程建设方案")
    assert sorted(p.name for p in uploads_of(app).iterdir()) == [ZIP_NAME]  # no set-aside copy, no sidecar


def test_a_member_that_fails_is_a_warning_when_others_go_in(app, client, tmp_path):
    data = write_zip(tmp_path / "x.zip", [("附件1.txt", PLAN), ("附件2.docx", b"PK\x03\x04 broken"),
                                          ("附件3.zip", b"PK\x05\x06" + b"\x00" * 18)]).read_bytes()
    job = poll(client, upload(client, "两个附件.zip", data).json()["job_id"])
    assert job["status"] == "done" and "indexed 1 documents from 两个附件.zip" in job["message"], job
    assert "2 left out" in job["message"]
    warnings = "\n".join(job["warnings"])
    assert "skipped: uploads/两个附件.zip/附件2.docx: not a readable .docx" in warnings
    assert "skipped: uploads/两个附件.zip/附件3.zip: an archive inside an archive is not unpacked (one level " \
        "only)" in warnings
    [held] = client.get("/api/quarantine").json()  # not read again while the archive stays the same
    assert held["name"] == "uploads/两个附件.zip" and held["message"].startswith("member 附件2.docx: not a readable")

    # the last document of an archive deleted: the archive goes, with its quarantine record
    poll(client, upload(client, "other.txt", PLAN.replace("某县".encode(), "他县".encode())).json()["job_id"])
    job = poll(client, client.delete("/api/documents/两个附件-附件1").json()["job_id"])
    assert job["status"] == "done" and "last document of the uploaded archive" in job["message"], job
    assert sorted(p.name for p in uploads_of(app).iterdir()) == ["other.txt"]
    assert client.get("/api/quarantine").json() == []


@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink", "bomb"])
def test_hostile_archives_fail_their_job_naming_archive_and_member(app, client, tmp_path, kind):
    good = [("附件1.txt", PLAN)]
    path = tmp_path / "bad.zip"
    if kind == "traversal":
        write_zip(path, [*good, ("../x.txt", PLAN)], gbk=False)
        member, what = "../x.txt", "points outside the archive"
    elif kind == "absolute":
        write_zip(path, [*good, ("/tmp/x.txt", PLAN)], gbk=False)
        member, what = "/tmp/x.txt", "points outside the archive"
    elif kind == "symlink":
        with_symlink(path, "x.txt", "/etc/passwd", good)
        member, what = "x.txt", "is a symbolic link"
    else:
        bomb_zip(path, "x.txt", 300, good)
        member, what = "x.txt", "zip bomb"
    job = poll(client, upload(client, "附件.zip", path.read_bytes()).json()["job_id"])
    assert job["status"] == "failed", job
    line = job["message"].split("; the file is kept as")[0]
    assert line.startswith("uploads/附件.zip: ") and member in line and what in line, job["message"]
    assert "\n" not in job["message"]
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "data" / "x.txt").exists()
    assert not any(uploads_of(app).iterdir())  # moved to quarantine/, nothing unpacked anywhere
    [kept] = client.get("/api/quarantine").json()
    assert kept["name"].startswith("quarantine/") and kept["name"].endswith("/附件.zip") and what in kept["message"]
    assert client.get("/health").json() == {"status": "no index"}


def test_gbk_names_reach_the_documents(app, client, tmp_path):
    data = write_zip(tmp_path / "g.zip", [("附件一：课程方案.txt", PLAN)]).read_bytes()
    with zipfile.ZipFile(tmp_path / "g.zip") as z:
        assert not z.infolist()[0].flag_bits & 0x800
    job = poll(client, upload(client, "通知附件.zip", data, json.dumps({"issuer": "某县教育局"})).json()["job_id"])
    assert job["status"] == "done", job
    [doc] = client.get("/api/documents").json()
    assert doc["doc_id"] == "通知附件-附件一-课程方案" and doc["issuer"] == "某县教育局"
