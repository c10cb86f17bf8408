"""Sentence scoring with hand-built hits: semantic similarity, lexical overlap, clause rank, asked values,
and the structural lines that answer nothing."""

from __future__ import annotations

from hits import KeywordEncoder, hit, law

from answer.question import analyse
from answer.sentences import FURNITURE, AnswerWeights, score_sentences, split_sentences

DOC = law("t", "某某法", [
    "第一条 为了保障学生的权利,制定本法。",
    "第二条 学校不得开除学生。学校应当对违纪学生进行批评教育。",
    "第三条 本法自2020年1月1日起施行。",
])
DOCS = {"t": DOC}
LEXICAL_ONLY = AnswerWeights(semantic=0.0, lexical=1.0, clause=0.0, value=0.0)


def test_sentences_are_split_at_sentence_ends_with_offsets():
    pieces = split_sentences(hit(DOC, 2).chunk)
    assert [text for _, text in pieces] == ["第二条 学校不得开除学生。", "学校应当对违纪学生进行批评教育。"]
    chunk = hit(DOC, 2).chunk
    assert all(chunk.text[start:start + len(text)] == text for start, text in pieces)


def test_lexical_overlap_picks_the_sentence_with_the_question_terms():
    ranked = score_sentences(analyse("学校能开除学生吗"), [hit(DOC, 1), hit(DOC, 2)], DOCS, None, LEXICAL_ONLY)
    assert ranked[0].text == "第二条 学校不得开除学生。"
    assert ranked[0].lexical > ranked[-1].lexical


def test_semantic_similarity_can_outweigh_overlap():
    encoder = KeywordEncoder(["批评教育"])
    semantic = AnswerWeights(semantic=2.0, lexical=0.1, clause=0.0, value=0.0)
    ranked = score_sentences(analyse("违纪了学校会批评教育吗"), [hit(DOC, 2)], DOCS, encoder, semantic)
    assert ranked[0].text.startswith("学校应当对违纪学生")
    assert ranked[0].semantic > ranked[1].semantic


def test_clause_rank_breaks_ties_between_equal_sentences():
    twin = law("u", "另一法", ["第一条 学校不得开除学生。"])
    weights = AnswerWeights(semantic=0.0, lexical=1.0, clause=0.5, value=0.0)
    ranked = score_sentences(analyse("学校能开除学生吗"), [hit(twin, 1), hit(DOC, 2)], {"t": DOC, "u": twin},
                             None, weights)
    assert ranked[0].hit == 0  # the first-ranked clause's sentence


def test_a_sentence_with_the_asked_value_gains():
    weights = AnswerWeights(semantic=0.0, lexical=0.0, clause=0.0, value=1.0)
    ranked = score_sentences(analyse("本法哪天开始施行?"), [hit(DOC, 1), hit(DOC, 3)], DOCS, None, weights)
    assert ranked[0].text.startswith("第三条") and ranked[0].value == 1.0


def test_the_title_line_and_bare_heading_count_little():
    doc = law("h", "关于加强学校美育工作的意见", ["关于加强学校美育工作的意见。", "学校美育课程每周不少于2课时。"])
    ranked = score_sentences(analyse("学校美育工作课时有什么要求"), [hit(doc, 1), hit(doc, 2)], {"h": doc}, None,
                             LEXICAL_ONLY)
    title = next(s for s in ranked if s.text.startswith("关于加强"))
    assert title.furniture and ranked[0].text.startswith("学校美育课程")
    # an attachment's name says what came with the notice, not what it says
    notice = law("n", "关于征求意见的通知", ["附件:某县学校美育工作课时安排(2021-2023年)", "学校美育课程每周不少于2课时。"])
    ranked = score_sentences(analyse("学校美育工作课时有什么要求"), [hit(notice, 1), hit(notice, 2)], {"n": notice},
                             None, LEXICAL_ONLY)
    assert next(s for s in ranked if s.text.startswith("附件")).furniture
    # so do a line that is only the document's number and the cover notice's own title
    for line in ("(国办发〔2015〕71号)", "某教字〔2017〕17号", "关于《某县美育三年行动计划(2021—2023年)》意见征集的通知"):
        assert FURNITURE.search(line), line
    assert not FURNITURE.search("关于美育课时,各校要开足开齐。")


def test_a_one_sentence_article_is_a_rule_not_a_bare_heading():
    """The parser takes an article's first sentence as its heading words (for the clause path); a
    one-sentence article is still the statement that answers, not furniture."""
    from ingest.structure import parse_clauses
    from policyqa.models import Document

    text = "第一条 为了保障教师的合法权益,制定本法。\n第二条 每年九月十日为教师节。\n"
    doc = Document("d", "某某法", text, clauses=parse_clauses("d", text))
    article = doc.clauses[1]
    assert article.heading == "每年九月十日为教师节"  # what makes it look like a bare heading
    ranked = score_sentences(analyse("教师节是哪天"), [hit(doc, 2)], {"d": doc}, None, LEXICAL_ONLY)
    assert ranked[0].text.startswith("第二条 每年九月十日") and not ranked[0].furniture
