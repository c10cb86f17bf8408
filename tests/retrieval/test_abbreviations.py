"""Abbreviations read from the index's vocabulary (retrieval/abbreviations.py): a question's 家暴 meets the
law's 家庭暴力 in BM25."""

from __future__ import annotations

from pathlib import Path

from retrieval.abbreviations import abbreviation_table, long_forms
from retrieval.expansion import with_index_words
from retrieval.stores import LexicalStore
from retrieval.tokenize import query_tokens, tokenize

LAW = Path(__file__).resolve().parents[2] / "evals" / "corpora" / "lawcorpus" / "04_family_education_law.txt"


def test_a_four_character_word_of_two_words_shortens_to_their_first_characters():
    table = abbreviation_table(["家庭", "暴力", "家庭暴力", "军事", "训练", "军事训练", "五十", "六条", "五十六条",
                                "家长会议"])
    assert table["家暴"] == ("家庭暴力",)
    assert table["军训"] == ("军事训练",)
    assert "五六" not in table  # numbers are not terms
    assert "家会" not in table  # 家长 and 会议 are not both words of the index


def test_only_words_the_index_lacks_and_no_everyday_word_are_expanded():
    vocabulary = {"家庭", "暴力", "家庭暴力", "主管", "人员", "主管人员"}
    table = abbreviation_table(vocabulary)
    assert long_forms("家暴", vocabulary, table) == ("家庭暴力",)
    assert long_forms("家庭", vocabulary, table) == ()  # the index has the word itself
    assert long_forms("主人", vocabulary, table) == ()  # an everyday word, not short for 主管人员
    tokens = ["父母", "家暴", "父母"]
    # repeated words stay repeated (BM25 counts them); the long form comes once, after them
    assert with_index_words(tokens + ["家暴"], vocabulary, table) == tokens + ["家暴", "家庭暴力"]


def test_a_shortened_question_finds_the_article_that_writes_the_term_in_full():
    articles = [line for line in LAW.read_text(encoding="utf-8").splitlines() if line.startswith("第")]
    store = LexicalStore([tokenize(a) for a in articles])
    query = query_tokens("家暴犯法吗")
    assert store.search(query, 3) == []  # none of the question's words is in the law
    expanded = store.with_index_words(query)
    assert "家庭暴力" in expanded
    found = [articles[row] for row, _ in store.search(expanded, 3)]
    assert found and all("家庭暴力" in a for a in found)
    # among other words, the long form lifts the articles that use it
    mixed = [articles[row] for row, _ in store.search(store.with_index_words(query_tokens("父母家暴孩子犯法吗")), 2)]
    assert any("家庭暴力" in a for a in mixed)
