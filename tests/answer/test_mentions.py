"""A question that names one document (by 文号, or by issuer and year) is searched in that document only."""

from __future__ import annotations

from functools import cache

import pytest
from helpers import EXTCORPUS

from answer.mentions import named_document
from answer.question import analyse
from ingest.chunking import ChunkSettings
from ingest.pipeline import prepare_documents
from retrieval.filters import SearchFilters

GUOBAN_71 = "02_meiyu_yijian_guobanfa_2015_71"
MOE_2017 = "03_moe_tiyu_meiyu_jianzhi_jiaoshi_banfa_2017"


@cache
def documents() -> dict:
    return {d.doc_id: d for d in prepare_documents([EXTCORPUS], ChunkSettings()).documents}


def test_ids_used_here_exist():
    assert {GUOBAN_71, MOE_2017} <= set(documents())


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
