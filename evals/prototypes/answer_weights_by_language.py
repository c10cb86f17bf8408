"""Prototype (2026-12-01, not kept; evals/README.md "Tried on 2026-12-01"): the answer step's lexical weight and
clause prior chosen per question language (Chinese / English) against one choice for all, leave-one-set-out over the
seventeen single-turn dev sets. Searches once (evals.fit.collect), composes every answerable item under each
configuration, pickles the hits to /tmp/s/perlang.pkl for the fold comparison.

    .venv/bin/python evals/prototypes/answer_weights_by_language.py
"""
import itertools, pickle, statistics, sys
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
pickle.dump(([(it.set_name, it.q.english) for it in items], ans, configs, hits), open("/tmp/s/perlang.pkl", "wb"))
