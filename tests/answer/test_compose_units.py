"""Composition on hand-built hits (no index, no model): how a quote of part of an article is labelled."""

from __future__ import annotations

from hits import hit, law

from answer.compose import Composer, compose_answer
from answer.question import analyse
from answer.refusal import ALWAYS_ANSWER
from answer.sentences import AnswerWeights


def test_part_of_an_article_numbered_in_digits_is_quoted_under_its_label():
    # "第1条" (digits, as some regulations number them); quote_whole 10: the best sentences, not the whole
    doc = law("t", "某某市学校安全条例", ["第1条 学校应当建立安全管理制度。学校应当配备保安人员。", "第2条 教师应当关心学生。"])
    composer = Composer(None, AnswerWeights(semantic=0.0, quote_whole=10), ALWAYS_ANSWER)
    answer = compose_answer(analyse("学校要建立什么安全管理制度?"), [hit(doc, 1)], {"t": doc}, composer)
    assert not answer.refused
    assert answer.answer.startswith("《某某市学校安全条例》第1条规定:学校应当建立安全管理制度"), answer.answer
