"""policyqa eval with lexical pseudo-relevance feedback for English questions (night, 2026-11-30): BM25 sees
only the glossary's words of an English question; here the Chinese words that best characterise the dense
rankings' top N chunks (tf x idf over the index's own tokens) are added to its BM25 query.

    TERMS=8 PRFN=3 .venv/bin/python evals/prototypes/lprf.py eval evals/realq-dev4.jsonl -o out.json
"""
import math, os, sys
from collections import Counter
import retrieval.search as rs
from retrieval.tokenize import query_tokens, tokenize

M = int(os.environ.get("TERMS", "8")); N = int(os.environ.get("PRFN", "3"))
_orig = rs.Retriever.rankings


def english(text: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    return letters > 2 * sum("\u4e00" <= ch <= "\u9fff" for ch in text)


def rankings(self, query, mode="hybrid", allowed=None, lexical_query=None):
    r = _orig(self, query, mode, allowed, lexical_query)
    if mode != "hybrid" or not english(query):
        return r
    bm25 = self.index.lexical.bm25
    n_docs = bm25.scores["num_docs"]
    seen, top = set(), []
    for name in ("sentences", "dense", "dense:use"):
        for row, _ in r.lists.get(name, [])[:N]:
            if row not in seen:
                seen.add(row); top.append(row)
    tf = Counter(t for row in top for t in tokenize(self.index.chunks[row].text) if len(t) >= 2)
    indptr = bm25.scores["indptr"]
    def idf(t):
        i = bm25.vocab_dict.get(t)
        if i is None or i + 1 >= len(indptr):
            return 0.0
        df = int(indptr[i + 1] - indptr[i])
        return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    terms = [t for t, _ in sorted(tf.items(), key=lambda kv: -kv[1] * idf(kv[0]))[:M]]
    tokens = query_tokens(lexical_query if lexical_query is not None else query) + terms
    r.lists["bm25"] = self.index.lexical.search(tokens, self.candidates, allowed)
    if "sentences" in r.lists:
        r.lists["sentences"] = self.sentence_ranking(r.query_vec, {row for n, f in r.lists.items() if n != "sentences" for row, _ in f})
    return r


rs.Retriever.rankings = rankings
from policyqa.cli import app  # noqa: E402
sys.argv = ["policyqa"] + sys.argv[1:]
app()
