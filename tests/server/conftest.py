"""Fixtures the server tests share."""

from __future__ import annotations

from pathlib import Path

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


# The end-to-end tests drive Debian's Chromium with Playwright (`make test` installs both).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the end-to-end browser tests need Debian's chromium "
                    "(`make test` installs it; by hand: apt-get install -y chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright's Python package is missing: pip install -e '.[test]' (or run `make test`)",
                    pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
