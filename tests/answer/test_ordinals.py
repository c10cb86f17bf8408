"""A question counting into a list ("第三步", "最后一批", "the last stage"): the item it means leads the hits,
found by the documents' own counting words or by its place in the clause tree; hand-built documents."""

from __future__ import annotations

from hits import hit, law

from answer.ordinals import by_ordinal
from answer.question import analyse
from ingest.chunking import ChunkSettings, chunk_document
from ingest.structure import parse_clauses
from policyqa.models import Document
from retrieval.search import SearchHit

BATCHES = law("b", "实施方案", [
    "第一条 2018年认定第一批达标学校,比例为30%。",
    "第二条 2019年开展第二批达标验收,比例为40%。",
    "第三条 2020年认定第三批达标学校,比例为30%,实现全面达标。",
])
STEPS_TEXT = ("一、工作原则\n坚持学校主体,尊重每所学校的办学传统和特色。\n二、实施步骤\n(一)规划论证阶段。2021年4月-2021年8月,制定方案。\n"
              "(二)项目打造阶段。2021年9月-2021年12月,打造项目。\n(三)特色创建阶段。2022年1月-2022年6月,形成特色。\n")
STEPS = Document("s", "一校一品实施方案", STEPS_TEXT, clauses=parse_clauses("s", STEPS_TEXT))


def clause_hit(doc: Document, chunk, rank: int) -> SearchHit:
    return SearchHit(chunk, 1.0 / rank, 0.85, {"dense": rank, "bm25": rank}, {"dense": 0.85, "dense:use": 0.4})


def no_chunks(doc_id: str):
    raise AssertionError("the item is among the hits: the index is not read")


def test_questions_name_a_place_in_a_list_not_an_article():
    assert analyse("最后一批在什么时间段认定?").ordinal == (-1, "批")
    assert analyse("北京第二批达标学校占多少,最后一批呢?").ordinal == (-1, "批")  # the last one named
    assert analyse("一校一品建设第三步是什么时间段?").ordinal == (3, "步")
    assert analyse("And the last stage, when does that begin?").ordinal == (-1, "阶段")
    assert analyse("义务教育法第二十七条说的是什么?").ordinal is None
    assert analyse("学校能开除学生吗?").ordinal is None


def test_the_last_batch_is_the_highest_the_document_counts_to():
    hits = [hit(BATCHES, 2), hit(BATCHES, 1), hit(BATCHES, 3)]
    ordered = by_ordinal(analyse("最后一批占多大比例?"), hits, {"b": BATCHES}, no_chunks)
    assert ordered[0].chunk.text.startswith("第三条") and ordered[0].signals["ordinal"] == 1
    assert [h.chunk.text[:3] for h in ordered[1:]] == ["第二条", "第一条"]


def test_an_item_search_missed_is_taken_from_the_index():
    chunks = chunk_document(STEPS, ChunkSettings(max_chars=60, whole_clauses=False))
    first = next(c for c in chunks if c.clause_path.endswith("(一)规划论证阶段"))
    heading = next(c for c in chunks if c.clause_id == "s#一")
    hits = [clause_hit(STEPS, first, 1), clause_hit(STEPS, heading, 2)]
    ordered = by_ordinal(analyse("实施步骤第三步是什么时间段?"), hits, {"s": STEPS},
                         lambda doc_id: [c for c in chunks if c.doc_id == doc_id])
    assert ordered[0].chunk.text.startswith("(三)特色创建阶段") and len(ordered) == 2


def test_a_list_kept_whole_is_narrowed_to_the_item_asked_about():
    chunks = chunk_document(STEPS, ChunkSettings())
    whole = next(c for c in chunks if c.clause_id == "s#二")
    assert "(三)特色创建阶段" in whole.text  # the list is one chunk
    ordered = by_ordinal(analyse("最后一个阶段什么时候开始?"), [clause_hit(STEPS, whole, 1)], {"s": STEPS}, no_chunks)
    item = ordered[0].chunk
    assert item.text == "(三)特色创建阶段。2022年1月-2022年6月,形成特色。"
    assert STEPS.text[item.start:item.end] == item.text and item.clause_id == "s#二.(三)"


def test_a_question_counting_nothing_keeps_the_hits():
    hits = [hit(BATCHES, 2), hit(BATCHES, 1)]
    assert by_ordinal(analyse("达标学校比例是多少?"), hits, {"b": BATCHES}, no_chunks) == hits
