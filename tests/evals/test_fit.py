"""The answer-step fit's choice of how much to quote (evals/fit.py): a longer quote has to earn its length."""

from __future__ import annotations

from evals.fit import shortest_within


def test_the_shortest_answers_within_the_tolerance_of_the_best_hit_win():
    scored = [(0.70, 160, "short"), (0.745, 276, "article"), (0.755, 333, "two articles"), (0.60, 95, "terse")]
    assert shortest_within(scored, 0.01)[2] == "article"
    assert shortest_within(scored, 0.0)[2] == "two articles"  # no tolerance: the best hit, however long
    assert shortest_within(scored, 0.2)[2] == "terse"


def test_equal_lengths_keep_the_first():
    assert shortest_within([(0.5, 100, "a"), (0.5, 100, "b")], 0.01)[2] == "a"
