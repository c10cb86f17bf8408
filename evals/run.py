"""Run an eval set against the QA service and report retrieval, answer and refusal figures."""

from __future__ import annotations

import json
from pathlib import Path

from evals.metrics import answer_hit, evidence_rank, summarize
from policyqa.service import QAService

REQUIRED = ("id", "question", "answerable")


class EvalSetError(ValueError):
    pass


def load_eval_set(path: Path) -> list[dict]:
    items = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}:{lineno}: not valid JSON ({exc.msg}).") from exc
        missing = [k for k in REQUIRED if k not in item]
        if missing:
            raise EvalSetError(f"{path}:{lineno}: missing field(s) {', '.join(missing)}.")
        items.append(item)
    if not items:
        raise EvalSetError(f"{path}: no eval items found.")
    return items


def run_item(service: QAService, item: dict, depth: int = 10) -> dict:
    result = service.ask(item["question"])
    hits = service.search(item["question"], depth)  # a deeper list for Recall@5/MRR
    rank = evidence_rank(item.get("evidence", []), item.get("doc_ids", []),
                         [(h.chunk.doc_id, h.chunk.text) for h in hits]) if item["answerable"] else None
    return {
        "id": item["id"], "question": item["question"], "answerable": item["answerable"],
        "language": item.get("language", ""), "tags": item.get("tags", []), "rank": rank,
        "refused": result.answer.refused, "answerability": result.answer.answerability,
        "hit": item["answerable"] and not result.answer.refused
        and answer_hit(item.get("answer_terms", []), result.answer.answer),
        "answer": result.answer.answer, "latency_ms": result.latency_ms,
    }


def run_eval(service: QAService, items: list[dict], progress=None) -> dict:
    rows = [run_item(service, item) for item in (progress(items) if progress else items)]
    return {"summary": summarize(rows), "rows": rows}
