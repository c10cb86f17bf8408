"""Follow-up questions read against the conversation (answer/followup.py), with the real question analysis."""

from __future__ import annotations

import pytest

from answer.followup import Turn, last_answer, own_value_kinds, quoted_chunk, quoted_document, resolve
from answer.question import analyse

LEAD = "哪个股室牵头实施特色创新课程构建工程?"
PLACES = ("仁怀", "蒲城", "泾源", "北京")  # the places of corpus/'s documents (answer.places finds them)


def user(*texts: str) -> list[dict]:
    return [{"role": "user", "content": t} for t in texts]


def test_a_followup_carries_the_topic_of_the_last_question():
    r = resolve("那协助的呢?", user(LEAD))
    assert "特色创新课程构建工程" in r.resolved and "协助" in r.resolved
    assert "牵头" not in r.resolved  # the earlier asking part is replaced, not kept
    assert r.carried_from == LEAD and r.how == "topic" and r.changed


def test_three_turns_keep_the_topic_through_the_second():
    r = resolve("什么时候完成?", user("哪个股室牵头学校治理现代化工程?", "协助的呢?"))
    assert "学校治理现代化工程" in r.resolved and "什么时候完成" in r.resolved


def test_x_ne_puts_x_in_place_of_its_counterpart():
    assert resolve("中期目标呢?", user("泾源新优质校的短期目标是几年?")).resolved == "泾源新优质校的中期目标是几年?"
    r = resolve("市级的呢?", user("泾源五年内要为新优质校培养多少县级骨干教师?"))
    assert r.resolved == "泾源五年内要为新优质校培养多少市级骨干教师?" and r.how == "replaced"


def test_x_ne_without_a_counterpart_keeps_the_whole_earlier_question():
    r = resolve("那幼儿园呢?", user("仁怀要培育几所品牌中小学?"))
    assert r.resolved.startswith("仁怀要培育几所品牌中小学?") and "幼儿园" in r.resolved


def test_english_followups():
    r = resolve("What about the assisting offices?", user("Which office leads the education informatization "
                                                           "upgrade project in Renhuai?"))
    assert "informatization upgrade project" in r.resolved and "assisting offices" in r.resolved
    assert resolve("How many of them are high schools?", user("How many brand schools will Renhuai cultivate?")).changed


def test_a_question_with_its_own_topic_starts_fresh():
    assert resolve("平安校园保障工程谁牵头?", user(LEAD)).how == "alone"
    r = resolve("蒲城每个学科中心组每学年列支多少经费?", user("泾源城关第二小学开展了多少个社团?"), places=PLACES)
    assert r.resolved == r.question and r.carried_from is None


def test_an_opener_before_a_question_about_another_place_starts_fresh():
    r = resolve("另外,北京市要求全市学校在哪一年全面达到管理标准?", user("泾源县第二中学的德育工作室有什么目标?"),
                places=PLACES)
    assert r.how == "alone"
    # with few topic words of its own the opener still carries the topic, the place swapped in
    assert resolve("那北京呢?", user("泾源五年内要培养多少县级骨干教师?"), places=PLACES).changed


def test_a_topic_without_a_place_keeps_the_conversations_place():
    r = resolve("培训期间工资怎么算?", user("蒲城对落聘的教师怎么处理?"), places=PLACES)
    assert r.how == "place" and r.resolved.startswith("蒲城")


def test_no_history_and_assistant_turns():
    assert resolve("那协助的呢?", []).resolved == "那协助的呢?"
    # only the user's questions carry a topic; the answers between them are not read
    turns = [Turn("user", LEAD), Turn("assistant", "平安校园保障工程由法规安全股牵头[1]。")]
    assert "特色创新课程构建工程" in resolve("那协助的呢?", turns).resolved


def test_only_a_carried_topic_without_a_place_keeps_to_the_quoted_document():
    assert resolve("那协助的呢?", user(LEAD), places=PLACES).same_document
    assert not resolve("那蒲城的呢?", user(LEAD), places=PLACES).same_document  # "X呢": X may be elsewhere
    assert not resolve("蒲城县的教育质量提升专项奖励资金有多少?", user(LEAD), places=PLACES).same_document


def test_last_answer_is_the_turn_that_ends_the_history():
    assert last_answer([*user(LEAD), {"role": "assistant", "content": "由教研室牵头"}]) == "由教研室牵头"
    assert last_answer([{"role": "assistant", "content": "由教研室牵头"}, *user(LEAD)]) == ""
    assert last_answer([Turn("assistant", "由教研室牵头")]) == "由教研室牵头"
    assert last_answer([]) == ""


PUCHENG = "pucheng-quality-plan-2021-2023"
# A quote of the Pucheng plan, as an answer gives it (verbatim, with its citation mark).
PUCHENG_QUOTE = "设立深化教育体制机制改革专项资金和教育质量提升专项奖励资金各1000万/年[1]。"


@pytest.mark.slow
def test_quoted_document_finds_the_clause_an_answer_quotes(real_index):
    index = real_index.index
    assert quoted_document(PUCHENG_QUOTE, index) == PUCHENG
    answer = real_index.ask(LEAD).answer.answer  # "“实施特色创新课程构建工程”由教研室牵头…": the task in quotes
    assert quoted_document(answer, index) == "renhuai-brand-schools-2017"
    assert quoted_document("文件中没有找到能回答这个问题的依据。", index) is None
    assert quoted_document("学校要加强管理,落实责任。", index) is None  # common words quote no clause


@pytest.mark.slow
def test_a_followup_is_searched_in_the_document_the_previous_answer_quoted(real_index):
    history = [*user("教育经费有什么保障措施?"), {"role": "assistant", "content": PUCHENG_QUOTE}]
    result = real_index.ask("那奖励怎么落实?", history=history)
    assert result.resolved_question and result.resolved_question.endswith("奖励怎么落实?")
    assert result.answer.citations and {c.chunk.doc_id for c in result.answer.citations} == {PUCHENG}
    assert {h.chunk.doc_id for h in result.hits} == {PUCHENG}


@pytest.mark.slow
def test_a_followup_pointing_back_starts_from_the_clause_just_quoted(real_index):
    # "这笔钱" is what the answer quoted: that clause leads the hits, although the carried topic (经费保障)
    # matches the plan's funding section better
    history = [*user("蒲城的经费怎么保障?"), {"role": "assistant", "content": PUCHENG_QUOTE}]
    result = real_index.ask("这笔钱每年多少?", history=history)
    quoted = quoted_chunk(PUCHENG_QUOTE, real_index.index)
    assert quoted is not None and result.hits[0].chunk.chunk_id == quoted.chunk_id
    assert "1000万" in result.answer.answer


def test_a_topic_shift_marker_starts_fresh():
    assert resolve("换个问题:教师培训经费从哪里出?", user(LEAD), places=PLACES).how == "alone"
    assert resolve("By the way, who leads the informatization project?",
                   user("What is the deadline of the curriculum project?")).how == "alone"
    assert resolve("另外,协助的呢?", user(LEAD), places=PLACES).how == "topic"  # 另外 alone still goes on


def test_an_ordinal_counts_into_the_list_talked_about():
    resolved = resolve("最后一轮要评出多少所?", user("泾源的示范学校分几轮评选?"), places=PLACES)
    assert resolved.how == "topic" and resolved.resolved.startswith("泾源的示范学校分轮评选")
    english = resolve("And who checks the second stage?", user("What must schools finish in the first stage?"))
    assert english.resolved == "What must schools finish in the second stage: And who checks the second stage?"


def test_the_pieces_of_a_question_word_are_no_topic_of_its_own():
    resolved = resolve("什么时候开始实施?", user(LEAD), places=PLACES)  # 什么时候 -> 什么 + 时候
    assert resolved.how == "topic" and resolved.resolved.startswith("实施特色创新课程构建工程")


def test_a_followup_wants_the_values_its_own_words_ask_for():
    r = resolve("那办公电话呢?", user("县教育局的电子邮箱是什么?"))
    resolved, asked = analyse(r.resolved), analyse(r.question)
    assert "email" in resolved.value_kinds  # the carried question asks for the e-mail
    assert own_value_kinds(resolved, asked).value_kinds == ("phone",)
    # a follow-up asking for no value of its own keeps the carried question's
    r = resolve("那协助的呢?", user("哪个股室牵头,什么时候完成?"))
    resolved = analyse(r.resolved)
    assert own_value_kinds(resolved, analyse(r.question)) is resolved
