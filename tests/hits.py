"""Hand-built documents and search hits for unit tests of the answer step's scorers (no index, no model)."""

from __future__ import annotations

import numpy as np

from policyqa.models import Chunk, Clause, Document
from retrieval.search import SearchHit


def law(doc_id: str, title: str, articles: list[str]) -> Document:
    """A document of numbered articles, one clause each, with offsets into its text."""
    text, clauses = "", []
    for n, body in enumerate(articles, start=1):
        start = len(text)
        text += body + "\n"
        clauses.append(Clause(f"{doc_id}#{n}", f"第{n}条", "", f"第{n}条", 1, start, start + len(body)))
    return Document(doc_id, title, text, clauses=clauses)


def hit(doc: Document, n: int, dense: float = 0.85, use: float = 0.4, signals: dict | None = None) -> SearchHit:
    """Article n of the document as a search hit with the given similarities and ranks."""
    clause = doc.clauses[n - 1]
    body = doc.text[clause.start:clause.end]
    chunk = Chunk(clause.clause_id, doc.doc_id, clause.clause_id, clause.path, body, clause.start, clause.end,
                  index_text=f"{doc.title}\n{clause.path}\n{body}")
    return SearchHit(chunk, 1.0 / n, dense, signals or {"dense": n, "bm25": n},
                     {"dense": dense, "dense:use": use})


class KeywordEncoder:
    """A stand-in sentence encoder: one dimension per keyword, so similarity is shared keywords."""

    def __init__(self, keywords: list[str]) -> None:
        self.keywords = keywords

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.array([[1.0 if k in t else 0.0 for k in self.keywords] + [0.1] for t in texts])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
