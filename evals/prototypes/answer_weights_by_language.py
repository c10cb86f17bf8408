"""Prototype (2026-12-01, not kept; evals/README.md "Tried on 2026-12-01"): the answer step's lexical weight and
clause prior chosen per question language (Chinese / English) against one choice for all, leave-one-set-out over the
seventeen single-turn dev sets. Searches once (evals.fit.collect), composes every answerable item under each
configuration, then prints each left-out set's answer hit: shipped, one choice for all, one per language.

    .venv/bin/python evals/prototypes/answer_weights_by_language.py
"""
import itertools
import statistics
from dataclasses import replace
from pathlib import Path
from evals.fit import collect, log
from answer.compose import Composer, compose_answer
from answer.sentences import default_weights
from evals.metrics import answer_hit
from policyqa import service
from policyqa.settings import Settings

SETS = ["seed", "extcorpus", "holdout-seed", "holdout-ext"] + [f"realq-dev{s}" for s in ["", *map(str, range(2, 14))]]
settings = Settings()
items = collect([Path(f"evals/{s}.jsonl") for s in SETS], settings, log)
encoder = service.sentence_encoder(service.get_embedder(settings))
base = default_weights()
GRID = {"lexical": (0.25, 0.5, 1.0), "clause": (0.3, 0.6, 1.0)}
configs = [dict(zip(GRID, v)) for v in itertools.product(*GRID.values())]
hits = {}  # (config index, item index) -> hit (answerable items only; refused = miss)
ans = [i for i, it in enumerate(items) if it.raw["answerable"]]
for c, cfg in enumerate(configs):
    comp = Composer(encoder=encoder, weights=replace(base, **cfg), refusal=service.refusal_model(settings))
    for i in ans:
        it = items[i]
        a = compose_answer(it.q, it.hits, it.documents, comp)
        hits[(c, i)] = (not a.refused) and answer_hit(it.raw.get("answer_terms", []), a.answer)
    log(f"config {cfg} done")

sets = sorted({it.set_name for it in items})
shipped = next(c for c, cfg in enumerate(configs) if cfg == {"lexical": base.lexical, "clause": base.clause})


def rate(c_zh, c_en, names):
    chosen = [i for i in ans if items[i].set_name in names]
    return sum(hits[(c_en if items[i].q.english else c_zh, i)] for i in chosen) / max(1, len(chosen))


def mean_over(c_zh, c_en, names):
    return statistics.mean(rate(c_zh, c_en, {n}) for n in names)


C = range(len(configs))
totals = [0.0, 0.0, 0.0]
for left in sets:
    train = [n for n in sets if n != left]
    shared = max(C, key=lambda c: mean_over(c, c, train))
    pair = max(((a, b) for a in C for b in C), key=lambda p: mean_over(p[0], p[1], train))
    row = (rate(shipped, shipped, {left}), rate(shared, shared, {left}), rate(*pair, {left}))
    totals = [t + r for t, r in zip(totals, row, strict=True)]
    print(f"{left:20} shipped {row[0]:.3f} shared {row[1]:.3f} {configs[shared]} per language {row[2]:.3f} "
          f"zh {configs[pair[0]]} en {configs[pair[1]]}")
print("mean: shipped %.4f shared %.4f per language %.4f" % tuple(t / len(sets) for t in totals))
