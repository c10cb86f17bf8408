"""policyqa eval with BM25 rebuilt at other k1 and b from the index's own tokens (2026-12-03).

    K1=1.0 B=0.5 .venv/bin/python evals/prototypes/bm25_params_eval.py eval evals/seed.jsonl -o out.json
"""
import os
import sys

import retrieval.stores as stores

K1, B = float(os.environ.get("K1", "1.5")), float(os.environ.get("B", "0.75"))
_load = stores.LexicalStore.load.__func__


def load(cls, path):
    store = _load(cls, path)
    tokens = stores.TokenTable.load(path)
    if tokens is None:
        raise SystemExit(f"{path} has no token table: rebuild the index")
    store.bm25 = stores.bm25_index(tokens, K1, B)
    return store


stores.LexicalStore.load = classmethod(load)
from policyqa.cli import app  # noqa: E402

sys.argv = ["policyqa"] + sys.argv[1:]
app()
