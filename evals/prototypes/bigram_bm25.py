"""Character-bigram BM25 beside jieba's words, chosen on folds (2026-12-03).

    .venv/bin/python -m evals.prototypes.bigram_bm25 evals/seed.jsonl evals/extcorpus.jsonl … -o out.json
        [--split sets documents]

Why: Chinese IR has long indexed overlapping character bigrams instead of (or beside) segmented words: a
question's words and a statute's are cut differently by jieba ("开除学籍" and "开除", "监护人" and "监护"),
and a bigram index matches them without a dictionary. Never tried here. This runs evals.folds as it is,
restricted to the shipped variants (whole clauses with their parent's lead-in, the normalised question,
standardised sentence scores), with two more lexical variants: `bigram` (BM25 over the chunks' index texts
as overlapping CJK bigrams, ASCII words whole) in place of the service's BM25 list, and `synonyms+bigram`
(the service's list and the bigram list fused by RRF, k 60, into one lexical list). Each variant's sentence
ranking scores that variant's own candidates. Two families: `shipped` (lexical as built, weights free) and
`+bigram` (the lexical variant free too). The weights' grid is narrowed as in bm25_params.py.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import replace

import numpy as np

import evals.folds as folds
from evals.metrics import norm
from evals.prototypes.bm25_params import log, prepared, shipped_lists
from evals.run import load_eval_set
from evals.session import set_corpora
from retrieval.embedders import make_embedder
from retrieval.stores import LexicalStore

RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
VARIANTS = ("bigram", "synonyms+bigram")


def bigrams(text: str) -> list[str]:
    """Overlapping bigrams of each CJK run (a one-character run stays whole), ASCII words and numbers whole."""
    out = []
    for run in RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if run[0].isascii() or len(run) == 1:
            out.append(run)
        else:
            out += [run[i:i + 2] for i in range(len(run) - 1)]
    return out


def rrf(lists, k: int = 60, depth: int = 50):
    scores: dict[int, float] = {}
    for found in lists:
        for rank, (row, _) in enumerate(found, start=1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:depth]


def collect(set_paths, root, log):
    embedder = make_embedder(folds.EMBEDDER)
    questions, retrievers, stores = [], {}, {}
    for path in set_paths:
        corpora = set_corpora(path)
        items = [i for i in load_eval_set(path) if i["answerable"]]
        set_questions = [folds.Question(path.name, item, folds.style_of(item["question"]), fold=path.name)
                         for item in items]
        key = tuple(corpora)
        if key not in retrievers:
            log(f"index whole+parent over {corpora}")
            retrievers[key] = folds.ingest_variant(folds.INDEX_VARIANTS["whole+parent"], corpora, root, embedder)
            chunks = retrievers[key].index.chunks
            texts = [getattr(c, "index_text", "") or c.text for c in chunks]
            stores[key] = LexicalStore([bigrams(t) for t in texts])
        retriever, store = retrievers[key], stores[key]
        chunks = [(c.doc_id, norm(c.text)) for c in retriever.index.chunks]
        for q in set_questions:
            text, ranked, lists = shipped_lists(retriever, q, chunks)
            words = retriever.rankings(text, "bm25").lists["bm25"]
            grams = store.search(bigrams(text), retriever.candidates)
            by_variant = {"synonyms": words, "bigram": grams, "synonyms+bigram": rrf([words, grams])}
            for lv, found in by_variant.items():
                lists[f"bm25:{lv}"] = found
                candidates = {row for n in ("dense", "dense:use") for row, _ in lists[n]} | {r for r, _ in found}
                lists[f"sentences:standardised|{lv}"] = retriever.sentence_ranking(ranked.query_vec, candidates, True)
            lists["sentences:standardised"] = lists["sentences:standardised|synonyms"]
            q.lists[("whole+parent", "normalised")] = lists
            q.doc_of["whole+parent"] = [doc_id for doc_id, _ in chunks]
        questions += set_questions
        log(f"{path.name}: {len(set_questions)} answerable questions")
    return questions


def best_per_variant(base, questions) -> dict:
    """Each lexical variant alone, its weights chosen on every set: mean MRR@10 over the sets (equal weight)."""
    out = {}
    for lv in ("synonyms", *VARIANTS):
        chosen = folds.choose(replace(base, lexical=(lv,)), questions, {})
        by_set: dict[str, list[float]] = {}
        for q in questions:
            rank = folds.rank_under(q, chosen)
            by_set.setdefault(q.set_name, []).append(1 / rank if rank else 0.0)
        out[lv] = {"mrr": round(float(np.mean([np.mean(v) for v in by_set.values()])), 4),
                   "chosen": folds.describe(chosen["all"])}
    return out


def main(argv: list[str]) -> None:
    import json

    args, base = prepared(argv, __doc__, splits=True)
    questions = collect(args.sets, args.data, log)
    grams = replace(base, name="+bigram", lexical=("synonyms", *VARIANTS),
                    note="the lexical list may be character-bigram BM25, or it fused with the word list")
    report = {"best mean MRR per lexical variant (chosen on all sets)": best_per_variant(base, questions)}
    log(str(report))
    for split in args.split:  # as evals.folds.main
        groups = None
        if split == "documents":
            groups = folds.document_folds(questions)
        else:
            for q in questions:
                q.fold = q.set_name
        log(f"leaving out {split}")
        report[split] = folds.leave_one_fold_out(questions, [base, grams], log, groups)
        folds.print_table(report[split])
    args.output.write_text(json.dumps({"sets": [str(s) for s in args.sets], "families": report},
                                      ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
