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


def test_the_item_margin_narrows_a_list_when_its_answers_stay():
    """Two questions on a county notice's list of opening times, each answered by one item: quoting the item alone
    keeps both answers and is shorter, so a margin that narrows wins over quoting the list whole (0)."""
    from hits import listed_section

    from answer.question import analyse
    from answer.sentences import AnswerWeights
    from evals.fit import Item, choose_item_margin

    doc, section = listed_section()
    asked = [("闭馆时间最晚到几点?", ["21:00"]), ("图书馆每周开放几天?", ["6天"])]
    items = [Item("s", {"question": q, "answerable": True, "answer_terms": terms}, analyse(q), [section],
                  {"n": doc}, doc.text) for q, terms in asked]
    chosen = choose_item_margin(items, None, AnswerWeights(semantic=0.0), lambda _: None)
    assert chosen.item_margin > 0
    # an answer term in an item the sentences do not point to: narrowing loses it, so the list stays whole
    items.append(Item("s", {"question": "闭馆时间最晚到几点?", "answerable": True, "answer_terms": ["寒暑假"]},
                      analyse("闭馆时间最晚到几点?"), [section], {"n": doc}, doc.text))
    items.append(Item("s", {"question": "图书馆每周开放几天?", "answerable": True, "answer_terms": ["寒暑假"]},
                      analyse("图书馆每周开放几天?"), [section], {"n": doc}, doc.text))
    assert choose_item_margin(items, None, AnswerWeights(semantic=0.0), lambda _: None).item_margin == 0.0
