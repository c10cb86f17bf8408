"""The all-Milvus store (POLICYQA_STORE=milvus): dense vectors and BM25 (a Function(BM25) over the chunk texts
with a jieba analyzer) in one Milvus collection; filters as Milvus expressions; two `policyqa serve`
processes on one Milvus server answer alike and see each other's uploads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from helpers import PUCHENG, RENHUAI, REPO, cli_env, free_port, make_settings
from uploading import LABOUR_DOC, LABOUR_ID, LABOUR_META, LABOUR_NAME, LABOUR_QUESTION, multipart

from policyqa import service
from policyqa.service import QAService, index_dir
from retrieval.embedders import make_embedder
from retrieval.filters import SearchFilters
from retrieval.index import manifest_version
from retrieval.milvus_store import MilvusLexicalStore, MilvusStore

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"


@pytest.fixture(scope="module")
def milvus_qa(tmp_path_factory, corpus_dir) -> QAService:
    hashing_embedder = make_embedder("hashing")
    data = tmp_path_factory.mktemp("all_milvus")
    settings = make_settings(data_dir=data, corpus_dir=corpus_dir, embedder="hashing", vector_store="milvus")
    outcome = service.ingest(settings, [corpus_dir], hashing_embedder)
    assert outcome.report.ok and outcome.manifest["lexical_store"] == "milvus"
    return QAService(settings, hashing_embedder)


def test_bm25_lives_in_milvus_and_finds_the_clause(milvus_qa):
    index = milvus_qa.index
    assert isinstance(index.lexical, MilvusLexicalStore) and index.dense.bm25
    assert not (index.path / "bm25").exists()  # no bm25s files: a server holds no lexical index of its own
    hits = milvus_qa.search(QUESTION, 3, "bm25")
    assert hits[0].chunk.doc_id == RENHUAI and "特色创新课程构建工程" in hits[0].chunk.text
    assert "教研室" in " ".join(h.chunk.text for h in hits)
    assert "教研室" in milvus_qa.ask(QUESTION).answer.answer
    # a raw text works as well as tokens; a query of stop words only finds nothing
    assert index.lexical.search("特色创新课程构建工程", 3)[0][0] == index.lexical.search(["特色", "创新", "课程"], 3)[0][0]
    assert index.lexical.search([], 3) == [] and index.lexical.search(" ", 3) == []


def test_filters_are_milvus_expressions(milvus_qa):
    only = SearchFilters(doc_ids=[PUCHENG])
    for mode in ("bm25", "dense", "hybrid"):
        hits = milvus_qa.search("课程建设 牵头", 5, mode, only)
        assert hits and {h.chunk.doc_id for h in hits} == {PUCHENG}, mode
    dense = milvus_qa.index.dense
    doc_of = dense.doc_of
    rows = lambda docs: np.flatnonzero(np.isin(doc_of, list(docs)))  # noqa: E731
    assert dense.filter_for(rows([PUCHENG])) == f'doc_id in ["{PUCHENG}"]'
    others = set(doc_of) - {RENHUAI}
    assert dense.filter_for(rows(others)) == f'doc_id not in ["{RENHUAI}"]'  # the shorter list
    assert dense.filter_for(np.arange(len(doc_of))) == ""
    assert dense.filter_for(np.array([0, 1])) == "id in [0, 1]"  # not whole documents: by row
    assert dense.filter_for(np.arange(2, len(doc_of))) == "id not in [0, 1]"
    assert milvus_qa.index.lexical.search("课程", 5, np.array([], np.int64)) == []


def test_previous_collection_stays_for_replicas_until_the_next_build(tmp_path, corpus_dir, hashing_embedder):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing",
                             vector_store="milvus")
    names = []
    for _ in range(3):
        service.ingest(settings, [corpus_dir], hashing_embedder, rebuild=True)
        names.append(QAService(settings, hashing_embedder).index.dense.collection)
    client = MilvusStore.load(index_dir(settings) / "dense.milvus.json").client
    assert not client.has_collection(names[0])  # dropped by the third build
    assert client.has_collection(names[1]) and client.has_collection(names[2])
    assert manifest_version(index_dir(settings)) == QAService(settings, hashing_embedder).index.version


def test_store_setting_alias(monkeypatch):
    monkeypatch.setenv("POLICYQA_STORE", "milvus")
    assert make_settings().vector_store == "milvus"
    monkeypatch.delenv("POLICYQA_STORE")
    monkeypatch.setenv("POLICYQA_VECTOR_STORE", "milvus")
    assert make_settings().vector_store == "milvus"


# -- two replicas on one Milvus server ----------------------------------------------------------------------


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.communicate()[1].decode()[-3000:]
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not come up"
        time.sleep(0.3)


def milvus_server(folder, port) -> subprocess.Popen:
    """Milvus Lite served to many processes: one process opens its folder (it holds a lock on it) and
    answers over gRPC, as a Milvus server would."""
    return subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(folder),
                             "--port", str(port)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ask(base: str, question: str) -> dict:
    r = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.slow
def test_two_replicas_on_one_milvus_answer_alike_and_see_each_others_uploads(tmp_path, corpus_dir):
    milvus_port, ports = free_port(), [free_port(), free_port()]
    milvus = milvus_server(tmp_path / "milvus", milvus_port)
    procs = []
    try:
        uri = f"http://127.0.0.1:{milvus_port}"
        deadline = time.monotonic() + 60
        while True:  # the gRPC port answers once the server is up
            assert milvus.poll() is None, milvus.communicate()[1].decode()[-3000:]
            try:
                MilvusStore(uri, "probe").client.list_collections()
                break
            except Exception:  # noqa: BLE001 - not listening yet
                assert time.monotonic() < deadline, "milvus-lite server did not come up"
                time.sleep(0.3)
        corpus = tmp_path / "corpus"
        shutil.copytree(corpus_dir, corpus)
        env = cli_env(POLICYQA_DATA_DIR=str(tmp_path / "data"), POLICYQA_CORPUS_DIR=str(corpus),
                      POLICYQA_EMBEDDER="hashing", POLICYQA_STORE="milvus", POLICYQA_MILVUS_URI=uri)
        built = subprocess.run([sys.executable, "-m", "policyqa.cli", "ingest"], cwd=REPO, env=env,
                               capture_output=True, timeout=300)
        assert built.returncode == 0, built.stderr.decode()[-3000:]
        for port in ports:
            procs.append(subprocess.Popen([sys.executable, "-m", "policyqa.cli", "serve", "--port", str(port)],
                                          cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for base, proc in zip(bases, procs, strict=True):
            wait_up(f"{base}/health", proc)

        first, second = (ask(base, QUESTION) for base in bases)
        assert "教研室" in first["answer"]
        assert first["answer"] == second["answer"]
        assert [s["chunk_id"] for s in first["citations"]] == [s["chunk_id"] for s in second["citations"]]

        # an upload through the first replica is answered by the second
        body, headers = multipart(LABOUR_NAME, LABOUR_DOC.encode(), json.dumps(LABOUR_META, ensure_ascii=False))
        r = httpx.post(f"{bases[0]}/api/documents", content=body, headers=headers, timeout=60)
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        deadline = time.monotonic() + 180
        while (job := httpx.get(f"{bases[0]}/api/jobs/{job_id}", timeout=10).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.3)
        assert job["status"] == "done", job
        answers = [ask(base, LABOUR_QUESTION) for base in bases]
        assert "7" in answers[1]["answer"], answers[1]
        assert answers[0]["answer"] == answers[1]["answer"]
        assert any(s["doc_id"] == LABOUR_ID for s in answers[1]["citations"])
        docs = httpx.get(f"{bases[1]}/api/documents", timeout=10).json()
        assert LABOUR_ID in {d["doc_id"] for d in docs}
        healths = [httpx.get(f"{base}/health", timeout=10).json() for base in bases]
        assert healths[0] == healths[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        milvus.terminate()
        milvus.wait(timeout=30)
