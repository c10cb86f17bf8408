"""Fixtures the server tests share."""

from __future__ import annotations

import pytest
from helpers import make_settings
from uploading import local_client

from policyqa import service
from policyqa.service import QAService
from server.app import create_app


@pytest.fixture
def hashing_app(tmp_path, corpus_dir):
    """A live app over the corpus indexed with the hashing embedder (about a second to build)."""
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing")
    embedder = service.get_embedder(settings)
    assert service.ingest(settings, [corpus_dir], embedder).report.ok
    return create_app(QAService(settings, embedder))


@pytest.fixture
def local(hashing_app):
    """A client of `hashing_app` from this machine (writes without a key need a loopback Host)."""
    with local_client(hashing_app) as c:
        yield c
