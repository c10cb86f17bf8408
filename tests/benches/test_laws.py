"""The law-library bench's comparison of an import with sentence vectors against the bare embedder."""

from __future__ import annotations

import math

from benches.laws import mixed_rate


def test_the_same_mix_rate_is_the_time_the_bare_embedder_needs_for_it():
    # 100 articles at 20/s take 5 s, 300 sentences at 60/s take 5 s: 400 passages in 10 s
    assert math.isclose(mixed_rate(100, 300, 20.0, 60.0), 40.0)
    assert math.isclose(mixed_rate(100, 0, 20.0, 60.0), 20.0)  # no sentences: the article rate
    # the answer step's sentences, through USE alone: 100 at 500/s add 0.2 s to the 10 s of the rest
    assert math.isclose(mixed_rate(100, 300, 20.0, 60.0, 100, 500.0), 500 / 10.2)
