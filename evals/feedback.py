"""Feedback (POST /api/feedback, stored as JSONL) turned into draft eval items for review."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def read_feedback(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn last line after a crash: skip it, keep the rest
    return rows


def draft_from_feedback(fb: dict) -> dict | None:
    """A draft eval item (evals/README.md's fields) from one feedback record; None without a question. What a
    reviewer must fill in (answerable, evidence, answer terms) is left empty; the feedback is under `review`."""
    question = (fb.get("question") or "").strip()
    if not question:
        return None
    english = sum(ch.isascii() and ch.isalpha() for ch in question) > len(question) / 2
    cited = [c.get("doc_id") for c in fb.get("citations", []) if c.get("doc_id")]
    review = {"answer_given": fb.get("answer", ""), "comment": fb.get("comment", ""),
              "refused": fb.get("refused"), "at": fb.get("at", "")}
    if fb.get("reason"):
        review["reason"] = fb["reason"]
    return {
        "id": "fb-" + hashlib.sha1(question.encode()).hexdigest()[:8], "question": question,
        "language": "en" if english else "zh", "answerable": None, "doc_ids": sorted(set(cited)),
        "evidence": [], "answer_terms": [], "tags": ["from-feedback"] + (["english"] if english else []),
        "review": review,
    }


def drafts_from_feedback(path: Path) -> list[dict]:
    """One draft per distinct thumbs-down question. What a reviewer must fill in is left empty."""
    seen, drafts = set(), []
    for fb in read_feedback(path):
        draft = draft_from_feedback(fb) if fb.get("rating") == "down" else None
        if draft is None or draft["question"] in seen:
            continue
        seen.add(draft["question"])
        drafts.append(draft)
    return drafts
