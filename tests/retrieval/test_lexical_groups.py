"""BM25 with collections: each collection's rows in the order an index of that collection alone gives them,
the collections sharing the list by the whole index's scores (LexicalStore.grouped_scores)."""

from __future__ import annotations

import numpy as np

from retrieval.stores import LexicalStore

# Group 0: a bureau's own clauses; group 1: a law library in which 教师 is everywhere, so that it weighs
# little in the whole index while it is rare, and telling, among the bureau's clauses.
LOCAL = [["教师", "教师", "安全"], ["培训", "学校", "安全"], ["学校", "经费"], ["学校", "安全"]]
LIBRARY = [["教师", "资格"], ["教师", "工资"], ["教师", "考核"], ["教师", "聘任"], ["教师", "职务"], ["学生", "安全"]]
QUERY = ["教师", "培训"]


def ranked(store: LexicalStore, rows, groups=None) -> list[int]:
    return [row for row, _ in store.search(QUERY, len(rows), np.array(rows), groups)]


def test_each_collection_is_ordered_as_its_own_index_would_order_it():
    whole = LexicalStore(LOCAL + LIBRARY)
    groups = np.array([0] * len(LOCAL) + [1] * len(LIBRARY))
    alone = [row for row, _ in LexicalStore(LOCAL).search(QUERY, len(LOCAL))]
    local_rows = list(range(len(LOCAL)))
    # the whole index's weights reorder the bureau's clauses: 教师 is common there, 培训 rare
    assert ranked(whole, local_rows) != alone
    assert ranked(whole, local_rows, groups) == alone


def test_the_collections_share_the_list_by_the_whole_index_scores():
    whole = LexicalStore(LOCAL + LIBRARY)
    groups = np.array([0] * len(LOCAL) + [1] * len(LIBRARY))
    shared = whole.bm25.get_scores(QUERY)
    grouped = whole.grouped_scores(QUERY, groups)
    for group in (0, 1):
        rows = groups == group
        # a permutation of the group's own scores: no group gains or loses weight against the other
        assert sorted(grouped[rows]) == sorted(shared[rows])
    assert (grouped > 0).sum() == (shared > 0).sum()


def test_one_collection_scores_as_plain_bm25():
    store = LexicalStore(LOCAL)
    assert np.allclose(store.grouped_scores(QUERY, np.zeros(len(LOCAL), np.int64)), store.bm25.get_scores(QUERY))
