"""policyqa eval with dense pseudo-relevance feedback: each model's query vector moved towards its top-N chunks."""
import os, sys
import numpy as np
import retrieval.search as rs

ALPHA = float(os.environ.get("ALPHA", "0.5")); N = int(os.environ.get("PRFN", "3"))
_orig = rs.Retriever.rankings

def rankings(self, query, mode="hybrid", allowed=None, lexical_query=None):
    r = _orig(self, query, mode, allowed, lexical_query)
    if mode == "bm25":
        return r
    for name, cols in self.parts:
        top = [row for row, _ in r.lists.get(name, [])[:N]]
        if not top:
            continue
        q = self.part_query(r.query_vec, cols).copy()
        centroid = np.mean([np.asarray(self.index.dense.vector(row))[cols] for row in top], axis=0)
        q[cols] = q[cols] + ALPHA * centroid
        q[cols] /= np.linalg.norm(q[cols])
        r.lists[name] = self.index.dense.search(q, self.candidates, allowed)
    if "sentences" in r.lists:
        r.lists["sentences"] = self.sentence_ranking(r.query_vec, {row for n, f in r.lists.items() if n != "sentences" for row, _ in f})
    return r

rs.Retriever.rankings = rankings
from policyqa.cli import app
sys.argv = ["policyqa"] + sys.argv[1:]
app()
