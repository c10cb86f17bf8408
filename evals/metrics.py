"""Pure metric functions over eval items and the service's results."""

from __future__ import annotations

import statistics
import unicodedata


def norm(text: str) -> str:
    """Compare text the way ingest stores it: NFKC (full-width folded), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def evidence_rank(evidence: list[str], doc_ids: list[str], ranked: list[tuple[str, str]]) -> int | None:
    """1-based rank of the first result (doc_id, text) that contains any evidence string, or None."""
    wanted = [norm(e) for e in evidence]
    for rank, (doc_id, text) in enumerate(ranked, start=1):
        if doc_ids and doc_id not in doc_ids:
            continue
        if any(w in norm(text) for w in wanted):
            return rank
    return None


def answer_hit(terms: list[str], answer: str) -> bool:
    return all(norm(t) in norm(answer) for t in terms)


def summarize(rows: list[dict]) -> dict:
    """Aggregate per-question rows into the report's figures."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    n = max(len(answerable), 1)

    def recall(k: int) -> float:
        return sum(1 for r in answerable if r["rank"] is not None and r["rank"] <= k) / n

    refused_right = sum(1 for r in unanswerable if r["refused"])
    false_refusals = sum(1 for r in answerable if r["refused"])
    latencies = sorted(r["latency_ms"] for r in rows)
    return {
        "n": len(rows), "n_answerable": len(answerable), "n_unanswerable": len(unanswerable),
        "recall@1": round(recall(1), 4), "recall@5": round(recall(5), 4),
        "mrr": round(sum(1 / r["rank"] for r in answerable if r["rank"]) / n, 4),
        "answer_hit": round(sum(1 for r in answerable if r["hit"]) / n, 4),
        "refusal_recall": round(refused_right / max(len(unanswerable), 1), 4) if unanswerable else None,
        "false_refusal_rate": round(false_refusals / n, 4),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
    }
