"""Fusion as pure functions: reciprocal-rank fusion with weights, and the document ranking chunks share."""

from __future__ import annotations

from retrieval.fusion import document_ranking, document_ranks, reciprocal_rank_fusion, scale_scores


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
