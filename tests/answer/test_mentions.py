"""A question that names one document (by 文号, or by issuer and year) is searched in that document only; one
that names places, in the documents that mention them."""

from __future__ import annotations

from functools import cache

import pytest
from helpers import EXTCORPUS

from answer.law_search import search_filters
from answer.mentions import named_document, place_documents
from answer.places import with_document_places
from answer.question import analyse
from ingest.chunking import ChunkSettings
from ingest.pipeline import prepare_documents
from retrieval.filters import SearchFilters

QUANZHOU = "06_quanzhou_meiyu_shishi_fangan_2017"
NANTONG = "05_nantong_meiyu_tiyu_shishi_yijian_2018"
GUOBAN_71 = "02_meiyu_yijian_guobanfa_2015_71"
MOE_2017 = "03_moe_tiyu_meiyu_jianzhi_jiaoshi_banfa_2017"


@cache
def documents() -> dict:
    return {d.doc_id: d for d in prepare_documents([EXTCORPUS], ChunkSettings()).documents}


def test_ids_used_here_exist():
    assert {GUOBAN_71, MOE_2017, QUANZHOU, NANTONG} <= set(documents())


@pytest.mark.parametrize("question, doc_id", [
    ("国办71号文说学校美育质量监测几年搞一次?", GUOBAN_71),
    ("2015年国办那个美育意见里工作机制谁牵头?", GUOBAN_71),
    ("What does the 2015 State Council opinion ask schools to do?", GUOBAN_71),
    ("教育部2017年发的兼职教师办法,兼职教师最多多大年纪?", MOE_2017),
])
def test_a_named_document(question, doc_id):
    assert named_document(analyse(question), documents()) == doc_id


@pytest.mark.parametrize("question", [
    "美育质量监测几年搞一次?",  # names no document
    "教育部的文件说兼职教师怎么管?",  # an issuer without a year fits two documents
    "国办71号文和泉州方案对自评的要求一样吗?",  # a second document, named by place
    "国办71号文和教体艺7号文分别是哪天发的?",  # about two documents
    "2099年国办的意见说了啥?",  # no such document
])
def test_no_single_named_document(question):
    assert named_document(analyse(question), documents()) is None


@pytest.mark.slow
def test_search_stays_in_the_named_document_unless_filters_say_otherwise(ext_index):
    question = "国办71号文说要搞哪些群体性艺术活动?"
    assert {h.chunk.doc_id for h in ext_index.search(question)} == {GUOBAN_71}
    chosen = SearchFilters(doc_ids=[MOE_2017])
    assert {h.chunk.doc_id for h in ext_index.search(question, filters=chosen)} == {MOE_2017}
    assert {c["doc_id"] for c in ext_index.ask(question).to_dict()["citations"]} == {GUOBAN_71}


def analysed(question: str):
    return with_document_places(analyse(question), documents())


@pytest.mark.parametrize("question, expected", [
    ("泉州的方案对学校美育自评有什么要求?", {QUANZHOU}),
    ("南通和泉州分别怎么要求美育课时?", {NANTONG, QUANZHOU}),  # a comparison of two places: both
    ("国办71号文和泉州方案分别对自评怎么要求?", None),  # the other side is named by 文号, not by place
    ("拉萨的方案对美育课时有什么要求?", None),  # no document mentions it: composition refuses
    ("美育课时有什么要求?", None),  # names no place
])
def test_documents_of_the_places_a_question_names(question, expected):
    assert place_documents(analysed(question), documents()) == expected


def test_search_filters_keep_to_the_named_places_within_the_callers_filters():
    docs = documents()
    assert search_filters(analysed("泉州的方案对学校美育自评有什么要求?"), docs, None).doc_ids == [QUANZHOU]
    chosen = SearchFilters(doc_ids=[GUOBAN_71])  # the caller's choice of documents is kept as given
    assert search_filters(analysed("泉州的方案对学校美育自评有什么要求?"), docs, chosen).doc_ids == [GUOBAN_71]
    assert search_filters(analysed("美育课时有什么要求?"), docs, None).doc_ids == []


@pytest.mark.slow
def test_search_stays_in_the_documents_of_the_named_place(ext_index):
    mentioning = {doc_id for doc_id, d in ext_index.index.documents.items() if "泉州" in d.title + d.text}
    hits = ext_index.search("泉州那边学校美育工作自评是怎么要求的?")
    assert hits and {h.chunk.doc_id for h in hits} <= mentioning
