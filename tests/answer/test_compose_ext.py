"""Answer composition on the twelve real extcorpus documents, with the real model: who issued a document,
questions that name a place or a law, list items read with their lead-in, what a signature is not."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

GUANGXI = "07_guangxi_meiyu_jiaoshi_changdi_sannian_xingdong_2021"
NINGBO = "12_ningbo_xuexiao_anquan_tiaoli_2020"
EDUCATION_LAW = "10_jiaoyufa_2021"


def verbatim(service, citation) -> bool:
    doc = service.index.documents[citation["doc_id"]]
    return doc.text[citation["start"]:citation["end"]] == citation["text"]


def test_joint_issuers_answered_from_the_signature(ext_index):
    result = ext_index.ask("广西那个美育教师配备三年行动计划是哪些部门联合印发的?").to_dict()
    assert not result["refused"]
    assert "广西壮族自治区人力资源和社会保障厅" in result["answer"] and "六部门联合印发" in result["answer"]
    cited = result["citations"][0]
    assert cited["doc_id"] == GUANGXI and "广西壮族自治区文化和旅游厅" in cited["text"] and verbatim(ext_index, cited)
    assert cited["issuer"].count("、") == 5  # the citation carries all six signers too


def test_joint_issuers_in_english(ext_index):
    result = ext_index.ask("Which departments jointly issued the Guangxi three-year plan for arts teachers?").to_dict()
    assert "jointly by 6 bodies" in result["answer"] and "广西壮族自治区财政厅" in result["answer"]


def test_a_named_place_confines_the_answer_to_its_documents(ext_index):
    # The Ningbo regulation covers school security but gives no guard-to-pupil ratio; another document's
    # "参加人数为30-40人" is a count, but not about Ningbo.
    assert ext_index.ask("宁波学校保安按多少学生配备一名?").answer.refused
    result = ext_index.ask("宁波的条例里,学生在学校自己伤害自己,学校要负责吗?").to_dict()
    assert not result["refused"] and {c["doc_id"] for c in result["citations"]} == {NINGBO}


def test_a_list_item_is_quoted_with_its_lead_in(ext_index):
    result = ext_index.ask("打篮球对抗时学生受了伤,宁波的条例说学校赔不赔?").to_dict()
    assert "不承担赔偿责任" in result["answer"] and "对抗性或者具有风险性的体育活动" in result["answer"]
    cited = next(c for c in result["citations"] if "对抗性" in c["text"])
    assert "学校不承担赔偿责任" in cited["text"] and verbatim(ext_index, cited)  # the whole 第三十二条


def test_a_named_law_is_answered_from_the_law_itself(ext_index):
    result = ext_index.ask("中小学由哪一级政府管?教育法怎么规定的?").to_dict()
    assert not result["refused"]
    assert result["citations"][0]["doc_id"] == EDUCATION_LAW
    assert "地方人民政府" in result["answer"]


def test_signatures_and_purpose_lines_do_not_answer(ext_index):
    result = ext_index.ask("广西的计划里发展改革部门负责啥?").to_dict()
    assert "立项审批" in result["answer"]
    assert "为贯彻落实" not in result["answer"]


def test_who_question_prefers_the_sentence_that_says_who(ext_index):
    result = ext_index.ask("体育美育浸润行动计划的经费由谁承担?").to_dict()
    assert "共同承担" in result["answer"]


def test_english_count_question_needs_a_sentence_about_it(ext_index):
    # The Compulsory Education Law is in the collection but sets no class size; a "不超过3名" elsewhere
    # is not an answer.
    assert ext_index.ask("How many pupils may a primary-school class have at most under the Compulsory "
                         "Education Law?").answer.refused


def test_a_document_fact_about_a_place_no_document_covers_is_refused(real_index):
    # The default corpus has no Guangxi document: its issuer question must not get Pucheng's issuer.
    assert real_index.ask("广西那个美育三年行动计划是哪几个部门联合发的?").answer.refused
    answer = real_index.ask("蒲城那个计划是哪个部门发的?").to_dict()
    assert not answer["refused"] and "蒲城县教育局" in answer["answer"]
