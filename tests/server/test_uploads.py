"""Uploading, indexing, deleting and reindexing documents on a live server; names kept inside uploads/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import RENHUAI, REPO, cli_env, free_port, make_settings
from uploading import (
    LABOUR_DOC,
    LABOUR_ID,
    LABOUR_META,
    LABOUR_NAME,
    LABOUR_QUESTION,
    local_client,
    poll,
    upload,
)

from policyqa import service
from policyqa.service import QAService
from server.app import create_app
from server.uploads import UploadError, inside, safe_upload_name


def uploads_of(app) -> Path:
    return app.state.settings.data_dir / "uploads"


# -- file names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("政策文件.txt", "政策文件.txt"),
    ("dir/sub/政策文件.TXT", "政策文件.txt"),
    ("C-dir\\sub\\notice.pdf", "notice.pdf"),
    ("关于印发《方案》的通知(2024).docx", "关于印发《方案》的通知(2024).docx"),
    ("a;b|c*?.md", "a_b_c__.md"),
    ("./x.html", "x.html"),
])
def test_safe_names(raw, expected):
    assert safe_upload_name(raw) == expected


@pytest.mark.parametrize("raw,status", [
    ("../../x.txt", 422), ("a/../x.txt", 422), ("..\\..\\x.txt", 422), ("/etc/passwd", 422),
    ("/tmp/x.txt", 422), ("C:\\Windows\\x.txt", 422), ("a\x00b.txt", 422), ("a\nb.txt", 422),
    ("a\u202eb.txt", 422), (".hidden.txt", 422), ("README.md", 422), ("", 422), ("..", 422),
    ("x.exe", 415), ("x", 415), ("x.meta.json", 415), ("passwd", 415),
])
def test_unsafe_names_are_refused(raw, status):
    with pytest.raises(UploadError) as err:
        safe_upload_name(raw)
    assert err.value.status == status


def test_long_names_are_cut_to_fit():
    name = safe_upload_name("政" * 200 + ".txt")
    assert name.endswith(".txt") and len(name.encode()) <= 180


@pytest.mark.parametrize("raw", ["../../x.txt", "/etc/passwd", "a\x00b.txt", "..\\..\\x.txt", "/x.txt"])
def test_traversal_names_are_refused_over_http(hashing_app, local, tmp_path, raw):
    r = upload(local, raw, "一、总则\n测试内容足够长的一段政策文本，用于测试。".encode())
    assert r.status_code == 422, r.text
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "data" / "x.txt").exists()
    folder = uploads_of(hashing_app)
    assert not folder.exists() or not any(folder.iterdir())


def test_directories_in_a_name_are_stripped(hashing_app, local):
    r = upload(local, "some/dir/政策文件.txt", LABOUR_DOC.encode())
    assert r.status_code == 202, r.text
    assert r.json()["filename"] == "政策文件.txt"
    job = poll(local, r.json()["job_id"])
    assert job["status"] == "done", job
    folder = uploads_of(hashing_app)
    saved = folder / "政策文件.txt"
    assert saved.read_text(encoding="utf-8") == LABOUR_DOC
    assert all(inside(p, folder) for p in folder.rglob("*"))
    assert [p.name for p in folder.iterdir()] == ["政策文件.txt"]  # no staging file left, no sidecar


def test_unsupported_type_is_415(hashing_app, local):
    r = upload(local, "virus.exe", b"MZ\x90\x00")
    assert r.status_code == 415
    assert ".txt" in r.json()["detail"] and ".pdf" in r.json()["detail"]
    assert not uploads_of(hashing_app).exists()


def test_upload_over_file_limit_is_413(tmp_path, corpus_dir):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing",
                             max_file_mb=0.002, max_request_kb=4)
    app = create_app(None, settings)
    with local_client(app) as c:
        r = upload(c, "big.txt", "政策".encode() * 500)  # 3 KB: under the request limit, over the file limit
        assert r.status_code == 413 and "POLICYQA_MAX_FILE_MB" in r.json()["detail"]
        r = upload(c, "bigger.txt", b"x" * 20_000)  # over file + request limits: refused before it is read
        assert r.status_code == 413 and "POLICYQA_MAX_FILE_MB" in r.json()["detail"]
    folder = uploads_of(app)
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("metadata,fragment", [
    ("not json", "not valid JSON"), ('["a"]', "JSON object"), ('{"author": "x"}', "unknown metadata keys"),
    ('{"title": ["x"]}', "must be a string"), (json.dumps({"title": "长" * 501}), "over 500"),
])
def test_bad_metadata_is_422(hashing_app, local, metadata, fragment):
    r = upload(local, "doc.txt", LABOUR_DOC.encode(), metadata)
    assert r.status_code == 422 and fragment in r.json()["detail"]


def test_upload_needs_a_file_field(local):
    r = local.post("/api/documents", data={"metadata": "{}"}, files={"other": ("a.txt", b"x")})
    assert r.status_code == 422 and "'file'" in r.json()["detail"]


def test_name_of_a_corpus_document_is_409(local):
    r = upload(local, f"{RENHUAI}.txt", LABOUR_DOC.encode())
    assert r.status_code == 409 and "rename" in r.json()["detail"]


def test_unreadable_upload_fails_its_job_and_is_not_kept(hashing_app, local):
    r = upload(local, "broken.pdf", b"%PDF-1.4 not really a pdf")
    job = poll(local, r.json()["job_id"])
    assert job["status"] == "failed" and "broken.pdf" in job["message"]
    assert not (uploads_of(hashing_app) / "broken.pdf").exists()
    assert len(local.get("/api/documents").json()) == 5


# -- upload, replace, delete, reindex (hashing embedder) ------------------------------------------


def test_upload_writes_sidecar_and_swaps_the_service(hashing_app, local):
    before = hashing_app.state.service
    r = upload(local, LABOUR_NAME, LABOUR_DOC.encode(), LABOUR_META)
    assert r.status_code == 202
    body = r.json()
    assert body["status"] in ("queued", "running", "done") and body["doc_id"] == LABOUR_ID
    assert r.headers["location"] == body["url"] == f"/api/jobs/{body['job_id']}"
    job = poll(local, body["job_id"])
    assert job["status"] == "done" and LABOUR_ID in job["message"], job
    assert hashing_app.state.service is not before
    assert LABOUR_ID not in before.index.documents  # the old service was never changed in place
    sidecar = uploads_of(hashing_app) / "青溪县劳动教育实施方案.meta.json"
    assert json.loads(sidecar.read_text(encoding="utf-8")) == LABOUR_META
    listed = {d["doc_id"]: d for d in local.get("/api/documents").json()}
    assert listed[LABOUR_ID]["doc_number"] == "青教发〔2024〕9号" and listed[LABOUR_ID]["issuer"] == "青溪县教育局"
    assert local.get("/health").json()["documents"] == 6

    # The same name again replaces it (and without metadata the old sidecar goes).
    changed = LABOUR_DOC.replace("80万元", "95万元")
    job = poll(local, upload(local, LABOUR_NAME, changed.encode()).json()["job_id"])
    assert job["status"] == "done", job
    assert not sidecar.exists()
    assert "95万元" in local.get(f"/api/documents/{LABOUR_ID}").json()["text"]
    assert local.get("/health").json()["documents"] == 6

    # A .md with the same document id replaces the .txt file.
    changed = changed.replace("95万元", "99万元")
    job = poll(local, upload(local, "青溪县劳动教育实施方案.md", changed.encode()).json()["job_id"])
    assert job["status"] == "done" and "replaced 青溪县劳动教育实施方案.txt" in job["message"], job
    assert sorted(p.name for p in uploads_of(hashing_app).iterdir()) == ["青溪县劳动教育实施方案.md"]
    assert "99万元" in local.get(f"/api/documents/{LABOUR_ID}").json()["text"]

    # The same text again under yet another name: nothing to re-index, still one file, and delete removes it.
    job = poll(local, upload(local, LABOUR_NAME, changed.encode()).json()["job_id"])
    assert job["status"] == "done" and "nothing changed" in job["message"], job
    assert sorted(p.name for p in uploads_of(hashing_app).iterdir()) == [LABOUR_NAME]
    job = poll(local, local.delete(f"/api/documents/{LABOUR_ID}").json()["job_id"])
    assert job["status"] == "done", job
    assert not any(uploads_of(hashing_app).iterdir())


def test_delete_uploaded_and_corpus_documents(hashing_app, local, corpus_dir):
    job = poll(local, upload(local, LABOUR_NAME, LABOUR_DOC.encode(), LABOUR_META).json()["job_id"])
    assert job["status"] == "done"
    r = local.delete(f"/api/documents/{LABOUR_ID}")
    assert r.status_code == 202 and r.json()["kind"] == "delete"
    job = poll(local, r.json()["job_id"])
    assert job["status"] == "done" and "uploaded file was removed" in job["message"], job
    assert LABOUR_ID not in {d["doc_id"] for d in local.get("/api/documents").json()}
    assert local.get(f"/api/documents/{LABOUR_ID}").status_code == 404
    assert not any(uploads_of(hashing_app).iterdir())

    job = poll(local, local.delete(f"/api/documents/{RENHUAI}").json()["job_id"])
    assert job["status"] == "done" and "was kept" in job["message"]
    assert (corpus_dir / f"{RENHUAI}.txt").exists()
    assert local.get("/health").json()["documents"] == 4

    assert local.delete("/api/documents/no-such-doc").status_code == 404

    # POST /api/reindex brings the corpus document back.
    r = local.post("/api/reindex")
    assert r.status_code == 202
    job = poll(local, r.json()["job_id"])
    assert job["status"] == "done" and "the index has 5 documents" in job["message"], job
    assert RENHUAI in {d["doc_id"] for d in local.get("/api/documents").json()}
    job = poll(local, local.post("/api/reindex", json={"rebuild": False}).json()["job_id"])
    assert job["status"] == "done" and "nothing to do" in job["message"], job


def test_the_last_document_cannot_be_deleted(tmp_path, corpus_dir):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing")
    embedder = service.get_embedder(settings)
    service.ingest(settings, [corpus_dir / f"{RENHUAI}.txt"], embedder)
    with local_client(create_app(QAService(settings, embedder))) as c:
        r = c.delete(f"/api/documents/{RENHUAI}")
        assert r.status_code == 409 and "only document" in r.json()["detail"]


def test_first_upload_without_an_index(tmp_path, corpus_dir):
    """A server started before any ingest: the first upload builds the index and loads it."""
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing")
    app = create_app(None, settings)
    with local_client(app) as c:
        assert c.get("/health").json() == {"status": "no index"}
        job = poll(c, upload(c, LABOUR_NAME, LABOUR_DOC.encode()).json()["job_id"])
        assert job["status"] == "done", job
        assert c.get("/health").json()["documents"] == 1
        assert [d["doc_id"] for d in c.get("/api/documents").json()] == [LABOUR_ID]


def test_jobs_run_one_at_a_time_in_order(hashing_app, local):
    docs = [LABOUR_DOC.replace("青溪县", name) for name in ("甲县", "乙县", "丙县")]
    ids = [upload(local, f"{i}-plan.txt", d.encode()).json()["job_id"] for i, d in enumerate(docs)]
    jobs = [poll(local, j) for j in ids]
    assert [j["status"] for j in jobs] == ["done"] * 3
    for a, b in zip(jobs, jobs[1:], strict=False):
        assert a["finished_at"] <= b["started_at"]
    assert local.get("/health").json()["documents"] == 8
    assert [j["job_id"] for j in local.get("/api/jobs").json()[:3]] == ids[::-1]
    assert local.get("/api/jobs/nope").status_code == 404


# -- the real model: upload, ask, delete ----------------------------------------------------------


@pytest.fixture
def real_app(real_index, tmp_path):
    """The session's real index copied to a fresh data dir (the shared one is never changed)."""
    data = tmp_path / "data"
    shutil.copytree(real_index.settings.data_dir, data)
    settings = real_index.settings.model_copy(update={"data_dir": data})
    return create_app(QAService(settings, real_index.embedder))


@pytest.mark.slow
def test_uploaded_document_is_answered_from_then_deleted(real_app):
    with local_client(real_app) as c:
        before = c.post("/api/ask", json={"question": LABOUR_QUESTION}).json()
        assert all(cit["doc_id"] != LABOUR_ID for cit in before["citations"])

        r = upload(c, LABOUR_NAME, LABOUR_DOC.encode(), LABOUR_META)
        assert r.status_code == 202
        job = poll(c, r.json()["job_id"])
        assert job["status"] == "done", job

        docs = {d["doc_id"]: d for d in c.get("/api/documents").json()}
        assert LABOUR_ID in docs and docs[LABOUR_ID]["title"] == "青溪县中小学劳动教育实施方案"
        assert docs[LABOUR_ID]["n_clauses"] >= 8
        body = c.post("/api/ask", json={"question": LABOUR_QUESTION}).json()
        assert body["refused"] is False, body
        assert "7个" in body["answer"]
        assert body["citations"][0]["doc_id"] == LABOUR_ID
        assert body["citations"][0]["doc_number"] == "青教发〔2024〕9号"
        # the task clause is cited whole (it fits one chunk), the item with the answer in it
        assert "建设劳动实践基地" in body["citations"][0]["text"] and "7个" in body["citations"][0]["text"]
        who = c.post("/api/ask", json={"question": "青溪县哪个股室牵头开设劳动教育必修课?"}).json()
        assert who["refused"] is False and "基础教育股牵头" in who["citations"][0]["text"], who

        job = poll(c, c.delete(f"/api/documents/{LABOUR_ID}").json()["job_id"])
        assert job["status"] == "done", job
        assert LABOUR_ID not in {d["doc_id"] for d in c.get("/api/documents").json()}
        after = c.post("/api/ask", json={"question": LABOUR_QUESTION}).json()
        assert all(cit["doc_id"] != LABOUR_ID for cit in after["citations"])
        assert "7个" not in after["answer"]


# -- uploads survive a restart: `serve --ingest` reads uploads/ too --------------------------------


@pytest.mark.slow
def test_serve_ingest_includes_uploads(tmp_path, corpus_dir):
    data = tmp_path / "data"
    (data / "uploads").mkdir(parents=True)
    (data / "uploads" / LABOUR_NAME).write_text(LABOUR_DOC, encoding="utf-8")
    port = free_port()
    env = cli_env(POLICYQA_DATA_DIR=str(data), POLICYQA_CORPUS_DIR=str(corpus_dir),
                  POLICYQA_EMBEDDER="hashing", POLICYQA_LAWS_AT_START="never")  # the documents alone
    proc = subprocess.Popen([sys.executable, "-m", "policyqa.cli", "serve", "--ingest", "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.communicate()[1].decode()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json().get("status") == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.3)
        docs = httpx.get(f"http://127.0.0.1:{port}/api/documents", timeout=10).json()
        assert LABOUR_ID in {d["doc_id"] for d in docs} and len(docs) == 6
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert os.path.exists(data / "index" / "manifest.json")
