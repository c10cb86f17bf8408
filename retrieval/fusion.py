"""Pure fusion functions: ranked lists in, one fused ranking out."""

from __future__ import annotations

import numpy as np

# Documents are few next to chunks: a small constant lets the first places of the document ranking count.
DOCUMENT_RRF_K = 10


def reciprocal_rank_fusion(rankings: dict[str, list[int]], k: int = 60,
                           weights: dict[str, float] | None = None,
                           shared: dict[str, dict[int, int]] | None = None) -> list[tuple[int, float, dict[str, int]]]:
    """RRF over named rankings of row ids. Returns (row, score, {signal: 1-based rank}) best first.

    `shared` holds rankings in which several rows share a rank ({signal: {row: rank}}, such as each row's
    document's place in a document ranking): they add to the rows the other rankings found, and never
    bring a row in by themselves."""
    scores: dict[int, float] = {}
    found: dict[int, dict[str, int]] = {}
    for name, rows in rankings.items():
        w = (weights or {}).get(name, 1.0)
        for rank, row in enumerate(rows, start=1):
            scores[row] = scores.get(row, 0.0) + w / (k + rank)
            found.setdefault(row, {})[name] = rank
    for name, ranks in (shared or {}).items():
        w = (weights or {}).get(name, 1.0)
        for row in scores:
            if row in ranks:
                scores[row] += w / (k + ranks[row])
                found[row][name] = ranks[row]
    order = sorted(scores, key=lambda r: (-scores[r], r))
    return [(row, scores[row], found[row]) for row in order]


def standardised_above_floor(values) -> np.ndarray:
    """One ranking's scores as z-scores over the ranking, minus the lowest: 0 for its last row (and for
    rows it did not return), all 0 when the scores do not spread."""
    values = np.asarray(values, dtype=np.float64)
    spread = values.std() if len(values) else 0.0
    if not spread > 0:
        return np.zeros(len(values))
    z = (values - values.mean()) / spread
    return z - z.min()


def standardised_score_fusion(lists: dict[str, list[tuple[int, float]]],
                              weights: dict[str, float] | None = None) -> list[tuple[int, float, dict[str, int]]]:
    """A weighted sum of each ranking's own scores, standardised. Returns (row, score, {signal: 1-based
    rank}) best first, ties to the lower row id.

    Each list's scores (cosines, BM25 scores, sentence scores: different scales) become z-scores over the
    list; a row the list did not return counts as its lowest one. Each contribution is measured from that
    floor, so a row's score is >= 0 and a list adds nothing for a row it lacks. Unlike reciprocal ranks,
    the size of a lead counts: a clause far ahead in one list stays ahead of one a little ahead in two.
    Better than RRF on sixteen eval sets' folds, not on the blind sets: an option, POLICYQA_FUSION=scores
    (evals/README.md, "Score fusion")."""
    scores: dict[int, float] = {}
    found: dict[int, dict[str, int]] = {}
    for name, ranked in lists.items():
        w = (weights or {}).get(name, 1.0)
        lifted = standardised_above_floor([score for _, score in ranked])
        for rank, ((row, _), value) in enumerate(zip(ranked, lifted, strict=True), start=1):
            scores[row] = scores.get(row, 0.0) + w * float(value)
            found.setdefault(row, {})[name] = rank
    order = sorted(scores, key=lambda r: (-scores[r], r))
    return [(row, scores[row], found[row]) for row in order]


def document_ranking(rankings: dict[str, list[int]], doc_of: list[str], k: int = DOCUMENT_RRF_K) -> list[str]:
    """Documents ranked by RRF over each ranking's best-placed row of theirs: the documents the question
    is most about, by every signal at once."""
    scores: dict[str, float] = {}
    for rows in rankings.values():
        seen: set[str] = set()
        for rank, row in enumerate(rows, start=1):
            doc_id = doc_of[row]
            if doc_id not in seen:
                seen.add(doc_id)
                scores[doc_id] = scores.get(doc_id, 0.0) + 1 / (k + rank)
    return sorted(scores, key=lambda d: (-scores[d], d))


def document_ranks(rankings: dict[str, list[int]], doc_of: list[str]) -> dict[int, int]:
    """Each ranked row's document's place in the document ranking (1 = the best document)."""
    place = {doc_id: rank for rank, doc_id in enumerate(document_ranking(rankings, doc_of), start=1)}
    return {row: place[doc_of[row]] for rows in rankings.values() for row in rows}


def scale_scores(fused: list[tuple[int, float, dict[str, int]]],
                 factors: list[float]) -> list[tuple[int, float, dict[str, int]]]:
    """The fused rows with each score multiplied by its row's factor (`factors[row]`), best first again:
    a prior on where a row comes from (see Retriever's collection weights)."""
    scaled = [(row, score * factors[row], signals) for row, score, signals in fused]
    return sorted(scaled, key=lambda item: (-item[1], item[0]))
