"""Constants and small helpers shared by the tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from policyqa.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
DATA = REPO / "tests" / "data"  # small fixtures of the tests
EXTCORPUS = REPO / "evals" / "corpora" / "extcorpus"  # the external policies and laws, kept in the repository
LAWCORPUS = REPO / "evals" / "corpora" / "lawcorpus"  # fourteen national laws with sidecars

RENHUAI = "renhuai-brand-schools-2017"
BEIJING = "beijing-school-management-standards"
PUCHENG = "pucheng-quality-plan-2021-2023"
JINGYUAN = "jingyuan-new-quality-schools-plan"
ONE_BRAND = "one-school-one-brand-plan"
DOC_IDS = sorted([RENHUAI, BEIJING, PUCHENG, JINGYUAN, ONE_BRAND])


def make_settings(**kwargs) -> Settings:
    """Settings from arguments only: no .env file (env vars are cleared by `_isolate_env`)."""
    return Settings(_env_file=None, **kwargs)


def cli_env(**overrides: str) -> dict[str, str]:
    """The current environment without POLICYQA_* variables, plus the given overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env.update(overrides)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_in_thread(app, name: str = "uvicorn-test", **config):
    """Serve an ASGI app with uvicorn in a daemon thread on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, f"{name} server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
