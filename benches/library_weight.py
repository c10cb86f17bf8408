"""Choose a prior on the law library's articles on folds, with the library loaded: the library's weight in
fusion (settings.library_weight), or the weight of its laws outside the education scope
(settings.library_outside_scope_weight, `--setting`).

    .venv/bin/python -m benches.library_weight [--data data/bench-laws] [--weights 1 0.85 0.7 0.55 0.4]
    .venv/bin/python -m benches.library_weight --setting library_outside_scope_weight \
        --library-set evals/realq-library-dev.jsonl --out benches/results/outside-scope-weight.json

Run `python -m benches.laws` first: it builds the crowded indexes (each eval set's corpus with the whole
library beside it) and the embedding cache this bench shares.

Two conditions, since a prior on the library has a cost on each side:
- crowded: each dev set over its own corpus plus the library. The evidence is in the corpus's files, so a
  lower weight can only help here; this is the issue's "lose at most 0.03 answer hit" condition.
- library-sourced: the extcorpus sets over the extcorpus policies with their national laws taken from the
  library instead of from files (the deployment the library is for: a bureau uploads its own policies and
  imports the laws). Each item's expected documents are mapped to the library's version of the same law.
  Most real questions (realq-dev) are answered by laws, so here a lower weight can only hurt.

- library-answered (`--library-set`): real questions of school staff, parents and pupils whose answer is in a
  law outside the education scope (消费者权益保护法 on a training centre's refund, 兵役法 on a student's
  enlistment), over the library-sourced index: a lower outside-scope weight can only hurt here.

For each set left out, the weight is the one with the best mean answer hit over the other sets' conditions;
the left-out set's figures under that weight are reported next to those under weight 1 (no prior).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from benches.common import ROOT, log, machine_info, shown
from benches.laws import SETS, build, share_cache

LAW_FILES = ("10_jiaoyufa_2021.txt", "11_yiwu_jiaoyufa_2018.txt")  # extcorpus's national laws, as files
SOURCED_SETS = ("extcorpus.jsonl", "holdout-ext.jsonl", "realq-dev.jsonl", "realq-dev2.jsonl")
METRICS = ("recall@1", "answer_hit", "false_refusal_rate", "refusal_recall")


def library_sourced_corpus(data: Path) -> Path:
    """extcorpus without its national-law files (symlinks, so the documents keep their ids)."""
    folder = data / "extcorpus-policies"
    folder.mkdir(parents=True, exist_ok=True)
    for f in (ROOT / "evals/corpora/extcorpus").iterdir():
        link = folder / f.name
        if f.name not in LAW_FILES and f.is_file() and not link.exists():
            link.symlink_to(f.resolve())
    return folder


def map_to_library(items: list[dict], file_docs: dict, library_docs: dict) -> list[dict]:
    """Items whose expected documents are law files, pointed at the library's version of the same law."""
    from retrieval.filters import LAWS, collection_of, law_name

    by_name = {law_name(d.title): doc_id for doc_id, d in library_docs.items()
               if collection_of(d) == LAWS and "@" not in doc_id}  # the version in force
    mapped = []
    for item in items:
        ids = []
        for doc_id in item.get("doc_ids", []):
            if doc_id in library_docs:
                ids.append(doc_id)
            elif doc_id in file_docs and law_name(file_docs[doc_id].title) in by_name:
                ids.append(by_name[law_name(file_docs[doc_id].title)])
            elif law_name(doc_id) in by_name:  # a library-answered item names the law itself
                ids.append(by_name[law_name(doc_id)])
            else:
                ids.append(doc_id)
        mapped.append({**item, "doc_ids": ids})
    return mapped


def figures(settings, items: list[dict], embedder) -> dict:
    from evals.run import LocalSystem, run_eval
    from policyqa.service import QAService

    summary = run_eval(LocalSystem(QAService(settings, embedder), "hybrid", "hybrid"), items)["summary"]
    return {k: summary.get(k) for k in METRICS}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "bench-laws")
    p.add_argument("--setting", choices=("library_weight", "library_outside_scope_weight"),
                   default="library_weight", help="the setting whose values --weights are")
    p.add_argument("--weights", type=float, nargs="+", default=[1.0, 0.85, 0.7, 0.55, 0.4])
    p.add_argument("--sets", nargs="+", default=list(SETS), help="the crowded condition's eval sets")
    p.add_argument("--library-set", type=Path, help="questions answered by laws of the library (law names as "
                   "doc_ids), asked over the library-sourced index")
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "library-weight.json")
    args = p.parse_args()

    from evals.run import load_eval_set
    from evals.session import corpus_key, set_corpora
    from ingest.laws.scope import load_scope
    from ingest.laws.source import default_source
    from policyqa import service
    from policyqa.settings import Settings
    from retrieval.embedders import enable_query_cache
    from retrieval.index import load_index

    shared_cache = args.data / "library" / "embed_cache"
    if not shared_cache.exists():
        sys.exit(f"{shared_cache} is missing: run `python -m benches.laws` first (it embeds the library).")
    embedder = service.get_embedder(Settings(data_dir=args.data / "library"))
    enable_query_cache(embedder, 4096)  # every weight asks the same questions

    conditions: dict[tuple[str, str], tuple[Path, list[dict]]] = {}
    for name in args.sets:
        folders = set_corpora(ROOT / "evals" / name)
        conditions[(name, "crowded")] = (args.data / f"crowded-{corpus_key(folders)}", load_eval_set(ROOT / "evals" / name))
    sourced = Settings(data_dir=args.data / "library-sourced", corpus_dir=library_sourced_corpus(args.data))
    share_cache(sourced.data_dir, shared_cache)
    build(sourced, [sourced.corpus_dir], embedder, default_source(), load_scope("all"))
    library_docs = load_index(service.index_dir(sourced), embedder.name, embedder.dim).documents
    alone = Settings(data_dir=args.data / "alone-extcorpus+lawcorpus")
    file_docs = load_index(service.index_dir(alone), embedder.name, embedder.dim).documents
    for name in SOURCED_SETS:
        items = map_to_library(load_eval_set(ROOT / "evals" / name), file_docs, library_docs)
        conditions[(name, "library-sourced")] = (sourced.data_dir, items)
    if args.library_set:
        items = map_to_library(load_eval_set(args.library_set), file_docs, library_docs)
        conditions[(args.library_set.name, "library-answered")] = (sourced.data_dir, items)
    fold_sets = list(dict.fromkeys(name for name, _ in conditions))

    table: dict[str, dict[str, dict]] = {}
    for weight in args.weights:
        for (name, condition), (data_dir, items) in conditions.items():
            settings = Settings(data_dir=data_dir, **{args.setting: weight})
            result = figures(settings, items, embedder)
            table.setdefault(str(weight), {})[f"{name}:{condition}"] = result
            log(f"weight {weight} {name} {condition}: {result}")

    def mean_hit(weight: str, keys: list[str]) -> float:
        return statistics.mean(table[weight][k]["answer_hit"] for k in keys)

    folds = {}
    for left_out in fold_sets:
        train = [k for k in table[str(args.weights[0])] if not k.startswith(left_out + ":")]
        test = [k for k in table[str(args.weights[0])] if k.startswith(left_out + ":")]
        chosen = max(table, key=lambda w: (mean_hit(w, train), float(w)))  # ties: the weaker prior
        folds[left_out] = {"chosen_weight": float(chosen),
                           "left_out": {k: {"at_chosen": table[chosen][k], "at_1": table["1.0"][k]} for k in test}}
    everything = list(table[str(args.weights[0])])
    chosen_all = max(table, key=lambda w: (mean_hit(w, everything), float(w)))
    result = {"machine": machine_info(), "command": "python -m benches.library_weight " + " ".join(sys.argv[1:]),
              "setting": args.setting, "table": table, "leave_one_set_out": folds, "chosen_on_all": float(chosen_all),
              "data": shown(args.data)}
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({"leave_one_set_out": folds, "chosen_on_all": chosen_all}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
