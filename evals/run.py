"""Run eval sets against PolicyQA (in-process or a running server) and score every answer.

A "system" answers questions the way the API does: `ask(question) -> dict` (the /api/ask body) and
`search(question, k) -> [(doc_id, text)]`. Configurations compared side by side are systems too. A system
with `answers = False` (the naive baseline, evals/naive.py) only retrieves: its answer, citation, refusal
and latency figures are None (n/a), never zeros.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from evals.metrics import answer_hit, breakdown, evidence_rank, ndcg, norm, relevant, summarize

REQUIRED = ("id", "question", "answerable")
DEPTH = 10  # retrieval depth for Recall@10 / nDCG@10
# Figures that need an answer; n/a for a retrieval-only system.
ANSWER_METRICS = ("answer_hit", "evidence_cited", "citation_precision", "citation_chars_median", "refusal_recall", "refusal_precision",
                  "false_refusal_rate", "latency_p50_ms", "latency_p95_ms")
NOT_ANSWERED = "n/a (retrieval only)"


class EvalSetError(ValueError):
    pass


class System(Protocol):
    name: str

    def ask(self, question: str, history: list[dict] | None = None) -> dict: ...

    def search(self, question: str, k: int) -> list[tuple[str, str]]: ...


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


@dataclass
class LocalSystem:
    """The QA service in this process, in one retrieval mode and refusal threshold."""

    service: object  # policyqa.service.QAService
    mode: str = "hybrid"
    name: str = "hybrid"

    def ask(self, question: str, history: list[dict] | None = None) -> dict:
        return self.service.ask(question, mode=self.mode, history=history).to_dict()

    def search(self, question: str, k: int) -> list[tuple[str, str]]:
        return [(h.chunk.doc_id, h.chunk.text) for h in self.service.search(question, k, self.mode)]


@dataclass
class ServerSystem:
    """A running PolicyQA server, through its HTTP API."""

    url: str
    name: str = "server"
    timeout: float = 30.0

    def _post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(self.url.rstrip("/") + path, json.dumps(body).encode(),
                                         {"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.URLError as exc:
            raise ConnectionError(f"cannot reach {self.url}{path}: {exc}; is `policyqa serve` running?") from exc

    def ask(self, question: str, history: list[dict] | None = None) -> dict:
        return self._post("/api/ask", {"question": question} | ({"history": history} if history else {}))

    def search(self, question: str, k: int) -> list[tuple[str, str]]:
        return [(r["doc_id"], r["text"]) for r in self._post("/api/search", {"query": question, "top_k": k})["results"]]


def answers(system: System) -> bool:
    return getattr(system, "answers", True)


def conversation(system: System, history: list[dict]) -> list[dict]:
    """An item's earlier turns as messages. Given only the user turns, the system answers them in order (each
    with the turns before it), as in a real conversation; assistant turns the item gives are sent as they are."""
    if any(turn["role"] == "assistant" for turn in history):
        return history
    messages: list[dict] = []
    for turn in history:
        reply = system.ask(turn["content"], messages) if answers(system) else {"answer": ""}
        messages += [turn, {"role": "assistant", "content": reply["answer"]}]
    return messages


def run_item(system: System, item: dict) -> dict:
    history = conversation(system, item["history"]) if item.get("history") else None
    if answers(system):
        result = system.ask(item["question"], history) if history else system.ask(item["question"])
    else:  # placeholders; run_eval reports every figure built on them as n/a
        result = {"refused": False, "answer": NOT_ANSWERED, "latency_ms": 0.0, "citations": []}
    evidence, doc_ids = item.get("evidence", []), item.get("doc_ids", [])
    row = {
        "id": item["id"], "question": item["question"], "answerable": item["answerable"],
        "language": item.get("language", ""), "tags": item.get("tags", []), "evidence": evidence,
        "answer_terms": item.get("answer_terms", []), "rank": None, "ndcg": 0.0,
        "refused": result["refused"], "answer": result["answer"], "latency_ms": result["latency_ms"],
        # the refusal model's probability, so that a threshold can be tried on a report without a rerun
        "answerability": result.get("answerability"),
        "citations": [{"n": c["n"], "doc_id": c["doc_id"], "clause_path": c["clause_path"], "text": c["text"]}
                      for c in result["citations"]],
        "hit": False, "citation_relevant": [], "cited_chars": 0,
    }
    if history:  # a follow-up: scored on what it was understood as, searched the same way
        row["history"] = [t["content"] for t in history if t["role"] == "user"]
        row["resolved_question"] = result.get("resolved_question")
    if item["answerable"]:
        ranked = system.search(result.get("resolved_question") or item["question"], DEPTH)
        row["rank"] = evidence_rank(evidence, doc_ids, ranked)
        row["ndcg"] = ndcg([relevant(evidence, doc_ids, d, t) for d, t in ranked], len(evidence))
        if not result["refused"] and answers(system):
            row["hit"] = answer_hit(row["answer_terms"], result["answer"])
            row["citation_relevant"] = [relevant(evidence, doc_ids, c["doc_id"], c["text"])
                                        for c in result["citations"]]
            row["cited_chars"] = sum(len(norm(c["text"])) for c in result["citations"])
    return row


def run_eval(system: System, items: list[dict], progress=None) -> dict:
    rows = [run_item(system, item) for item in (progress(items) if progress else items)]
    summary, by_group = summarize(rows), breakdown(rows)
    if not answers(system):
        for figures in (summary, *by_group.values()):
            figures.update(dict.fromkeys(ANSWER_METRICS))
        for row in rows:
            row["latency_ms"] = row["refused"] = None
    return {"system": system.name, "answers": answers(system), "summary": summary, "by_group": by_group,
            "rows": rows}


def check_gate(summary: dict, thresholds: dict) -> list[str]:
    """Failures of a summary against {"metric": {"min": x} or {"max": x}}; empty when it passes."""
    failures = []
    for metric, bound in thresholds.items():
        value = summary.get(metric)
        if value is None:
            continue
        if "min" in bound and value < bound["min"]:
            failures.append(f"{metric} {value} < {bound['min']}")
        if "max" in bound and value > bound["max"]:
            failures.append(f"{metric} {value} > {bound['max']}")
    return failures
