"""Fusion as pure functions: reciprocal-rank fusion with weights, and the document ranking chunks share."""

from __future__ import annotations

from retrieval.fusion import (
    document_ranking,
    document_ranks,
    reciprocal_rank_fusion,
    scale_scores,
    standardised_above_floor,
    standardised_score_fusion,
)


def test_rrf_adds_weighted_reciprocal_ranks():
    fused = reciprocal_rank_fusion({"a": [1, 2], "b": [2, 3]}, k=10, weights={"a": 1.0, "b": 0.5})
    scores = {row: score for row, score, _ in fused}
    assert scores[2] == 1 / 12 + 0.5 / 11 and scores[1] == 1 / 11 and scores[3] == 0.5 / 12
    assert [row for row, _, _ in fused] == [2, 1, 3]
    assert fused[0][2] == {"a": 2, "b": 1}


def test_shared_ranks_add_to_found_rows_only():
    fused = reciprocal_rank_fusion({"a": [5, 6]}, k=10, weights={"doc": 2.0}, shared={"doc": {6: 1, 5: 2, 7: 1}})
    assert [row for row, _, _ in fused] == [6, 5]  # 6's document ranks first; row 7 was never found
    assert fused[0][2] == {"a": 2, "doc": 1}


def test_documents_rank_by_their_chunks_best_places():
    doc_of = ["x", "x", "y", "z"]
    rankings = {"dense": [2, 0, 3], "bm25": [0, 1, 2]}
    order = document_ranking(rankings, doc_of, k=10)
    # x: 1/12 + 1/11 ; y: 1/11 + 1/13 ; z: 1/13
    assert order == ["x", "y", "z"]
    assert document_ranks(rankings, doc_of) == {2: 2, 0: 1, 3: 3, 1: 1}


def test_scaled_scores_reorder_rows_by_their_factor():
    fused = [(0, 0.30, {"bm25": 1}), (1, 0.25, {"bm25": 2}), (2, 0.10, {"bm25": 3})]
    # row 0 comes from a collection weighted 0.5: 0.15 now falls behind row 1 (0.25), ahead of row 2
    scaled = scale_scores(fused, [0.5, 1.0, 1.0])
    assert [row for row, _, _ in scaled] == [1, 0, 2]
    assert [score for _, score, _ in scaled] == [0.25, 0.15, 0.10]
    assert scaled[1][2] == {"bm25": 1}  # the signals stay with their row


# ---- standardised score fusion ---------------------------------------------------------------------------


def test_score_fusion_keeps_a_large_lead_that_rrf_gives_away():
    # Row 5 is far ahead in the dense list; row 2 is a little ahead of it in BM25 and a distant second in dense.
    lists = {"dense": [(5, 0.95), (2, 0.60), (3, 0.58), (4, 0.57)],
             "bm25": [(2, 10.0), (5, 9.8), (3, 2.0), (4, 1.0)]}
    assert standardised_score_fusion(lists)[0][0] == 5
    # RRF sees only the places (first and second in both): a tie, which goes to the lower row.
    assert reciprocal_rank_fusion({n: [r for r, _ in f] for n, f in lists.items()}, k=5)[0][0] == 2


def test_score_fusion_gives_nothing_for_a_row_a_list_lacks_and_never_goes_below_zero():
    fused = standardised_score_fusion({"dense": [(7, 0.9), (8, 0.5)], "bm25": [(9, 4.0), (7, 3.0), (10, 1.0)]})
    scores = {row: score for row, score, _ in fused}
    assert min(scores.values()) >= 0
    assert scores[8] == 0.0 and scores[10] == 0.0  # each its list's last row, and not in the other
    assert scores[7] > scores[9]  # first in dense and found by BM25 beats first in BM25 alone
    assert dict((row, signals) for row, _, signals in fused)[7] == {"dense": 1, "bm25": 2}


def test_score_fusion_weights_scale_a_list_and_ties_go_to_the_lower_row():
    lists = {"a": [(3, 2.0), (4, 1.0)], "b": [(4, 2.0), (3, 1.0)]}
    assert [row for row, _, _ in standardised_score_fusion(lists)] == [3, 4]  # equal: lower row first
    assert [row for row, _, _ in standardised_score_fusion(lists, {"a": 0.5})] == [4, 3]


def test_scores_that_do_not_spread_add_nothing():
    assert standardised_above_floor([3.0, 3.0, 3.0]).tolist() == [0.0, 0.0, 0.0]
    assert standardised_above_floor([]).tolist() == []
    lifted = standardised_above_floor([3.0, 2.0, 1.0])
    assert lifted[-1] == 0.0 and lifted[0] > lifted[1] > 0
