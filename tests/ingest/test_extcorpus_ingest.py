"""Ingest on the twelve real documents of evals/corpora/extcorpus, used as they are (nobody tuned for them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import EXTCORPUS as EXT

from ingest.chunking import ChunkSettings
from ingest.pipeline import load_document, prepare_documents


def doc(name: str):
    return load_document(next(EXT.glob(f"{name}*.txt")))


def test_all_twelve_documents_ingest_into_clause_trees():
    report = prepare_documents([EXT], ChunkSettings())
    assert report.errors == []
    assert len(report.documents) == 12  # SOURCES.md, the folder's notes, is not a document
    for d in report.documents:
        assert len(d.clauses) > 5, d.doc_id
        assert d.title, d.doc_id
    for c in report.chunks:
        assert c.text == next(d for d in report.documents if d.doc_id == c.doc_id).text[c.start:c.end]


def test_nantong_yields_its_28_duty_records():
    d = doc("05_")
    assert len(d.records) == len(re.findall(r"〔责任单位", (EXT / Path(d.source_path).name).read_text())) == 28
    first = d.records[0]
    assert first.task == "科学设定美育课程目标"
    assert first.lead == ["市教育局"] and first.assisting == ["各县(市、区)政府"]
    clause_ids = {c.clause_id for c in d.clauses}
    assert all(r.clause_id in clause_ids for r in d.records)


def test_quanzhou_lead_and_cooperating_lines_become_records():
    d = doc("06_")
    lines = len(re.findall(r"^\s*牵头(部门|单位)[:：]", (EXT / Path(d.source_path).name).read_text(), re.M))
    assert len(d.records) == lines > 15
    first = d.records[0]
    assert first.lead == ["市教育局"] and first.assisting == ["市人社局", "文广新局", "团市委"]
    assert first.lead_label == "牵头部门"


@pytest.mark.parametrize("name, articles", [("10_", 86), ("11_", 63), ("12_", 48)])
def test_laws_yield_their_articles(name, articles):
    d = doc(name)
    numbers = [c for c in d.clauses if c.clause_id.split(".")[-1].startswith("第") and "条" in c.number]
    assert len(numbers) == articles
    assert any(c.path.startswith("第一章") for c in d.clauses)


def test_metadata_from_text_without_sidecar():
    d = doc("02_")
    assert d.doc_number == "国办发〔2015〕71号"
    assert d.issuer == "国务院办公厅" and d.date == "2015-09-15"
    assert d.doc_type == "意见"


def test_cover_notice_is_told_apart_from_the_document_it_issues():
    d = doc("03_")
    assert d.doc_number == "教体艺〔2017〕7号"
    assert [p["kind"] for p in d.parts] == ["cover_notice", "issued_document"]
    assert d.parts[1]["title"] == "学校体育美育兼职教师管理办法"
    assert d.clauses[0].clause_id.endswith("#notice")


def test_joint_document_lists_every_signer():
    signers = doc("07_").issuer.split("、")
    assert len(signers) == 6
    assert signers[0] == "广西壮族自治区教育厅" and signers[-1] == "广西壮族自治区文化和旅游厅"


def test_unsigned_documents_take_the_issuer_from_the_title():
    assert doc("06_").issuer == "泉州市人民政府办公室"
    assert doc("01_").issuer == "中共中央办公厅、国务院办公厅"
    assert doc("10_").issuer == ""  # 中华人民共和国教育法: no issuing body in its title or text
