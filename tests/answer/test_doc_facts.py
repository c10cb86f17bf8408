"""Answers about documents themselves (文号, issue date), on the twelve extcorpus documents' metadata."""

from __future__ import annotations

from answer.compose import Composer, compose_answer
from answer.doc_facts import date_forms, documents_by_number
from answer.question import analyse
from answer.refusal import ALWAYS_ANSWER
from policyqa.models import Clause, Document
from retrieval.search import SearchHit

ANSWER = Composer(encoder=None, refusal=ALWAYS_ANSWER)  # composition only: no refusal model, no encoder


def doc(doc_id: str, number: str, date: str, text: str) -> Document:
    clause = Clause(f"{doc_id}#preamble", "", "", "(正文前部分)", 0, 0, len(text))
    return Document(doc_id, f"标题{doc_id}", text, doc_number=number, date=date, clauses=[clause])


DOCS = {
    "a": doc("a", "国办发〔2015〕71号", "2015-09-15", "国务院办公厅关于全面加强和改进学校美育工作的意见\n国办发〔2015〕71号\n"
             "各省、自治区、直辖市人民政府:\n加强美育。\n国务院办公厅\n2015年9月15日\n"),
    "b": doc("b", "教体艺〔2017〕7号", "2017-10-08", "教育部关于印发办法的通知\n教体艺〔2017〕7号\n2017年10月8日\n"),
}


def test_documents_are_found_by_the_number_staff_use():
    assert [d.doc_id for d in documents_by_number("国办71号文是哪天发的?", DOCS)] == ["a"]
    assert [d.doc_id for d in documents_by_number("2017年7号文件", DOCS)] == ["b"]
    assert documents_by_number("2016年71号文", DOCS) == []
    assert date_forms("2015-09-15") == ["2015年9月15日", "2015年09月15日"]


def test_issue_date_answer_cites_the_line_that_shows_it():
    hits = []  # retrieval found nothing useful: the number in the question still names the document
    answer = compose_answer(analyse("国办71号文是哪天发的?"), hits, DOCS, ANSWER)
    assert answer.refused is False
    assert "2015年9月15日" in answer.answer and "[1]" in answer.answer
    cited = answer.citations[0]
    assert cited.document.doc_id == "a" and "2015年9月15日" in cited.chunk.text
    assert DOCS["a"].text[cited.chunk.start:cited.chunk.end] == cited.chunk.text


def test_doc_numbers_of_two_documents():
    hits = [SearchHit(compose_chunk(DOCS[d]), 1.0) for d in ("b", "a")]
    answer = compose_answer(analyse("这两个文件的文号分别是啥?"), hits, DOCS, ANSWER)
    assert "教体艺〔2017〕7号" in answer.answer and "国办发〔2015〕71号" in answer.answer
    assert [c.n for c in answer.citations] == [1, 2]


def compose_chunk(d: Document):
    from policyqa.models import Chunk

    return Chunk(f"{d.doc_id}#preamble", d.doc_id, f"{d.doc_id}#preamble", "(正文前部分)", d.text, 0, len(d.text),
                 index_text=d.text)


def test_documents_named_by_title_words():
    from answer.doc_facts import documents_by_title

    docs = {"m": doc("m", "教体艺〔2017〕7号", "2017-10-08", "…"), "j": doc("j", "教体艺厅函〔2019〕41号", "2019-06-11", "…")}
    docs["m"].title = "教育部关于印发《学校体育美育兼职教师管理办法》的通知"
    docs["j"].title = "教育部办公厅关于开展体育美育浸润行动计划的通知"
    found = documents_by_title("教育部兼职教师管理办法和浸润行动计划通知,文号分别是啥?", docs)
    assert [d.doc_id for d in found] == ["m", "j"]
