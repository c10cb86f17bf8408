"""The refusal model and its features, on hand-built hits: what each feature measures, how the logistic
model turns features into a probability, and that the shipped model file loads and says where it came from."""

from __future__ import annotations

import math

import pytest
from hits import hit, law

from answer.question import analyse
from answer.refusal import (
    ALWAYS_ANSWER,
    FEATURE_DEPTH,
    FEATURES,
    RefusalModel,
    corpus_text,
    default_model,
    features,
    missing_values,
    unknown_share,
    value_sentences,
)
from answer.sentences import AnswerWeights, score_sentences

DOC = law("t", "某某法", [
    "第一条 教师享有带薪休假的权利。",
    "第二条 教师的工资由县级人民政府保障。",
    "第三条 教师应当有试用期。",
])
DOCS = {"t": DOC}
WEIGHTS = AnswerWeights(semantic=0.0)


def feature_values(question: str, hits):
    q = analyse(question)
    return features(q, hits, score_sentences(q, hits, DOCS, None, WEIGHTS), corpus_text(DOCS))


def test_every_feature_is_computed():
    values = feature_values("教师有带薪休假吗", [hit(DOC, 1), hit(DOC, 2)])
    assert set(values) == set(FEATURES)
    assert all(isinstance(v, float) for v in values.values())


def test_similarities_come_from_the_top_hits():
    values = feature_values("教师有带薪休假吗", [hit(DOC, 1, dense=0.9, use=0.6), hit(DOC, 2, dense=0.8, use=0.2)])
    assert values["dense_top"] == 0.9 and values["use_top"] == 0.6
    assert math.isclose(values["dense_margin"], 0.1) and math.isclose(values["use_margin"], 0.4)


def test_bm25_agreement_is_the_reciprocal_of_the_top_hits_bm25_rank():
    assert feature_values("教师", [hit(DOC, 1, signals={"dense": 1, "bm25": 4})])["bm25_agrees"] == 0.25
    assert feature_values("教师", [hit(DOC, 1, signals={"dense": 1})])["bm25_agrees"] == 0.0


def test_words_found_in_no_document():
    assert unknown_share(analyse("教师的工资谁保障"), corpus_text(DOCS)) == 0.0
    assert unknown_share(analyse("国家公祭日是哪天"), corpus_text(DOCS)) > 0.5


def test_a_long_storys_own_words_count_apart_from_the_asking_sentence():
    story = ("我前夫上个月带着孩子搬去了外地,电话也不接,微信也拉黑了,我找了他老家的亲戚,大家都说不知道,"
             "我已经好几个星期联系不上他们了。另外想问一下,教师的工资由谁保障?")
    values = feature_values(story, [hit(DOC, 2)])
    assert values["unknown_terms"] > 0.2  # 前夫, 外地, 电话… are in no document
    assert values["focus_unknown"] < values["unknown_terms"]  # the question asked is about what they hold


def test_an_asked_value_must_be_in_a_sentence_about_the_question():
    q = analyse("教师试用期是多久?")
    ranked = score_sentences(q, [hit(DOC, 3), hit(DOC, 1)], DOCS, None, WEIGHTS)
    assert missing_values(q, ranked) == ["count"]  # 试用期 without its length
    dated = law("d", "办法", ["第一条 教师试用期为一年。"])
    q_ranked = score_sentences(q, [hit(dated, 1)], {"d": dated}, None, WEIGHTS)
    assert missing_values(q, q_ranked) == []


def test_a_sentence_sharing_only_the_question_s_number_is_not_about_it():
    q = analyse("2024年高考分数线是多少?")
    in_force = law("f", "某某法", ["第四十二条 本法自2024年9月21日起施行。"])
    ranked = score_sentences(q, [hit(in_force, 1)], {"f": in_force}, None, WEIGHTS)
    assert missing_values(q, ranked) == ["count"]
    q = analyse("2019年投入多少资金?")  # the number narrows; the topic's words make the sentence about it
    plan = law("p", "方案", ["第一条 2019年投入资金500万元。", "第二条 本方案自2019年1月1日起施行。"])
    ranked = score_sentences(q, [hit(plan, 2), hit(plan, 1)], {"p": plan}, None, WEIGHTS)
    assert missing_values(q, ranked) == []
    assert [s.text for s in value_sentences(q, ranked, "count")] == ["第一条 2019年投入资金500万元。"]


def test_a_missing_definition_is_not_a_missing_value():
    """A law does not define every term it regulates: a question asking what a thing is can be answered by a
    rule about it, so the lack of a "是指" sentence is no reason to refuse."""
    rule = law("r", "办法", ["第一条 专门学校应当对学生进行法治教育。"])
    q = analyse("什么是专门学校?")
    assert q.value_kinds == ("definition",)
    assert missing_values(q, score_sentences(q, [hit(rule, 1)], {"r": rule}, None, WEIGHTS)) == []


def test_an_item_is_about_the_question_by_its_headings_too():
    """A dated item of a list ("2022年1月-6月,…") often shares no word with the question; the headings
    above it (its clause path) say what it is about."""
    from dataclasses import replace

    plan = law("p", "实施方案", ["2022年1月-2022年6月,各校要发挥项目的辐射带动作用。"])
    found = hit(plan, 1)
    q = analyse("特色学校创建的实施步骤第三步是什么时间段?")
    assert missing_values(q, score_sentences(q, [found], {"p": plan}, None, WEIGHTS)) == ["date", "period"]  # a span: start and end
    found.chunk = replace(found.chunk, clause_path="五、实施步骤 › (三)特色学校创建阶段")
    assert missing_values(q, score_sentences(q, [found], {"p": plan}, None, WEIGHTS)) == []


def test_a_sentence_naming_its_own_document_is_about_the_documents_title():
    """"本法自…起施行" shares no word with "职业教育法从哪天起施行?" but 本法 is the law the question names."""
    vocational = law("v", "中华人民共和国职业教育法", ["第一条 国家发展职业教育。", "第六十九条 本法自2022年5月1日起施行。"])
    q = analyse("职业教育法从哪天起施行?")
    ranked = score_sentences(q, [hit(vocational, 1), hit(vocational, 2)], {"v": vocational}, None, WEIGHTS)
    assert missing_values(q, ranked) == []
    # the same date in a sentence that does not name its document is not about the question
    plain = law("p", "中华人民共和国职业教育法", ["第一条 国家发展职业教育。", "第二条 2022年5月1日前完成统计。"])
    ranked = score_sentences(q, [hit(plain, 1), hit(plain, 2)], {"p": plain}, None, WEIGHTS)
    assert missing_values(q, ranked) == ["date"]


def test_the_model_is_a_calibrated_logistic_over_standardised_features():
    model = RefusalModel({"value_missing": -2.0}, 1.0, {"value_missing": 0.5}, {"value_missing": 0.5}, 0.5)
    assert math.isclose(model.probability({"value_missing": 0.0}), 1 / (1 + math.exp(-3.0)))
    assert math.isclose(model.probability({"value_missing": 1.0}), 1 / (1 + math.exp(1.0)))
    assert not model.refuses({"value_missing": 0.0}) and model.refuses({"value_missing": 1.0})
    assert RefusalModel.from_dict(model.to_dict()) == model
    assert not ALWAYS_ANSWER.refuses({name: 0.0 for name in FEATURES})


def test_the_shipped_model_names_its_provenance_and_known_features():
    model = default_model()
    assert set(model.weights) <= set(FEATURES)
    assert 0.0 <= model.threshold <= 1.0
    assert "evals.fit" in model.provenance


def test_the_shipped_model_counts_a_missing_value_against_answering():
    q = analyse("教师试用期是多久?")
    hits = [hit(DOC, 3), hit(DOC, 1)]
    values = features(q, hits, score_sentences(q, hits, DOCS, None, WEIGHTS), corpus_text(DOCS))
    assert values["value_missing"] == 1.0
    model = default_model()
    assert model.probability(values) < model.probability(values | {"value_missing": 0.0})


def test_a_question_wanting_a_value_is_answered_by_the_sentence_that_holds_it():
    from answer.compose import value_first

    notice = law("n", "关于征求意见的通知", [
        "请各学校认真研究征求意见稿并于12月20日前将书面修改意见反馈给教育局办公室。联系人:张老师。电话:0913-7221932。",
    ])
    q = analyse("征求意见稿的书面修改意见反馈给教育局,有联系方式吗?")
    ranked = score_sentences(q, [hit(notice, 1)], {"n": notice}, None, WEIGHTS)
    assert "0913" not in ranked[0].text  # the request shares the question's words; the phone line does not
    assert value_first(q, ranked)[0].text == "电话:0913-7221932。"
    # a question wanting no value keeps the order
    plain = analyse("征求意见稿的书面修改意见反馈给谁?")
    ranked = score_sentences(plain, [hit(notice, 1)], {"n": notice}, None, WEIGHTS)
    assert value_first(plain, ranked) == ranked


def test_features_read_only_the_clauses_the_model_was_fitted_on():
    # An asked sum that only the sixth clause holds: the answer may quote it, the refusal model does not see it.
    filler = [f"第{n}条 教师应当爱岗敬业,第{n}项要求。" for n in range(1, 6)]
    doc = law("u", "某某办法", [*filler, "第六条 教师培训经费按每人每年1000元安排。"])
    docs = {"u": doc}
    q = analyse("教师培训经费每人每年多少钱")
    hits = [hit(doc, n) for n in range(1, 7)]
    ranked = score_sentences(q, hits, docs, None, WEIGHTS)
    assert any(s.hit == 5 and "1000元" in s.text for s in ranked)  # the answer step reads it
    assert features(q, hits, ranked, corpus_text(docs))["value_missing"] == 1.0
    assert FEATURE_DEPTH == 5
    assert features(q, [hits[5], *hits[:4]], score_sentences(q, [hits[5], *hits[:4]], docs, None, WEIGHTS),
                    corpus_text(docs))["value_missing"] == 0.0


class UnreadableCorpus(str):
    """A corpus text that fails when searched (plumbing: shows which features read the corpus)."""

    def __contains__(self, word: object) -> bool:
        raise AssertionError(f"the corpus was searched for {word!r}")


def test_only_the_features_the_model_reads_are_computed():
    # The unknown-word features search the whole corpus for every term of the question: the answer step asks
    # only for the shipped model's own features, so an answer does not pay for them.
    q = analyse("教师试用期是多久?")
    hits = [hit(DOC, 3), hit(DOC, 1)]
    ranked = score_sentences(q, hits, DOCS, None, WEIGHTS)
    model = default_model()
    assert set(features(q, hits, ranked, UnreadableCorpus(corpus_text(DOCS)), model.weights)) == set(model.weights)
    everything = features(q, hits, ranked, corpus_text(DOCS))
    assert set(everything) == set(FEATURES)
    assert features(q, hits, ranked, corpus_text(DOCS), ["unknown_terms", "polar"]) == {
        "unknown_terms": everything["unknown_terms"], "polar": everything["polar"]}
    with pytest.raises(AssertionError, match="corpus was searched"):
        features(q, hits, ranked, UnreadableCorpus(corpus_text(DOCS)), ["focus_unknown"])
