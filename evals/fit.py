"""Fit the answer step's weights on the dev sets, with leave-one-set-out figures.

`python -m evals.fit SET... [--write]`:
1. runs search once per question (the service as configured, each set over its own corpus);
2. chooses the sentence weights (answer.sentences.AnswerWeights) that give the best mean answer hit over
   the sets, answering every answerable question (refusal off); of the settings of how much is quoted, the
   one with the shortest answers within QUOTE_TOLERANCE of the best hit;
3. fits the refusal model (answer.refusal: logistic regression, L2-regularised) on the labelled items and
   sets its threshold at the highest value that refuses at most MAX_FALSE_REFUSALS of the answerable items
   of every training set. Its features are chosen by forward selection on the folds: a feature joins only if,
   with it, the left-out predictions (pooled) keep false refusals at or under MAX_FALSE_REFUSALS and the
   mean of (answer hit + refusal recall) / 2 over the left-out sets rises by MIN_GAIN;
4. reports, for every set, the figures of weights and model chosen on the *other* sets (leave-one-set-out),
   then fits on all sets; with --write, stores the result in answer/data/refusal_model.json and
   answer/data/answer_weights.json with the command and sets that produced them.
Held-out sets (realq-holdout) must never be given here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from answer.compose import Composer, compose_answer
from answer.question import Question, analyse
from answer.refusal import ALWAYS_ANSWER, FEATURES, MODEL_FILE, RefusalModel, corpus_text, features
from answer.sentences import WEIGHTS_FILE, AnswerWeights, default_weights, score_sentences
from evals.metrics import answer_hit, relevant
from evals.run import load_eval_set
from evals.session import settings_for_set
from policyqa import service
from policyqa.settings import Settings

MAX_FALSE_REFUSALS = 0.05
# Candidates for the refusal model: evidence of how well the documents match. The question's form (English,
# long, yes/no) is left out: it tells which eval set a question came from more than whether it is answered.
CANDIDATE_FEATURES = tuple(f for f in FEATURES if f not in ("english", "long", "polar"))
MIN_GAIN = 0.005  # a feature joins only if it raises the folds' figure by this much (not by one item's luck)
L2 = 1.0  # ridge on standardised features: few labelled items, keep the weights modest
# Chosen in two stages: how sentences are scored, then how much is quoted.
SCORE_GRID = {"semantic": (0.5, 1.0, 2.0), "lexical": (0.25, 0.5, 1.0), "clause": (0.0, 0.3, 0.6, 1.0, 2.0),
              "value": (0.0, 0.3, 1.0)}
# A quote is a clause, not a page: at most one law article is quoted whole (most articles are under 400
# characters; the chosen value is reported with the answers' median length).
QUOTE_GRID = {"quote_whole": (120, 180, 250, 400, 500), "second_clause": (0.5, 0.7, 0.85, 2.0),
              "max_clauses": (2, 3)}
QUOTE_TOLERANCE = 0.01  # mean answer hit a shorter quote may give up: about one question in a hundred
# Last, how far a short list is narrowed to the items that answer (AnswerWeights.item_margin; 0: always whole, 2:
# only the items of the chosen sentences), the rest fixed: by the same rule, and no set may lose more answer hit
# than ITEM_SET_TOLERANCE against the whole list (the bound on a tuned set): the shorter quote is for the
# reader, and no set should pay for it with its answers.
ITEM_MARGINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 2.0)
ITEM_SET_TOLERANCE = 0.02


@dataclass
class Item:
    set_name: str
    raw: dict
    q: Question
    hits: list
    documents: dict
    corpus: str


def collect(set_paths: list[Path], settings: Settings, log) -> list[Item]:
    items: list[Item] = []
    services: dict = {}
    for path in set_paths:
        set_settings, folders = settings_for_set(settings, path)
        key = str(set_settings.data_dir)
        if key not in services:
            outcome = service.ingest(set_settings, folders, service.get_embedder(set_settings), prune=True)
            if outcome.manifest is None:
                raise SystemExit(f"could not ingest {folders}: {outcome.report.errors}")
            services[key] = service.QAService(set_settings)
        qa = services[key]
        docs = qa.index.documents
        for raw in load_eval_set(path):
            q = analyse(raw["question"])
            items.append(Item(path.name, raw, q, qa.search(q, qa.settings.answer_depth), docs, corpus_text(docs)))
        log(f"{path.name}: {sum(1 for i in items if i.set_name == path.name)} items searched")
    return items


def hit_rate(items: list[Item], composer: Composer) -> dict[str, float]:
    """Answer hit per set over its answerable items, nothing refused."""
    by_set: dict[str, list[bool]] = {}
    for it in items:
        if it.raw["answerable"]:
            answer = compose_answer(it.q, it.hits, it.documents, composer)
            by_set.setdefault(it.set_name, []).append(answer_hit(it.raw.get("answer_terms", []), answer.answer))
    return {s: statistics.mean(v) for s, v in by_set.items()}


def answered_hits(items: list[Item], composer: Composer) -> list[bool]:
    """Whether each item's answer (nothing refused) holds its answer terms; False for unanswerable items."""
    return [it.raw["answerable"] and answer_hit(it.raw.get("answer_terms", []),
                                                compose_answer(it.q, it.hits, it.documents, composer).answer)
            for it in items]


def answer_stats(items: list[Item], composer: Composer) -> tuple[float, float]:
    """(mean over the sets of the answer hit, median answer length in characters), nothing refused."""
    by_set: dict[str, list[bool]] = {}
    lengths = []
    for it in items:
        if it.raw["answerable"]:
            answer = compose_answer(it.q, it.hits, it.documents, composer).answer
            by_set.setdefault(it.set_name, []).append(answer_hit(it.raw.get("answer_terms", []), answer))
            lengths.append(len(answer))
    return statistics.mean(statistics.mean(v) for v in by_set.values()), statistics.median(lengths)


def choose_weights(items: list[Item], encoder, log) -> AnswerWeights:
    """Sentence scoring first: the weights with the best mean answer hit over the sets. Then how much is
    quoted: the setting with the shortest answers among those within QUOTE_TOLERANCE of the best hit (more
    text always finds more answer terms; a longer answer has to earn its length)."""
    best = (-1.0, AnswerWeights())
    for values in itertools.product(*SCORE_GRID.values()):
        weights = replace(best[1], **dict(zip(SCORE_GRID, values, strict=True)))
        mean = statistics.mean(hit_rate(items, Composer(encoder, weights, ALWAYS_ANSWER)).values())
        if mean > best[0]:
            best = (mean, weights)
    scored = []
    for values in itertools.product(*QUOTE_GRID.values()):
        weights = replace(best[1], **dict(zip(QUOTE_GRID, values, strict=True)))
        scored.append((*answer_stats(items, Composer(encoder, weights, ALWAYS_ANSWER)), weights))
    hit, length, weights = shortest_within(scored, QUOTE_TOLERANCE)
    top = max(s[0] for s in scored)
    log(f"  weights {asdict(weights)}: mean answer hit {hit:.3f} (best {top:.3f}), median answer {length:.0f} chars")
    return choose_item_margin(items, encoder, weights, log)


def choose_item_margin(items: list[Item], encoder, weights: AnswerWeights, log) -> AnswerWeights:
    """The weights with the item margin (ITEM_MARGINS) that gives the shortest answers within QUOTE_TOLERANCE of
    the best mean answer hit, among the margins that cost no set more than ITEM_SET_TOLERANCE against quoting the
    list whole (margin 0); the other weights as given."""
    whole = hit_rate(items, Composer(encoder, replace(weights, item_margin=0.0), ALWAYS_ANSWER))
    scored = []
    for margin in ITEM_MARGINS:
        composer = Composer(encoder, replace(weights, item_margin=margin), ALWAYS_ANSWER)
        if all(whole[s] - rate <= ITEM_SET_TOLERANCE for s, rate in hit_rate(items, composer).items()):
            scored.append((*answer_stats(items, composer), replace(weights, item_margin=margin)))
    hit, length, chosen = shortest_within(scored, QUOTE_TOLERANCE)
    log(f"  item margin {chosen.item_margin}: mean answer hit {hit:.3f} (best {max(s[0] for s in scored):.3f}), "
        f"median answer {length:.0f} chars")
    return chosen


def shortest_within(scored: list[tuple], tolerance: float) -> tuple:
    """Of (hit, length, ...) entries, the shortest whose hit is within `tolerance` of the best (the first
    of equals)."""
    top = max(s[0] for s in scored)
    return min((s for s in scored if s[0] >= top - tolerance), key=lambda s: s[1])


def feature_matrix(items: list[Item], composer: Composer) -> np.ndarray:
    rows = []
    for it in items:
        ranked = score_sentences(it.q, it.hits, it.documents, composer.encoder, composer.weights)
        values = features(it.q, it.hits, ranked, it.corpus)
        rows.append([values[name] for name in FEATURES])
    return np.array(rows, dtype=np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * L2
    penalty[0, 0] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[1:], float(w[0]), means, scales


def fit_model(items: list[Item], x: np.ndarray, provenance: str, chosen: tuple[str, ...] | list[str] = FEATURES) -> RefusalModel:
    """The logistic model over the chosen features (columns of x are all FEATURES), with its threshold."""
    y = np.array([1.0 if it.raw["answerable"] else 0.0 for it in items])
    chosen = list(chosen)
    cols = [FEATURES.index(f) for f in chosen]
    w, bias, means, scales = fit_logistic(x[:, cols], y)
    model = RefusalModel(dict(zip(chosen, map(float, w), strict=True)), bias,
                         dict(zip(chosen, map(float, means), strict=True)),
                         dict(zip(chosen, map(float, scales), strict=True)), 0.0, provenance)
    # The highest threshold that refuses at most MAX_FALSE_REFUSALS of the answerable items of *each*
    # training set: pooled, the written sets' many questions would set it, and real questions (fewer,
    # longer, matching the clauses less well) would be refused far more often.
    by_set: dict[str, list[float]] = {}
    for row, it in zip(x, items, strict=True):
        if it.raw["answerable"]:
            by_set.setdefault(it.set_name, []).append(model.probability(dict(zip(FEATURES, row, strict=True))))
    threshold = min(sorted(p)[int(MAX_FALSE_REFUSALS * len(p))] for p in by_set.values())
    return replace(model, threshold=float(threshold) - 1e-9)


def refusal_figures(model: RefusalModel, items: list[Item], x: np.ndarray, answered_hit: list[bool]) -> dict:
    """False refusals, refusal recall and answer hit of a model on items whose answers (if given) are known
    to hit or not (`answered_hit`): refusal is the only thing that changes between models."""
    refused = [model.refuses(dict(zip(FEATURES, row, strict=True))) for row in x]
    answerable = [i for i, it in enumerate(items) if it.raw["answerable"]]
    unanswerable = [i for i, it in enumerate(items) if not it.raw["answerable"]]
    return {"false_refusal_rate": sum(refused[i] for i in answerable) / max(len(answerable), 1),
            "refusal_recall": sum(refused[i] for i in unanswerable) / max(len(unanswerable), 1),
            "answer_hit": sum(answered_hit[i] and not refused[i] for i in answerable) / max(len(answerable), 1)}


def select_features(items: list[Item], x: np.ndarray, answered_hit: list[bool], log) -> list[str]:
    """Forward selection on the folds (see the module docstring); [] when no feature keeps every left-out
    set's false refusals in bounds (the model then refuses nothing)."""
    sets = sorted({it.set_name for it in items})
    index = {s: [i for i, it in enumerate(items) if it.set_name == s] for s in sets}

    n_answerable = sum(1 for it in items if it.raw["answerable"])

    def score(chosen: list[str]) -> float:
        values, false_refusals = [], 0.0
        for left in sets:
            train = [i for i in range(len(items)) if items[i].set_name != left]
            model = fit_model([items[i] for i in train], x[train], "", chosen)
            test = index[left]
            f = refusal_figures(model, [items[i] for i in test], x[test], [answered_hit[i] for i in test])
            false_refusals += f["false_refusal_rate"] * sum(1 for i in test if items[i].raw["answerable"])
            values.append((f["answer_hit"] + f["refusal_recall"]) / 2)
        # the left-out predictions pooled must keep false refusals in bounds
        return statistics.mean(values) if false_refusals <= MAX_FALSE_REFUSALS * n_answerable else -1.0

    chosen: list[str] = []
    best = -1.0
    while True:
        candidates = [(score(chosen + [f]), f) for f in CANDIDATE_FEATURES if f not in chosen]
        value, feature = max(candidates) if candidates else (-1.0, "")
        if value < best + MIN_GAIN:
            break
        best, chosen = value, chosen + [feature]
        log(f"  refusal features {chosen}: mean (answer hit + refusal recall) / 2 on the left-out sets {value:.3f}")
    return chosen


def evaluate(items: list[Item], composer: Composer) -> dict:
    """The service's figures with this composer: answer hit, refusal recall, false refusals, evidence cited."""
    answerable = [it for it in items if it.raw["answerable"]]
    unanswerable = [it for it in items if not it.raw["answerable"]]
    hits = refused_ok = false_refusals = cited = 0
    for it in items:
        answer = compose_answer(it.q, it.hits, it.documents, composer)
        if it.raw["answerable"]:
            if answer.refused:
                false_refusals += 1
                continue
            hits += answer_hit(it.raw.get("answer_terms", []), answer.answer)
            cited += any(relevant(it.raw.get("evidence", []), it.raw.get("doc_ids", []), c.document.doc_id, c.chunk.text)
                         for c in answer.citations)
        elif answer.refused:
            refused_ok += 1
    n = max(len(answerable), 1)
    return {"answer_hit": round(hits / n, 4), "evidence_cited": round(cited / n, 4),
            "false_refusal_rate": round(false_refusals / n, 4),
            "refusal_recall": round(refused_ok / max(len(unanswerable), 1), 4), "n": len(items)}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def searched_dev_sets(paths: list[Path]) -> tuple[list[Item], object]:
    """Every item of the dev sets searched (the service as configured), and the sentence encoder; a held-out
    set is refused."""
    if any("holdout" in p.name and p.name.startswith("realq") for p in paths):
        raise SystemExit("realq-holdout is the held-out set: it is run once per release, never fitted on.")
    settings = Settings()
    items = collect(paths, settings, log)
    return items, service.sentence_encoder(service.get_embedder(settings))


def fit_item_margin(items: list[Item], encoder, args) -> None:
    """`--item-margin-only`: the shipped weights and refusal model, only the item margin chosen; for each set the
    margin chosen on the others, its answer hit and median answer against the shipped margin's (leave-one-set-out),
    then the margin chosen on all sets (stored with --write, the other weights untouched)."""
    shipped = default_weights()
    sets = sorted({it.set_name for it in items})
    command = "python -m evals.fit --item-margin-only " + " ".join(str(s) for s in args.sets)
    report: dict = {"command": command, "sets": sets, "shipped": asdict(shipped), "leave_one_set_out": {}}
    for left in sets:
        train = [it for it in items if it.set_name != left]
        test = [it for it in items if it.set_name == left]
        chosen = choose_item_margin(train, encoder, shipped, log)
        figures = {}
        for name, weights in (("shipped", shipped), ("chosen", chosen)):
            hit, length = answer_stats(test, Composer(encoder, weights, ALWAYS_ANSWER))
            figures[name] = {"item_margin": weights.item_margin, "answer_hit": round(hit, 4), "median_chars": length}
        report["leave_one_set_out"][left] = figures
        log(f"left out {left}: {figures}")
    chosen = choose_item_margin(items, encoder, shipped, log)
    report["chosen"] = chosen.item_margin
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write:
        data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
        data["item_margin"] = chosen.item_margin
        data["provenance"] += f"; item_margin {chosen.item_margin} chosen by `{command}` ({time.strftime('%Y-%m-%d')})"
        WEIGHTS_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", type=Path, help="dev eval sets (never a held-out set)")
    parser.add_argument("--write", action="store_true", help="store the weights and model fitted on all sets")
    parser.add_argument("-o", "--output", type=Path, default=Path("benches/results/fit.json"))
    parser.add_argument("--item-margin-only", action="store_true",
                        help="keep the shipped weights and refusal model; choose only AnswerWeights.item_margin")
    args = parser.parse_args(argv)
    items, encoder = searched_dev_sets(args.sets)
    if args.item_margin_only:
        fit_item_margin(items, encoder, args)
        return
    sets = sorted({it.set_name for it in items})
    command = "python -m evals.fit " + " ".join(str(s) for s in args.sets)
    report: dict = {"command": command, "sets": sets, "leave_one_set_out": {}}
    for left in sets:
        train = [it for it in items if it.set_name != left]
        test = [it for it in items if it.set_name == left]
        weights = choose_weights(train, encoder, log)
        composer = Composer(encoder, weights, ALWAYS_ANSWER)
        x = feature_matrix(train, composer)
        chosen = select_features(train, x, answered_hits(train, composer), log)
        model = fit_model(train, x, f"fitted without {left}", chosen)
        figures = evaluate(test, Composer(encoder, weights, model))
        report["leave_one_set_out"][left] = figures | {"weights": asdict(weights), "features": chosen}
        log(f"left out {left}: {figures}")
    weights = choose_weights(items, encoder, log)
    composer = Composer(encoder, weights, ALWAYS_ANSWER)
    x = feature_matrix(items, composer)
    chosen = select_features(items, x, answered_hits(items, composer), log)
    stamp = time.strftime("%Y-%m-%d")
    model = fit_model(items, x, f"{command} ({stamp}): fitted on {', '.join(sets)}; features chosen on their "
                                f"folds; threshold at <= {MAX_FALSE_REFUSALS:.0%} false refusals on each", chosen)
    report["all_sets"] = {s: evaluate([it for it in items if it.set_name == s], Composer(encoder, weights, model))
                          for s in sets}
    report["weights"], report["model"] = asdict(weights), model.to_dict()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write:
        MODEL_FILE.write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        WEIGHTS_FILE.write_text(json.dumps(asdict(weights) | {"provenance": model.provenance}, ensure_ascii=False,
                                           indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("leave_one_set_out", "all_sets")}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
