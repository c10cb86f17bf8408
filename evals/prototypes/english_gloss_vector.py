"""Prototype (2026-12-01, not kept; evals/README.md "Tried on 2026-12-01"): an English question's query vector
blended with the vector of its Chinese BM25 terms (glossary and dictionary words the index holds), per model
part, weight ALPHA. Loaded before the CLI by a runner that executes this file, then `policyqa eval` as usual:

    PATCH=evals/prototypes/english_gloss_vector.py ALPHA=0.5 python -c "import os, runpy, sys; \
        runpy.run_path(os.environ['PATCH']); from policyqa.cli import app; sys.argv = ['policyqa'] + sys.argv[1:]; \
        app()" eval evals/realq-dev10.jsonl
"""
import os
import re

import numpy as np

import retrieval.search as S
from retrieval.tokenize import query_tokens

ALPHA = float(os.environ.get("ALPHA", "0.5"))
CJK = re.compile(r"[\u4e00-\u9fff]")
orig = S.Retriever.rankings

def rankings(self, query, mode="hybrid", allowed=None, lexical_query=None):
    latin = sum(c.isascii() and c.isalpha() for c in query)
    cjk = len(CJK.findall(query))
    if latin <= 3 * cjk or mode == "bm25":
        return orig(self, query, mode, allowed, lexical_query)
    text = lexical_query if lexical_query is not None else query
    tokens = self.index.lexical.with_index_words(query_tokens(text), text)
    gloss = " ".join(dict.fromkeys(t for t in tokens if CJK.search(t)))
    if not gloss:
        return orig(self, query, mode, allowed, lexical_query)
    qv, gv = self.embedder.embed_queries([query, gloss])
    blended = np.zeros_like(qv)
    for _, cols in self.parts:
        v = qv[cols] + ALPHA * gv[cols]
        blended[cols] = v / (np.linalg.norm(v) or 1.0)
    real_embed = self.embedder.embed_queries
    self.embedder.embed_queries = lambda texts: np.array([blended])
    try:
        return orig(self, query, mode, allowed, lexical_query)
    finally:
        self.embedder.embed_queries = real_embed

S.Retriever.rankings = rankings
