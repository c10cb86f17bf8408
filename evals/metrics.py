"""Pure metric functions over eval items and per-question result rows."""

from __future__ import annotations

import math
import statistics
import unicodedata


def norm(text: str) -> str:
    """Compare text the way ingest stores it: NFKC (full-width folded), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def relevant(evidence: list[str], doc_ids: list[str], doc_id: str, text: str) -> bool:
    """A retrieved chunk is relevant when it belongs to an expected document and holds some evidence."""
    if doc_ids and doc_id not in doc_ids:
        return False
    body = norm(text)
    return any(norm(e) in body for e in evidence)


def evidence_rank(evidence: list[str], doc_ids: list[str], ranked: list[tuple[str, str]]) -> int | None:
    """1-based rank of the first result (doc_id, text) that contains any evidence string, or None."""
    for rank, (doc_id, text) in enumerate(ranked, start=1):
        if relevant(evidence, doc_ids, doc_id, text):
            return rank
    return None


def ndcg(relevances: list[bool], n_relevant: int, k: int = 10) -> float:
    """Binary nDCG@k; the ideal ranking puts min(n_relevant, k) relevant results first."""
    dcg = sum(1 / math.log2(i + 2) for i, rel in enumerate(relevances[:k]) if rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(max(n_relevant, 1), k)))
    return dcg / ideal if ideal else 0.0


def answer_hit(terms: list[str], answer: str) -> bool:
    return all(norm(t) in norm(answer) for t in terms)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def summarize(rows: list[dict]) -> dict:
    """Aggregate per-question rows (see evals.run.run_item) into the report's figures."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in answerable if not r["refused"]]
    refused = [r for r in rows if r["refused"]]
    n = len(answerable)

    def recall(k: int) -> float | None:
        return _ratio(sum(1 for r in answerable if r["rank"] is not None and r["rank"] <= k), n)

    cited = [c for r in answered for c in r.get("citation_relevant", [])]
    sizes = [r["cited_chars"] for r in answered if r.get("cited_chars")]
    latencies = [r["latency_ms"] for r in rows]
    return {
        "n": len(rows), "n_answerable": n, "n_unanswerable": len(unanswerable),
        "recall@1": recall(1), "recall@5": recall(5), "recall@10": recall(10),
        "mrr": _ratio(sum(1 / r["rank"] for r in answerable if r["rank"]), n) if n else None,
        "ndcg@10": round(statistics.mean(r["ndcg"] for r in answerable), 4) if n else None,
        "answer_hit": _ratio(sum(1 for r in answerable if r["hit"]), n),
        # the clause the evidence is in is among the answer's citations (a refused question has none)
        "evidence_cited": _ratio(sum(1 for r in answered if any(r.get("citation_relevant", []))), n),
        "citation_precision": _ratio(sum(cited), len(cited)),
        "citation_chars_median": statistics.median(sizes) if sizes else None,
        "refusal_recall": _ratio(sum(1 for r in unanswerable if r["refused"]), len(unanswerable)),
        "refusal_precision": _ratio(sum(1 for r in refused if not r["answerable"]), len(refused)),
        "false_refusal_rate": _ratio(sum(1 for r in answerable if r["refused"]), n),
        "latency_p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "latency_p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
    }


def breakdown(rows: list[dict]) -> dict[str, dict]:
    """summarize() per tag and per language."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        for tag in r.get("tags", []):
            groups.setdefault(f"tag:{tag}", []).append(r)
        groups.setdefault(f"language:{r.get('language') or '?'}", []).append(r)
    return {name: summarize(group) for name, group in sorted(groups.items())}
