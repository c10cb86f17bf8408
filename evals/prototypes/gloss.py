"""policyqa eval with an English question's dense query blended with its Chinese words (2026-12-01): the
glossary's and CC-CEDICT's Chinese words the BM25 query gets (the index holds them) embedded as one text, added
to the question's vector with weight ALPHA, each model's part renormalised. WHERE=all: the dense lists, the
sentence ranking and the hits' similarities use the blend; WHERE=sentences: only the sentence ranking.

    ALPHA=0.5 WHERE=sentences .venv/bin/python evals/prototypes/gloss.py eval evals/realq-dev4.jsonl -o out.json
"""
import os
import re
import sys

import numpy as np

from retrieval import search as S
from retrieval.tokenize import query_tokens

ALPHA = float(os.environ.get("ALPHA", "0.5"))
WHERE = os.environ.get("WHERE", "all")
CJK = re.compile(r"[\u4e00-\u9fff]")


def rankings(self, query, mode="hybrid", allowed=None, lexical_query=None):
    text = lexical_query if lexical_query is not None else query
    tokens = self.index.lexical.with_index_words(query_tokens(text), text)
    gloss = "".join(dict.fromkeys(t for t in tokens if CJK.search(t))) if not CJK.search(query) else ""
    if gloss and ALPHA:
        qv, gv = self.embedder.embed_queries([query, gloss])
        v = qv + ALPHA * gv
        for _, cols in self.parts:
            v[cols] /= np.linalg.norm(v[cols]) or 1.0
        blend = v.astype(qv.dtype)
        query_vec, sent_vec = (blend, blend) if WHERE == "all" else (qv, blend)
    else:
        query_vec = sent_vec = self.embedder.embed_queries([query])[0]
    lists = {}
    if mode in ("hybrid", "dense"):
        for name, cols in self.parts:
            lists[name] = self.index.dense.search(self.part_query(query_vec, cols), self.candidates, allowed)
    if mode in ("hybrid", "bm25"):
        if self._row_groups is not None:
            lists["bm25"] = self.index.lexical.search(tokens, self.candidates, allowed, self._row_groups)
        else:
            lists["bm25"] = self.index.lexical.search(tokens, self.candidates, allowed)
    else:
        tokens = []
    if mode in ("hybrid", "dense") and self.index.sentences is not None and self.weights.get("sentences"):
        lists["sentences"] = self.sentence_ranking(sent_vec, {row for found in lists.values() for row, _ in found})
    return S.Rankings(lists, query_vec, tokens)


S.Retriever.rankings = rankings
from policyqa.cli import app  # noqa: E402
sys.argv = ["policyqa"] + sys.argv[1:]
app()
