"""Retrieval quality on an eval set: Recall@1, Recall@5 and MRR by evidence, for dense, BM25 and hybrid
search (retrieval.search.Retriever) and for the naive LangChain pipeline (benches.naive)."""

from __future__ import annotations

from pathlib import Path

from benches.common import Ingested, log, progress, shown, table, verdict
from benches.naive import NaivePipeline
from evals.metrics import evidence_rank
from evals.run import load_eval_set
from policyqa.service import QAService

DEPTH = 10  # ranks beyond this count as misses (MRR over the top 10)
CONFIGS = ("dense", "bm25", "hybrid", "naive")
TARGET_POINTS = 25.0  # hybrid R@1 must beat naive R@1 by this many percentage points


def scores(ranks: list[int | None]) -> dict:
    n = max(len(ranks), 1)
    return {"recall@1": round(sum(1 for r in ranks if r and r <= 1) / n, 4),
            "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4), "n": len(ranks)}


def evaluate_set(eval_path: Path, ingested: Ingested) -> dict:
    items = [i for i in load_eval_set(eval_path) if i["answerable"]]
    retriever = QAService(ingested.settings, ingested.embedder).retriever
    naive = NaivePipeline.from_corpus([ingested.corpus_dir], ingested.embedder, ingested.embed_cache_dir,
                                      lambda it: progress(it, "embed naive chunks"))
    per_item = []
    for item in progress(items, f"quality {eval_path.name}"):
        ranks = {}
        for mode in ("dense", "bm25", "hybrid"):
            hits = retriever.search(item["question"], DEPTH, mode)
            ranked = [(h.chunk.doc_id, h.chunk.text) for h in hits]
            ranks[mode] = evidence_rank(item.get("evidence", []), item.get("doc_ids", []), ranked)
        ranks["naive"] = evidence_rank(item.get("evidence", []), item.get("doc_ids", []),
                                       naive.search(item["question"], DEPTH))
        per_item.append({"id": item["id"], "language": item.get("language", ""), "ranks": ranks})
    summary = {c: scores([r["ranks"][c] for r in per_item]) for c in CONFIGS}
    gain = round(100 * (summary["hybrid"]["recall@1"] - summary["naive"]["recall@1"]), 1)
    return {"eval_set": shown(eval_path), "corpus": shown(ingested.corpus_dir),
            "pipeline_chunks": ingested.manifest["n_chunks"], "naive_chunks": len(naive.texts),
            "chunking": ingested.manifest.get("chunking"), "summary": summary,
            "by_language": {lang: {c: scores([r["ranks"][c] for r in per_item if r["language"] == lang])
                                   for c in CONFIGS}
                            for lang in sorted({r["language"] for r in per_item})},
            "target": {"name": "hybrid R@1 - naive R@1 >= 25 points", "points": gain,
                       "met": gain >= TARGET_POINTS},
            "items": per_item}


def run_quality(sets: list[tuple[Path, Path]], ingest_corpus) -> list[dict]:
    """`ingest_corpus(corpus_dir)` returns the corpus ingested (an Ingested)."""
    results = []
    for eval_path, corpus_dir in sets:
        log(f"quality: {eval_path} over {corpus_dir}")
        results.append(evaluate_set(eval_path, ingest_corpus(corpus_dir)))
    return results


def report(results: list[dict]) -> str:
    out = []
    for res in results:
        s = res["summary"]
        out.append(f"Quality: {res['eval_set']} over {res['corpus']}/ (answerable items; "
                   f"{res['pipeline_chunks']} pipeline chunks, {res['naive_chunks']} naive chunks)")
        out.append(table(["config", "R@1", "R@5", "MRR", "n"],
                         [[c, s[c]["recall@1"], s[c]["recall@5"], s[c]["mrr"], s[c]["n"]] for c in CONFIGS]))
        t = res["target"]
        out.append(f"hybrid R@1 - naive R@1 = {t['points']:+.1f} points (target >= +{TARGET_POINTS:.0f}): "
                   f"{verdict(t['met'])}\n")
    return "\n".join(out)
