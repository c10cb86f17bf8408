"""Composition on hand-built hits (no index, no model): how a quote of part of an article is labelled, which
sentence leads."""

from __future__ import annotations

from hits import (
    article_with_items,
    hit,
    items_chunked_apart,
    law,
    lead_in_chunk,
    listed_section,
    notice_front_matter,
)

from answer.compose import Composer, after_label, compose_answer, one_quote_per_clause, pick
from answer.question import analyse
from answer.refusal import ALWAYS_ANSWER
from answer.sentences import AnswerWeights, Sentence
from policyqa.models import Chunk
from retrieval.search import SearchHit


def test_part_of_an_article_numbered_in_digits_is_quoted_under_its_label():
    # "第1条" (digits, as some regulations number them); quote_whole 10: the best sentences, not the whole
    doc = law("t", "某某市学校安全条例", ["第1条 学校应当建立安全管理制度。学校应当配备保安人员。", "第2条 教师应当关心学生。"])
    composer = Composer(None, AnswerWeights(semantic=0.0, quote_whole=10), ALWAYS_ANSWER)
    answer = compose_answer(analyse("学校要建立什么安全管理制度?"), [hit(doc, 1)], {"t": doc}, composer)
    assert not answer.refused
    assert answer.answer.startswith("《某某市学校安全条例》第1条规定:学校应当建立安全管理制度"), answer.answer


def test_a_question_counting_into_a_list_is_answered_by_the_item_not_the_lead_in():
    # the lead-in shares the question's words ("原则"); the item counted to (marked by answer/ordinals.py) is
    # the answer all the same
    doc = law("p", "某县推进特色学校建设方案", [
        "第1条 推进特色学校建设应遵循以下三项原则。",
        "第2条 优质原则。学校要打造优势项目。",
        "第3条 特性原则。学校要体现自己的办学特点。",
    ])
    hits = [hit(doc, 1), hit(doc, 3, signals={"dense": 2, "bm25": 2, "ordinal": 1})]
    composer = Composer(None, AnswerWeights(), ALWAYS_ANSWER)
    answer = compose_answer(analyse("特色学校建设遵循的原则,第二项原则是什么?"), hits, {"p": doc}, composer)
    assert answer.answer.startswith("第3条 特性原则。"), answer.answer


def test_the_label_says_the_article_so_the_quote_starts_after_its_number_and_headings():
    title = "中华人民共和国某某法"
    assert after_label("第五章 附则 第六十条 本法自公布之日起施行", "第六十条", title) == "本法自公布之日起施行"
    assert after_label(f"{title} 第一章 总则 第一条 为了规范某某,制定本法", "第一条", title) == "为了规范某某,制定本法"
    assert after_label("第六十条 本法自公布之日起施行", "第六十条", title) == "本法自公布之日起施行"
    # a number inside the text is a reference, not the label's article
    assert after_label("依照本法第六十条处理", "第六十条", title) == "依照本法第六十条处理"


def test_a_chapters_articles_are_not_the_items_of_a_list():
    """"考核包括哪些内容" over a chapter of three articles: the article that enumerates the contents answers,
    not a list of the chapter's articles by their first words."""
    from answer.lists import clause_lists
    from policyqa.models import Clause, Document

    text = ("第五章 考核\n第二十条 学校应当对教师的思想、业务和工作成绩进行考核。\n"
            "第二十一条 考核应当客观、公正。\n第二十二条 考核结果是聘任的依据。\n")
    chapter = Clause("k#五", "第五章", "考核", "第五章考核", 1, 0, len(text))
    articles = []
    for number, first in (("第二十条", "学校应当"), ("第二十一条", "考核应当"), ("第二十二条", "考核结果")):
        start = text.index(number)
        articles.append(Clause(f"k#{number}", number, first, f"第五章考核 › {number}{first}", 2, start,
                               text.index("\n", start), parent_id="k#五"))
    doc = Document("k", "某某法", text, clauses=[chapter, *articles])
    found = hit(doc, 2)  # clause 2 is the first article
    assert clause_lists(found, {"k": doc}) == []
    composer = Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER)
    answer = compose_answer(analyse("教师考核包括哪些内容?"), [found, hit(doc, 3)], {"k": doc}, composer)
    assert "思想、业务和工作成绩" in answer.answer, answer.answer


def test_a_refusal_says_which_named_place_or_law_no_document_mentions():
    doc = law("t", "某某市学校安全条例", ["第1条 学校应当建立安全管理制度。"])
    composer = Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER)
    answer = compose_answer(analyse("杭州的学校要建立什么安全管理制度?"), [hit(doc, 1)], {"t": doc}, composer)
    assert answer.refused and "“杭州”" in answer.answer, answer.answer
    answer = compose_answer(analyse("上海市的学校要建立什么安全管理制度?"), [hit(doc, 1)], {"t": doc}, composer)
    assert answer.answer.count("上海") == 1, answer.answer  # 上海市, not also 上海
    answer = compose_answer(analyse("《校园安全管理法》怎么规定安全管理制度?"), [hit(doc, 1)], {"t": doc}, composer)
    assert answer.refused and "《校园安全管理法》" in answer.answer, answer.answer
    answer = compose_answer(analyse("What safety rules must schools in Hangzhou set up?"), [hit(doc, 1)], {"t": doc},
                            composer)
    assert answer.refused and "Hangzhou" in answer.answer, answer.answer


def test_a_standard_the_clause_leaves_to_other_rules_is_refused_with_that_clause_quoted():
    """"赔偿标准是什么" over a clause that only says the standard is set by other rules: the documents do not
    hold the figure, so the answer is a refusal that quotes where it is set."""
    doc = law("s", "某某市学校安全条例", ["第1条 学校安全事故的赔偿标准,依照法律、法规的规定确定。",
                                      "第2条 学校应当建立安全管理制度。"])
    composer = Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER)
    answer = compose_answer(analyse("学校安全事故的赔偿标准是什么?"), [hit(doc, 1), hit(doc, 2)], {"s": doc}, composer)
    assert answer.refused
    assert answer.answer.startswith("文件没有给出具体的数值或标准"), answer.answer
    assert "依照法律、法规的规定确定" in answer.answer and len(answer.citations) == 1


def test_a_clause_that_states_the_standard_answers():
    # the same question over a clause that gives the figure: answered, not refused
    doc = law("s", "某某市学校安全条例", ["第1条 学校安全事故的赔偿标准为每人不超过十万元。"])
    composer = Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER)
    answer = compose_answer(analyse("学校安全事故的赔偿标准是什么?"), [hit(doc, 1)], {"s": doc}, composer)
    assert not answer.refused and "十万元" in answer.answer


def test_a_delegating_clause_does_not_refuse_a_question_that_asks_no_figure():
    # "学校要怎么收费" asks what the rule is, and "按照国家有关规定收取费用" is that rule
    doc = law("f", "某某法", ["第1条 学校面向社会开展培训的,按照国家有关规定收取费用。"])
    composer = Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER)
    answer = compose_answer(analyse("学校开展培训可以收费吗?"), [hit(doc, 1)], {"f": doc}, composer)
    assert not answer.refused and "按照国家有关规定收取费用" in answer.answer


def test_clauses_scoring_close_to_the_best_are_quoted_too_up_to_max_clauses():
    doc = law("t", "某某法", ["第1条 学校应当甲。", "第2条 学校应当乙。", "第3条 学校应当丙。", "第4条 学校应当丁。"])
    hits = [hit(doc, n) for n in (1, 2, 3, 4)]
    ranked = [Sentence(0, "学校应当甲。", 4, score=1.0), Sentence(1, "学校应当乙。", 4, score=0.9),
              Sentence(0, "学校应当甲乙。", 4, score=0.85),  # the best clause again: not a new clause
              Sentence(2, "学校应当丙。", 4, score=0.75), Sentence(3, "学校应当丁。", 4, score=0.5)]
    q = analyse("学校应当做什么?")

    def clauses(**weights) -> list[int]:
        return [group[0].hit for group in pick(q, ranked, hits, AnswerWeights(**weights))]

    assert clauses(second_clause=0.7, max_clauses=3) == [0, 1, 2]
    assert clauses(second_clause=0.7, max_clauses=2) == [0, 1]  # as many as allowed
    assert clauses(second_clause=0.8, max_clauses=3) == [0, 1]  # 0.75 of the best is not close enough
    assert clauses(second_clause=0.95, max_clauses=3) == [0]
    assert clauses(second_clause=0.3, max_clauses=4) == [0, 1, 2, 3]


def test_a_definition_question_is_answered_by_the_sentence_that_defines():
    """"什么是X": the sentence in a definition's drafting formula leads, though search ranked a rule about X
    first; asked what X must do, the rule leads."""
    doc = law("s", "某某法", ["第1条 专门学校应当加强管理,保障学生安全。",
                             "第2条 本法所称专门学校,是指对有严重不良行为的未成年人进行专门教育的学校。"])
    composer = Composer(None, AnswerWeights(semantic=0.0, quote_whole=10), ALWAYS_ANSWER)
    hits = [hit(doc, 1), hit(doc, 2)]
    defined = compose_answer(analyse("什么是专门学校?"), hits, {"s": doc}, composer)
    assert "是指对有严重不良行为的未成年人" in defined.answer.split("[1]")[0], defined.answer
    ruled = compose_answer(analyse("专门学校要做什么?"), hits, {"s": doc}, composer)
    assert "加强管理" in ruled.answer.split("[1]")[0], ruled.answer


NATIONAL = law("n", "中华人民共和国某某教育法", ["第1条 学校不得开除未成年学生。"])
LOCAL = law("l", "某某市学校管理办法", ["第1条 某某市学校对违纪学生可以给予纪律处分。"])


def test_a_place_no_document_mentions_is_answered_by_the_national_laws():
    """No document mentions 甘肃省: the local rules of other places do not apply there, the national law does."""
    docs = {"n": NATIONAL, "l": LOCAL}
    answer = compose_answer(analyse("在甘肃省,学校能开除学生吗?"), [hit(LOCAL, 1), hit(NATIONAL, 1)], docs,
                            Composer(None, AnswerWeights(), ALWAYS_ANSWER))
    assert not answer.refused and "不得开除" in answer.answer, answer.answer
    assert [c.chunk.doc_id for c in answer.citations] == ["n"]


def test_a_place_no_document_mentions_is_refused_without_a_law_or_for_a_figure():
    composer = Composer(None, AnswerWeights(), ALWAYS_ANSWER)
    only_local = compose_answer(analyse("在甘肃省,学校能开除学生吗?"), [hit(LOCAL, 1)], {"l": LOCAL}, composer)
    assert only_local.refused and "甘肃" in only_local.answer, only_local.answer
    # a figure for one place is not in a national law
    docs = {"n": NATIONAL, "l": LOCAL}
    fee = compose_answer(analyse("甘肃省的学费是多少元?"), [hit(NATIONAL, 1), hit(LOCAL, 1)], docs, composer)
    assert fee.refused, fee.answer


def test_a_short_list_is_quoted_by_the_items_that_answer_under_its_heading():
    doc, section = listed_section()
    q = analyse("闭馆时间最晚到几点?")

    def answer(margin: float):
        return compose_answer(q, [section], {"n": doc}, Composer(None, AnswerWeights(semantic=0.0, item_margin=margin),
                                                                  ALWAYS_ANSWER))

    narrowed = answer(0.7)
    assert narrowed.answer.startswith("二、开放时间 (二)闭馆时间最晚不超过21:00"), narrowed.answer
    assert "每周开放6天" not in narrowed.answer and "寒暑假" not in narrowed.answer
    # the citation is still the section's clause, verbatim, as search found it
    assert narrowed.citations[0].chunk.clause_id == "n#二"
    # a lower margin keeps the items that score close: (三) shares "时间" with the question, (一) nothing
    hedged = answer(0.5).answer
    assert "21:00" in hedged and "寒暑假" in hedged and "每周开放6天" not in hedged, hedged
    # margin 0 keeps every item: the list whole, as without the margin
    assert all(part in answer(0.0).answer for part in ("每周开放6天", "21:00", "寒暑假"))


def test_a_short_list_asked_for_as_a_list_is_quoted_whole():
    doc, section = listed_section()
    composer = Composer(None, AnswerWeights(semantic=0.0, item_margin=2.0), ALWAYS_ANSWER)  # would always narrow
    answer = compose_answer(analyse("开放时间有哪些规定?"), [section], {"n": doc}, composer)
    assert all(part in answer.answer for part in ("每周开放6天", "21:00", "寒暑假")), answer.answer


def test_a_documents_front_matter_is_quoted_by_its_sentences_not_whole():
    doc, front = notice_front_matter()
    composer = Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER)
    email = compose_answer(analyse("教育局的邮箱是多少?"), [front], {"f": doc}, composer).answer
    assert email.startswith("邮箱:jyj@example.com"), email
    assert "电话" not in email and "各学校" not in email
    deadline = compose_answer(analyse("意见反馈截止到哪天?"), [front], {"f": doc}, composer).answer
    assert deadline.startswith("请于12月20日前将书面意见反馈给教育局"), deadline
    # the line with the asked value is not joined by a close runner-up that lacks it (the 意见反馈 sentence scores
    # above 0.8 of the phone line here)
    phone = compose_answer(analyse("意见反馈的联系电话是多少?"), [front], {"f": doc}, composer).answer
    assert phone.startswith("电话:0913-1234567") and "请于" not in phone, phone


def test_a_lead_in_chunked_apart_from_its_items_brings_them():
    doc, lead = lead_in_chunk()
    composer = Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER)
    answer = compose_answer(analyse("当老师有什么学历要求?"), [lead], {"t": doc}, composer)
    assert "幼儿师范学校" in answer.answer and "中等师范学校" in answer.answer, answer.answer
    # the citation is the whole article, which holds every quoted word
    cited = answer.citations[0].chunk
    assert (cited.clause_id, cited.start, cited.end) == ("t#11", 0, len(doc.text) - 1)


def test_two_items_of_one_article_are_quoted_once_under_its_lead_in():
    doc, items = items_chunked_apart()
    composer = Composer(None, AnswerWeights(semantic=0.0, second_clause=0.7), ALWAYS_ANSWER)  # both items quoted
    answer = compose_answer(analyse("学生放学后滞留校园或节假日自行到校发生事故,学校承担责任吗?"), items, {"s": doc}, composer)
    text = answer.answer
    assert text.count("学校不承担事故责任") == 1, text  # the lead-in once, not once per item
    assert "放学后自行滞留校园" in text and "节假日自行到校" in text and "校外自行活动" not in text, text
    # one citation: the whole article, which holds every quoted word
    assert [(c.chunk.clause_id, c.chunk.start, c.chunk.end) for c in answer.citations] == [("s#30", 0, len(doc.text) - 1)]


def test_a_section_a_document_repeats_word_for_word_is_quoted_once():
    # one notice bundling several plans, each with the same organisers' section
    doc = law("c", "某市关于印发几项展评活动方案的通知", ["主办单位:市教育局。承办单位:市艺术教育协会。",
                                                   "主办单位:市教育局。承办单位:市艺术教育协会。", "各区县按时报送作品。"])
    composer = Composer(None, AnswerWeights(semantic=0.0, second_clause=0.5), ALWAYS_ANSWER)  # close: both picked
    answer = compose_answer(analyse("展评活动的承办单位是谁?"), [hit(doc, 1), hit(doc, 2)], {"c": doc}, composer)
    assert answer.answer.count("承办单位") == 1 and len(answer.citations) == 1, answer.answer


def test_an_item_and_its_articles_lead_in_chunk_are_quoted_once():
    # the item (三) first, then the lead-in chunk, which brings the items after it: the article is quoted once, whole
    doc, items = items_chunked_apart()
    lead = doc.clauses[0]
    lead_text = doc.text[:doc.text.index("\n")]
    lead_hit = SearchHit(Chunk(lead.clause_id, "s", lead.clause_id, lead.path, lead_text, 0, len(lead_text)), 0.5,
                         0.85, {"dense": 2}, {"dense": 0.85, "dense:use": 0.4})
    composer = Composer(None, AnswerWeights(semantic=0.0, second_clause=0.3), ALWAYS_ANSWER)
    answer = compose_answer(analyse("节假日学生自行到校发生事故,学校承担事故责任吗?"), [items[1], lead_hit], {"s": doc}, composer)
    assert answer.answer.count("节假日自行到校") == 1 and answer.answer.count("不承担事故责任") == 1, answer.answer
    assert "校外自行活动" in answer.answer  # the lead-in chunk with what follows it holds the item quote
    assert len(answer.citations) == 1


def test_quotes_of_one_clause_merge_in_either_language():
    chinese = one_quote_per_clause(["《某条例》第三十条规定:学校不承担责任:…(一)放学后滞留的[1]。", "《某法》第九条规定:应当报告[2]。",
                                    "《某条例》第三十条规定:学校不承担责任:…(三)节假日到校的[1]。"])
    assert chinese == ["《某条例》第三十条规定:学校不承担责任:…(一)放学后滞留的 (三)节假日到校的[1]。", "《某法》第九条规定:应当报告[2]。"]
    english = one_quote_per_clause(["“第三十条 学校不承担责任:…(一)放学后滞留的;” [1]", "“第三十条 学校不承担责任:…(三)节假日到校的。” [1]"])
    assert english == ["“第三十条 学校不承担责任:…(一)放学后滞留的; (三)节假日到校的。” [1]"]
    # the items follow the article's order whichever scored first
    assert one_quote_per_clause(["甲:…(三)丁[1]。", "甲:…(二)丙[1]。"]) == ["甲:…(二)丙 (三)丁[1]。"]
    # a quote the earlier one holds is dropped; one that holds the earlier one replaces it
    assert one_quote_per_clause(["甲:…(一)乙[1]。", "甲:…(一)乙[1]。"]) == ["甲:…(一)乙[1]。"]
    assert one_quote_per_clause(["甲:…(二)丙[1]。", "甲:(一)乙 (二)丙[1]。"]) == ["甲:(一)乙 (二)丙[1]。"]


def test_a_list_answer_from_an_article_says_which_law_and_article():
    doc, found = article_with_items("c", "某某省托育服务条例", "第九条 设立托育机构,应当具备下列基本条件:",
                                    ["(一)有组织机构和章程;", "(二)有符合规定的场地;", "(三)有必备的资金。"],
                                    heading="设立托育机构,应当具备下列基本条件")
    q = analyse("设立托育机构要具备哪些条件?")
    assert q.asks_list
    answer = compose_answer(q, [found], {"c": doc}, Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER))
    assert answer.answer.startswith("《某某省托育服务条例》第九条规定:设立托育机构,应当具备下列基本条件:"), answer.answer
    assert "有符合规定的场地" in answer.answer and "第九条 设立" not in answer.answer


def test_an_articles_list_keeps_its_lead_in_whole():
    # ingest takes an article's first words as its heading ("对表现突出的兼职教师"); the lead-in is one sentence and
    # is said whole, not from the comma after those words
    doc, found = article_with_items("m", "某某兼职教师管理办法",
                                    "第十六条 对表现突出的兼职教师,按照精神奖励与物质奖励相结合的原则,给予奖励表彰:",
                                    ["(一)坚持在偏远学校任教的;", "(二)在课外活动中成绩显著的;", "(三)有其他突出业绩的。"],
                                    heading="对表现突出的兼职教师")
    answer = compose_answer(analyse("兼职教师在哪些情况下能被表彰?"), [found], {"m": doc},
                            Composer(None, AnswerWeights(semantic=0.0), ALWAYS_ANSWER))
    assert answer.answer.startswith("《某某兼职教师管理办法》第十六条规定:对表现突出的兼职教师,按照精神奖励"), answer.answer


def test_a_piece_after_a_semicolon_is_quoted_from_its_sentences_beginning():
    """"构成犯罪的,依法追究刑事责任" says nothing alone: a long article quoted by that piece starts where its sentence
    does; the quote stays the article's own text."""
    article = ("第1条 举办者抽逃办学资金的,由审批机关责令改正;情节严重的,吊销办学许可证;构成犯罪的,依法追究刑事责任。"
               "学校应当建立财务管理制度。")
    doc = law("t", "某某市民办学校条例", [article])
    composer = Composer(None, AnswerWeights(semantic=0.0, quote_whole=10, second_clause=1.1), ALWAYS_ANSWER)
    answer = compose_answer(analyse("构成犯罪的怎么处理?"), [hit(doc, 1)], {"t": doc}, composer)
    assert answer.answer.startswith("《某某市民办学校条例》第1条规定:举办者抽逃办学资金的,由审批机关责令改正;"), answer.answer
    assert "财务管理制度" not in answer.answer, answer.answer


def test_sentences_far_apart_in_a_clause_are_joined_with_an_ellipsis():
    from answer.compose import sentence_start, verbatim_pieces

    text = "第1条 学校应当配备校医。学校应当建立食堂管理制度。\n(一)学校应当每年组织体检;对体检异常的学生应当告知家长。"
    first, last = text.index("学校应当配备"), text.index("学校应当每年")
    pieces = [(first, first + len("学校应当配备校医。")), (last, last + len("学校应当每年组织体检;"))]
    assert verbatim_pieces(text, pieces) == "学校应当配备校医。…学校应当每年组织体检;"
    assert verbatim_pieces(text, [(0, 4), (4, 8)]) == text[:8]  # adjacent pieces run on
    # after a semicolon: back to the sentence's start, never across a line
    assert sentence_start(text, text.index("对体检异常")) == text.index("(一)")
    assert sentence_start(text, first) == first  # a sentence's own start stays
    long_sentence = "某" * 200 + ";其余的,依法处理。"
    assert sentence_start(long_sentence, long_sentence.index("其余")) == long_sentence.index("其余")
