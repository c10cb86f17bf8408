"""Keys scoped to collections: a school's key reads and writes its own collection only, the admin key every one;
keys are stored hashed and managed with `policyqa keys`."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import zipfile

import pytest
from fastapi.testclient import TestClient
from helpers import BEIJING, CORPUS, RENHUAI, make_settings
from uploading import LABOUR_DOC, LABOUR_ID, LABOUR_META, LABOUR_NAME, LOCAL, poll, upload

from policyqa import service
from policyqa.keys import KeyStore, key_hash, keys_path
from policyqa.service import QAService
from server.app import create_app

SCHOOL, BUREAU = "学校制度", "教育局文件"
ADMIN_KEY = "admin-secret-for-tests"
RENHUAI_QUESTION = "哪个股室牵头实施特色创新课程构建工程?"  # answered by the renhuai plan: 教研室


@pytest.fixture(scope="module")
def scoped_index(tmp_path_factory) -> QAService:
    """The real corpus with collections in its sidecars: the Beijing school-management standards are the
    school's (学校制度), the four bureau plans the bureau's (教育局文件). Hashing embedder: about a second."""
    corpus = tmp_path_factory.mktemp("corpus")
    for path in CORPUS.iterdir():
        if path.name.endswith(".meta.json"):
            meta = json.loads(path.read_text(encoding="utf-8"))
            meta["collection"] = SCHOOL if path.name.startswith(BEIJING) else BUREAU
            (corpus / path.name).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        elif path.is_file():
            shutil.copy(path, corpus / path.name)
    settings = make_settings(data_dir=tmp_path_factory.mktemp("data"), corpus_dir=corpus, embedder="hashing")
    embedder = service.get_embedder(settings)
    assert service.ingest(settings, [corpus], embedder).report.ok
    return QAService(settings, embedder)


@pytest.fixture
def deployment(scoped_index, tmp_path):
    """An app with the admin key, a school key (writes 学校制度) and a bureau reader (reads 教育局文件); reads
    need a key. Returns (app, keys by name)."""

    def make(**overrides):
        data = tmp_path / "data"
        if not data.exists():  # the index of its own: uploads and deletes swap a new one in
            shutil.copytree(scoped_index.settings.data_dir / "index", data / "index")
        settings = scoped_index.settings.model_copy(update={"data_dir": data, "api_key": ADMIN_KEY,
                                                            "require_read_key": True} | overrides)
        store = KeyStore(keys_path(settings))
        keys = {"admin": ADMIN_KEY, "school": store.add("第一中学", [], [SCHOOL])[1],
                "reader": store.add("教育局-reader", [BUREAU], [])[1]}
        app = create_app(QAService(settings, scoped_index.embedder), settings)
        return app, keys

    return make


def auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def finished(client, response, key: str = ADMIN_KEY) -> str:
    """The status the job of `response` ends with, polled with `key`."""
    client.headers["X-API-Key"] = key
    try:
        return poll(client, response.json()["job_id"])["status"]
    finally:
        del client.headers["X-API-Key"]


def collections_of(client, key: str) -> set[str]:
    return {d["collection"] for d in client.get("/api/documents", headers=auth(key)).json()}


# -- reading --------------------------------------------------------------------------------------


def test_a_school_key_reads_only_its_collection(deployment):
    app, keys = deployment()
    with TestClient(app) as c:
        school, reader, admin = auth(keys["school"]), auth(keys["reader"]), auth(keys["admin"])
        docs = c.get("/api/documents", headers=school).json()
        assert [d["doc_id"] for d in docs] == [BEIJING] and docs[0]["collection"] == SCHOOL
        assert c.get(f"/api/documents?collection={BUREAU}", headers=school).json() == []
        assert collections_of(c, keys["reader"]) == {BUREAU}
        assert collections_of(c, keys["admin"]) == {SCHOOL, BUREAU}

        assert c.get(f"/api/documents/{BEIJING}", headers=school).status_code == 200
        r = c.get(f"/api/documents/{RENHUAI}", headers=school)  # as if it did not exist
        assert r.status_code == 404 and "GET /api/documents lists them" in r.json()["detail"]
        assert c.get(f"/api/documents/{RENHUAI}", headers=admin).status_code == 200

        # the bureau's question: the bureau reader gets the renhuai plan, the school only its own document
        hits = c.post("/api/search", json={"query": RENHUAI_QUESTION}, headers=reader).json()["results"]
        assert hits[0]["doc_id"] == RENHUAI
        hits = c.post("/api/search", json={"query": RENHUAI_QUESTION}, headers=school).json()["results"]
        assert hits and {h["doc_id"] for h in hits} == {BEIJING}
        answer = c.post("/api/ask", json={"question": RENHUAI_QUESTION}, headers=reader).json()
        assert "教研室" in answer["answer"] and answer["citations"][0]["doc_id"] == RENHUAI
        answer = c.post("/api/ask", json={"question": RENHUAI_QUESTION}, headers=school).json()
        assert "教研室" not in answer["answer"]
        assert {x["doc_id"] for x in answer["citations"]} <= {BEIJING}
        chat = c.post("/v1/chat/completions", headers=school,
                      json={"messages": [{"role": "user", "content": RENHUAI_QUESTION}]}).json()
        assert "教研室" not in chat["choices"][0]["message"]["content"]
        assert {x["doc_id"] for x in chat["citations"]} <= {BEIJING}

        # asking for a collection it does not read: said, not answered as if the documents were silent
        r = c.post("/api/ask", json={"question": RENHUAI_QUESTION, "filters": {"collections": [BUREAU]}},
                   headers=school)
        assert r.status_code == 403 and "第一中学" in r.json()["detail"] and SCHOOL in r.json()["detail"]
        # asking for both: the one it reads
        hits = c.post("/api/search", json={"query": RENHUAI_QUESTION, "filters": {"collections": [BUREAU, SCHOOL]}},
                      headers=school).json()["results"]
        assert {h["doc_id"] for h in hits} == {BEIJING}


def test_reads_need_a_known_key_when_required(deployment):
    app, keys = deployment()
    with TestClient(app) as c:
        for headers in ({}, auth("pqa_not-a-key")):
            r = c.post("/api/ask", json={"question": RENHUAI_QUESTION}, headers=headers)
            assert r.status_code == 401 and "X-API-Key" in r.json()["detail"], r.text
            assert c.get("/api/documents", headers=headers).status_code == 401
            assert c.post("/v1/chat/completions", headers=headers,
                          json={"messages": [{"role": "user", "content": "x"}]}).status_code == 401
        assert c.get("/api/documents", headers={"X-API-Key": keys["school"]}).status_code == 200


def test_without_require_read_key_reads_stay_open(deployment):
    app, _ = deployment(require_read_key=False)
    with TestClient(app) as c:  # OpenAI clients send some key: it is not held against them
        for headers in ({}, auth("unused")):
            assert {d["collection"] for d in c.get("/api/documents", headers=headers).json()} == {SCHOOL, BUREAU}
        hits = c.post("/api/search", json={"query": RENHUAI_QUESTION}).json()["results"]
        assert hits[0]["doc_id"] == RENHUAI


# -- writing --------------------------------------------------------------------------------------


def test_a_school_key_cannot_write_another_collection(deployment):
    app, keys = deployment()
    with TestClient(app, client=LOCAL, base_url="http://127.0.0.1") as c:
        school, reader, admin = auth(keys["school"]), auth(keys["reader"]), auth(keys["admin"])
        content = LABOUR_DOC.encode()
        # into another collection: refused before anything is saved
        r = upload(c, LABOUR_NAME, content, LABOUR_META | {"collection": BUREAU}, **school)
        assert r.status_code == 403 and BUREAU in r.json()["detail"] and SCHOOL in r.json()["detail"]
        r = upload(c, LABOUR_NAME, content, LABOUR_META | {"collection": "国家法律"}, **admin)
        assert r.status_code == 422 and "laws import" in r.json()["detail"]
        assert upload(c, LABOUR_NAME, content, LABOUR_META, **reader).status_code == 403  # reads only
        # a key-less write from this machine: not while the server has keys
        assert upload(c, LABOUR_NAME, content, LABOUR_META).status_code == 401
        assert not list((app.state.settings.data_dir / "uploads").glob("*.txt"))

        # into its own: its only collection when the metadata names none
        r = upload(c, LABOUR_NAME, content, LABOUR_META, **school)
        assert r.status_code == 202, r.text
        assert finished(c, r) == "done"
        doc = c.get(f"/api/documents/{LABOUR_ID}", headers=school).json()
        assert doc["collection"] == SCHOOL
        assert c.get(f"/api/documents/{LABOUR_ID}", headers=reader).status_code == 404
        assert c.get(f"/api/jobs/{r.json()['job_id']}", headers=school).json()["status"] == "done"
        assert [j["doc_id"] for j in c.get("/api/jobs", headers=school).json()] == [LABOUR_ID]

        # deleting the bureau's document: 403 naming its collection; the admin key may
        r = c.delete(f"/api/documents/{RENHUAI}", headers=school)
        assert r.status_code == 403 and f"in '{BUREAU}'" in r.json()["detail"]
        assert c.delete(f"/api/documents/{RENHUAI}", headers=reader).status_code == 403
        # index-wide changes are the admin's
        r = c.post("/api/reindex", headers=school)
        assert r.status_code == 403 and "admin key" in r.json()["detail"]
        assert c.post("/api/laws/import", headers=school).status_code == 403
        assert c.get("/api/quarantine", headers=school).status_code == 403
        assert c.get("/api/quarantine", headers=admin).status_code == 200

        # the admin uploads into the bureau's collection; the school may not replace that upload
        notice = content + "\n本通知由县教育局办公室负责解释。\n".encode()  # not the same text: refused as a copy
        r = upload(c, "教育局通知.txt", notice, {"title": "青溪县劳动教育通知", "collection": BUREAU}, **admin)
        assert finished(c, r) == "done"
        r = upload(c, "教育局通知.txt", notice, {"collection": SCHOOL}, **school)
        assert r.status_code == 403 and "may not replace" in r.json()["detail"]

        r = c.delete(f"/api/documents/{LABOUR_ID}", headers=school)
        assert r.status_code == 202
        assert finished(c, r) == "done"
        r = c.delete(f"/api/documents/{RENHUAI}", headers=admin)
        assert finished(c, r) == "done"
        assert RENHUAI not in {d["doc_id"] for d in c.get("/api/documents", headers=admin).json()}
        # the school's job list: its upload and delete, none of the admin's
        assert {(j["kind"], j["doc_id"]) for j in c.get("/api/jobs", headers=school).json()} == \
            {("upload", LABOUR_ID), ("delete", LABOUR_ID)}


def test_an_archive_member_stays_in_the_uploads_collection(deployment):
    """A member's own sidecar cannot move it into a collection the uploading key does not write."""
    app, keys = deployment()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("劳动教育实施方案.txt", LABOUR_DOC)
        z.writestr("劳动教育实施方案.meta.json", json.dumps({"title": "青溪县中小学劳动教育实施方案",
                                                         "collection": BUREAU}, ensure_ascii=False))
    with TestClient(app, headers=auth(keys["school"])) as c:
        r = upload(c, "附件.zip", buffer.getvalue())
        assert r.status_code == 202, r.text
        assert poll(c, r.json()["job_id"])["status"] == "done"
        docs = {d["title"]: d["collection"] for d in c.get("/api/documents").json()}
        assert docs["青溪县中小学劳动教育实施方案"] == SCHOOL


# -- the keys ---------------------------------------------------------------------------------------


def test_keys_are_stored_hashed(deployment):
    app, keys = deployment()
    path = keys_path(app.state.settings)
    text = path.read_text(encoding="utf-8")
    assert keys["school"] not in text and keys["reader"] not in text
    stored = {k["name"]: k for k in json.loads(text)}
    assert stored["第一中学"]["key_sha256"] == key_hash(keys["school"])
    assert (stored["第一中学"]["read"], stored["第一中学"]["write"]) == ([], [SCHOOL])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_cli_adds_lists_and_revokes_keys(run_cli, deployment, tmp_path):
    app, _ = deployment()
    env = {"POLICYQA_DATA_DIR": str(app.state.settings.data_dir)}
    added = run_cli("keys", "add", "第二中学", "--write", SCHOOL, "--read", BUREAU, **env)
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert key.startswith("pqa_") and "not shown again" in added.stderr
    listed = [json.loads(line) for line in run_cli("keys", "list", "--json", **env).stdout.splitlines()]
    assert {k["name"] for k in listed} == {"第一中学", "教育局-reader", "第二中学"}
    assert all(key not in json.dumps(k) for k in listed)
    mine = next(k for k in listed if k["name"] == "第二中学")
    assert (mine["read"], mine["write"], mine["admin"]) == ([BUREAU], [SCHOOL], False)
    with TestClient(app, headers=auth(key)) as c:  # the running server sees the new key, then its revocation
        assert collections_of(c, key) == {SCHOOL, BUREAU}
        revoked = run_cli("keys", "revoke", "第二中学", **env)
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        assert c.get("/api/documents").status_code == 401
    again = run_cli("keys", "revoke", "第二中学", **env)
    assert again.returncode == 1 and "policyqa keys list" in again.stderr
    taken = run_cli("keys", "add", "第一中学", "--read", SCHOOL, **env)
    assert taken.returncode == 1 and "exists" in taken.stderr
    empty = run_cli("keys", "add", "nobody", **env)
    assert empty.returncode == 1 and "--read" in empty.stderr


def test_index_wide_records_are_the_admins(deployment):
    """The conversation log, approved answers, feedback and eval drafts span every collection: a school's
    writing key must not read them (another school's questions and answers are in them)."""
    app, keys = deployment()
    with TestClient(app) as c:
        c.post("/api/ask", json={"question": RENHUAI_QUESTION}, headers=auth(keys["reader"]))  # logged
        for path in ("/api/log", "/api/curated", "/api/feedback", "/api/eval/drafts"):
            r = c.get(path, headers=auth(keys["school"]))
            assert r.status_code == 403 and "admin key" in r.json()["detail"], (path, r.text)
            assert c.get(path, headers=auth(keys["admin"])).status_code == 200, path
        logged = c.get("/api/log", headers=auth(keys["admin"])).json()
        assert RENHUAI_QUESTION in json.dumps(logged, ensure_ascii=False)
