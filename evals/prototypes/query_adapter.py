"""Measurement (2026-12-03; evals/README.md "A learnt query adapter"): a linear map of each model's question
vector, fitted on the real dev sets' (question, evidence clause) pairs, measured three ways: leaving one set
out (as evals.folds does), leaving documents out (the evidence of the measured questions in documents no
training question's evidence is in) and on the articles no other set cites.

    .venv/bin/python evals/prototypes/query_adapter.py gather data/sets/extcorpus+lawcorpus /tmp/adapter evals/realq-dev*.jsonl
    .venv/bin/python evals/prototypes/query_adapter.py folds /tmp/adapter [--rank 16 --decay 1e-3 --epochs 40]

The map is q' = unit(q + U V^T q) (rank r; r = 0: a full matrix), trained with a softmax over every chunk of
the index (the evidence rows are the positives), dense ranking only. Needs torch (the bring-your-own-model
extra).
"""
from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np


def gather(data: str, out: Path, sets: list[str]) -> None:
    os.environ["POLICYQA_DATA_DIR"] = data
    from evals.metrics import relevant
    from policyqa.service import QAService
    from policyqa.settings import Settings

    svc = QAService(Settings())
    chunks = svc.index.chunks
    vectors = np.stack([svc.index.dense.vector(i) for i in range(len(chunks))]).astype(np.float32)
    items = []
    for path in sets:
        for line in open(path, encoding="utf-8"):
            item = json.loads(line)
            if item.get("history") or not item["answerable"]:
                continue
            pos = [i for i, c in enumerate(chunks) if relevant(item["evidence"], item["doc_ids"], c.doc_id, c.text)]
            if pos:
                items.append({"set": Path(path).stem, "pos": pos, "q": svc.analyse(item["question"]).normalised})
    queries = np.asarray(svc.embedder.embed_queries([it["q"] for it in items]), np.float32)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "X.npy", vectors)
    np.save(out / "Q.npy", queries)
    meta = {"items": items, "parts": [[n, c.start, c.stop] for n, c in svc.retriever.parts],
            "doc_ids": [c.doc_id for c in chunks]}
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def fit(X, Q, items, train, rank, decay, epochs, scale=50.0) -> np.ndarray:
    import torch

    torch.manual_seed(0)
    xs, qs, d = torch.tensor(unit(X)), torch.tensor(unit(Q[train])), X.shape[1]
    if rank:
        u, v = torch.zeros(d, rank, requires_grad=True), (torch.randn(d, rank) * 0.01).requires_grad_()
        params, matrix = [u, v], lambda: u @ v.T
    else:
        m = torch.zeros(d, d, requires_grad=True)
        params, matrix = [m], lambda: m
    opt = torch.optim.Adam(params, lr=1e-3)
    positive = torch.zeros((len(train), len(X)), dtype=torch.bool)
    for r, i in enumerate(train):
        positive[r, items[i]["pos"]] = True
    for _ in range(epochs):
        order = torch.randperm(len(train))
        for b in range(0, len(train), 64):
            sel = order[b:b + 64]
            q = qs[sel] + qs[sel] @ matrix().T
            logits = scale * (q / q.norm(dim=1, keepdim=True)) @ xs.T
            loss = (torch.logsumexp(logits, 1)
                    - torch.logsumexp(logits.masked_fill(~positive[sel], -1e9), 1)).mean()
            loss = loss + decay * sum((p ** 2).sum() for p in params)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return matrix().detach().numpy()


def ranks(X, Q, items, test, matrix=None) -> np.ndarray:
    q = unit(Q[test])
    if matrix is not None:
        q = unit(q + q @ matrix.T)
    scores = q @ unit(X).T
    return np.array([int((scores[r] > scores[r, items[i]["pos"]].max()).sum()) + 1 for r, i in enumerate(test)])


def figures(r: np.ndarray) -> str:
    return (f"MRR@10 {np.mean([1 / x if x <= 10 else 0 for x in r]):.3f}  R@1 {np.mean(r == 1):.2f}  "
            f"R@5 {np.mean(r <= 5):.2f}  R@50 {np.mean(r <= 50):.2f}  (n={len(r)})")


def folds(folder: Path, rank: int, decay: float, epochs: int) -> None:
    X, Q = np.load(folder / "X.npy"), np.load(folder / "Q.npy")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    items, doc_ids = meta["items"], meta["doc_ids"]
    every = list(range(len(items)))
    sets = sorted({it["set"] for it in items})
    rows_of = [set(it["pos"]) for it in items]
    docs_of = [{doc_ids[r] for r in it["pos"]} for it in items]
    cited_elsewhere = sum(bool(rows_of[i] & set().union(*(rows_of[j] for j in every if items[j]["set"] != items[i]["set"])))
                          for i in every)
    print(f"{cited_elsewhere} of {len(items)} answerable items cite an article another set's items cite too")
    by_doc = [d for d, _ in Counter(d for ds in docs_of for d in ds).most_common()]
    splits = {
        "one set left out": [([i for i in every if items[i]["set"] != s], [i for i in every if items[i]["set"] == s])
                             for s in sets],
        "documents left out (5 folds)": [([i for i in every if not docs_of[i] & set(f)],
                                          [i for i in every if docs_of[i] & set(f)])
                                         for f in (by_doc[k::5] for k in range(5))],
    }
    unseen = []
    for s in sets:
        train = [i for i in every if items[i]["set"] != s]
        seen = set().union(*(rows_of[i] for i in train))
        unseen.append((train, [i for i in every if items[i]["set"] == s and not rows_of[i] & seen]))
    splits["one set left out, articles no other set cites"] = unseen
    for name, c0, c1 in meta["parts"]:
        x, q = X[:, c0:c1], Q[:, c0:c1]
        for split, pairs in splits.items():
            before, after = [], []
            for train, test in pairs:
                if not test:
                    continue
                matrix = fit(x, q, items, train, rank, decay, epochs)
                before.extend(ranks(x, q, items, test))
                after.extend(ranks(x, q, items, test, matrix))
            print(f"{name:10s} {split:48s} before {figures(np.array(before))}\n{'':59s} after  {figures(np.array(after))}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gather")
    g.add_argument("data")
    g.add_argument("out", type=Path)
    g.add_argument("sets", nargs="+")
    f = sub.add_parser("folds")
    f.add_argument("folder", type=Path)
    f.add_argument("--rank", type=int, default=16)
    f.add_argument("--decay", type=float, default=1e-3)
    f.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    if args.command == "gather":
        gather(args.data, args.out, args.sets)
    else:
        folds(args.folder, args.rank, args.decay, args.epochs)


if __name__ == "__main__":
    main()
