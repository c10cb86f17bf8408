"""Constants and small helpers shared by the tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import os
from pathlib import Path

from policyqa.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"

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
