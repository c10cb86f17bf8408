"""BM25's k1 and b chosen on folds (2026-12-03): never tuned since the index was built with bm25s's defaults
(k1 1.5, b 0.75), while the chunks here are law articles and policy clauses of very different lengths.

    .venv/bin/python -m evals.prototypes.bm25_params evals/seed.jsonl evals/extcorpus.jsonl … -o out.json

evals.folds as it is, restricted to the shipped variants (whole clauses with their parent's lead-in, the
normalised question, standardised sentence scores), with one more lexical variant per (k1, b): the service's
own BM25 list (synonyms, index words, collections ordered apart) from a BM25 matrix rebuilt with those
parameters over the same tokens, and the sentence ranking over that variant's candidates. Two families:
`shipped` (BM25 as built, weights free) and `+bm25params` (k1 and b free too). The weights' grid is narrowed
to k in (5, 10) and the document ranking to (0, 1) to keep the run under half an hour.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace

import numpy as np

import evals.folds as folds
from answer.normalise import normalise_question
from evals.metrics import norm
from evals.run import load_eval_set
from evals.session import corpus_key, set_corpora
from retrieval.embedders import make_embedder
from retrieval.stores import TokenTable, bm25_index

K1 = (0.6, 1.0, 1.5, 2.0)
B = (0.25, 0.5, 0.75, 1.0)
PARAMS = [(k1, b) for k1, b in itertools.product(K1, B) if (k1, b) != (1.5, 0.75)]


def variant(k1: float, b: float) -> str:
    return f"synonyms:k1={k1},b={b}"


def shipped_lists(retriever, q, chunks):
    """The question's evidence rows (set on it) and, under the shipped variants (whole clauses with their parent's
    lead-in, the normalised question), its text, rankings and dense lists."""
    q.relevant_rows["whole+parent"] = folds.evidence_rows(q.item, chunks)
    text = normalise_question(q.item["question"])
    ranked = retriever.rankings(text, "dense")
    return text, ranked, {name: found for name, found in ranked.lists.items() if name.startswith("dense")}


def collect(set_paths, root, log):
    """As evals.folds.collect, for the shipped index and query variants, with a BM25 list per (k1, b)."""
    embedder = make_embedder(folds.EMBEDDER)
    questions, retrievers, matrices = [], {}, {}
    for path in set_paths:
        corpora = set_corpora(path)
        items = [i for i in load_eval_set(path) if i["answerable"]]
        set_questions = [folds.Question(path.name, item, folds.style_of(item["question"])) for item in items]
        key = tuple(corpora)
        if key not in retrievers:
            log(f"index whole+parent over {corpora}")
            retrievers[key] = folds.ingest_variant(folds.INDEX_VARIANTS["whole+parent"], corpora, root, embedder)
            lexical = retrievers[key].index.lexical
            tokens = TokenTable.load(root / "whole+parent" / corpus_key(corpora) / "index" / "bm25")
            same = bm25_index(tokens, 1.5, 0.75).scores["data"]
            assert np.allclose(same, lexical.bm25.scores["data"]), "the rebuilt default differs from the index's"
            matrices[key] = {"default": lexical.bm25} | {
                variant(k1, b): bm25_index(tokens, k1, b) for k1, b in PARAMS}
        retriever = retrievers[key]
        lexical = retriever.index.lexical
        chunks = [(c.doc_id, norm(c.text)) for c in retriever.index.chunks]
        for q in set_questions:
            text, ranked, lists = shipped_lists(retriever, q, chunks)
            for name, matrix in matrices[key].items():
                lexical.bm25 = matrix
                lv = "synonyms" if name == "default" else name
                lists[f"bm25:{lv}"] = retriever.rankings(text, "bm25").lists["bm25"]
                candidates = {row for n in ("dense", "dense:use", f"bm25:{lv}") for row, _ in lists[n]}
                lists[f"sentences:standardised|{lv}"] = retriever.sentence_ranking(ranked.query_vec, candidates, True)
            lexical.bm25 = matrices[key]["default"]
            lists["sentences:standardised"] = lists["sentences:standardised|synonyms"]
            q.lists[("whole+parent", "normalised")] = lists
            q.doc_of["whole+parent"] = [doc_id for doc_id, _ in chunks]
        questions += set_questions
        log(f"{path.name}: {len(set_questions)} answerable questions")
    return questions


def fused_ranks(q, index, query, lexical, sentences="standardised"):
    """evals.folds.fused_ranks with the sentence ranking of the lexical variant's own candidates."""
    lists = q.lists[(index, query)]
    saved = lists["sentences:standardised"]
    lists["sentences:standardised"] = lists[f"sentences:standardised|{lexical}"]
    try:
        return ORIGINAL(q, index, query, lexical, sentences)
    finally:
        lists["sentences:standardised"] = saved


ORIGINAL = folds.fused_ranks


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepared(argv: list[str], description: str, splits: bool = False):
    """The arguments of a fold prototype (sets, --data, -o; --split with `splits`), the weights' grid narrowed to
    k in (5, 10) and the document ranking to (0, 1), fused_ranks taking each lexical variant's own sentence
    ranking, and the shipped family (weights free)."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=Path("data/folds"))
    if splits:
        parser.add_argument("--split", nargs="+", default=["sets"], choices=("sets", "documents"))
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if any(s.name.startswith("realq-holdout") for s in args.sets):
        raise SystemExit("the holdouts are not chosen on")
    keep = np.isin(folds.WEIGHTS[:, 5], (5, 10)) & np.isin(folds.WEIGHTS[:, 4], (0.0, 1.0))
    folds.WEIGHTS = folds.WEIGHTS[keep]
    folds.fused_ranks = fused_ranks
    base = folds.Family("shipped", ("whole+parent",), ("normalised",), ("synonyms",), folds.GRID["dense:use"],
                        doc_weights=(0.0, 1.0), sentence_weights=folds.GRID["sentences"], sentences=("standardised",),
                        note="as shipped, weights free")
    return args, base


def main(argv: list[str]) -> None:
    import json

    args, base = prepared(argv, __doc__)
    questions = collect(args.sets, args.data, log)
    params = replace(base, name="+bm25params", lexical=("synonyms", *(variant(k1, b) for k1, b in PARAMS)),
                     note="and BM25's k1 and b free")
    report = folds.leave_one_fold_out(questions, [base, params], log)
    args.output.write_text(json.dumps({"sets": [str(s) for s in args.sets], "k1": K1, "b": B, "families": report},
                                      ensure_ascii=False, indent=1), encoding="utf-8")
    folds.print_table(report)


if __name__ == "__main__":
    main(sys.argv[1:])
