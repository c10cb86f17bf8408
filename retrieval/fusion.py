"""Pure fusion functions: ranked lists in, one fused ranking out."""

from __future__ import annotations


def reciprocal_rank_fusion(rankings: dict[str, list[int]], k: int = 60,
                           weights: dict[str, float] | None = None) -> list[tuple[int, float, dict[str, int]]]:
    """RRF over named rankings of row ids. Returns (row, score, {signal: 1-based rank}) best first."""
    scores: dict[int, float] = {}
    found: dict[int, dict[str, int]] = {}
    for name, rows in rankings.items():
        w = (weights or {}).get(name, 1.0)
        for rank, row in enumerate(rows, start=1):
            scores[row] = scores.get(row, 0.0) + w / (k + rank)
            found.setdefault(row, {})[name] = rank
    order = sorted(scores, key=lambda r: (-scores[r], r))
    return [(row, scores[row], found[row]) for row in order]
