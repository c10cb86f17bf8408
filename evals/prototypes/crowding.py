"""policyqa eval with each ranked list 'crowded': a document's chunks after its first M move behind the others."""
import os, sys
import retrieval.search as rs

M = int(os.environ.get("CROWD", "3"))
_orig = rs.Retriever.rankings

def crowd(lst, doc_of):
    seen, head, tail = {}, [], []
    for row, sc in lst:
        d = doc_of[row]
        seen[d] = seen.get(d, 0) + 1
        (head if seen[d] <= M else tail).append((row, sc))
    return head + tail

def rankings(self, *a, **k):
    r = _orig(self, *a, **k)
    r.lists = {n: crowd(l, self._chunk_doc_ids) for n, l in r.lists.items()}
    return r

rs.Retriever.rankings = rankings
from policyqa.cli import app
sys.argv = ["policyqa"] + sys.argv[1:]
app()
