"""The top-k selection BM25 ranks with (retrieval.stores.top_indices): the k best scores, best first, equal scores
by the lower row, whether it sorts every score or only those above the bound its blocks give."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.stores import TOP_BLOCK, LexicalStore, top_indices


def full_sort(scores: np.ndarray, k: int, tiebreak: np.ndarray) -> list[int]:
    return np.lexsort((tiebreak, -scores))[:k].tolist()


@pytest.mark.parametrize("n", [TOP_BLOCK * 200 + 17, TOP_BLOCK * 60, 50, 7])
@pytest.mark.parametrize("k", [1, 10, 50])
def test_the_k_best_with_ties_to_the_lower_tiebreak(n, k):
    rng = np.random.default_rng(n + k)
    for levels in (5, 40, 10_000):  # few distinct values: ties at the k-th place are the rule, not the exception
        scores = rng.integers(0, levels, n).astype(np.float32) / levels
        tiebreak = rng.permutation(n)
        assert top_indices(scores, k, tiebreak).tolist() == full_sort(scores, k, tiebreak), (n, k, levels)


def test_more_asked_than_there_are_and_none_asked():
    scores = np.array([0.2, 0.9, 0.2, 0.5], np.float32)
    rows = np.array([10, 11, 12, 13])
    assert top_indices(scores, 10, rows).tolist() == [1, 3, 0, 2]
    assert top_indices(scores, 0, rows).tolist() == []
    assert top_indices(scores[:0], 5, rows[:0]).tolist() == []


def test_bm25_hands_equal_scores_to_the_lower_rows():
    # Many clauses of one wording score alike; which of them fill the last places must not depend on the
    # selection algorithm's internal order.
    store = LexicalStore([["学校", "安全"]] * (TOP_BLOCK * 80) + [["学校", "安全", "经费"]])
    found = store.search(["经费", "安全"], 5)
    assert [row for row, _ in found] == [TOP_BLOCK * 80, 0, 1, 2, 3]
