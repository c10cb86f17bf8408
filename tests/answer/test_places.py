"""Questions name the counties of the indexed documents: in Chinese (jieba does not tag a county such as
仁怀 as a place) and in English by their pinyin."""

from __future__ import annotations

from answer.places import document_places, with_document_places
from answer.question import analyse
from policyqa.models import Document

DOCS = {
    "a": Document("a", "仁怀市品牌学校创建工作实施方案", "…", issuer="仁怀市教育局"),
    "b": Document("b", "泾源县新优质学校培育规划", "…"),
}


def test_places_come_from_issuers_and_titles():
    assert document_places(DOCS) == {"renhuai": "仁怀", "jingyuan": "泾源"}


def test_an_english_question_names_a_place_by_its_pinyin():
    assert with_document_places(analyse("Which office leads the project in the Renhuai plan?"), DOCS).names == ("仁怀",)
    assert with_document_places(analyse("What does Jingyuan's plan say?"), DOCS).names == ("泾源",)
    assert with_document_places(analyse("What does the plan say?"), DOCS).names == ()


def test_a_chinese_question_names_a_county_of_the_documents():
    assert "仁怀" in with_document_places(analyse("仁怀的方案谁牵头?"), DOCS).names
    q = analyse("这个方案谁牵头?")
    assert with_document_places(q, DOCS) is q


def test_a_long_questions_story_place_is_not_named():
    story = "我家在仁怀农村，孩子今年刚上初中，班主任说学校要搞艺术展演，每个孩子都得参加还要交钱买服装。请问国家对这种收费有什么规定吗？"
    q = analyse(story)
    assert q.style == "long"
    assert "仁怀" not in with_document_places(q, DOCS).names
