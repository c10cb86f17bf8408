"""Clause trees of the real documents, and the numbering rules on small synthetic texts."""

from __future__ import annotations

import re
import shutil

import pytest
from helpers import BEIJING, CORPUS, ONE_BRAND, PUCHENG, RENHUAI

from ingest.pipeline import load_document
from ingest.structure import cn_to_int, find_headings, parse_clauses

CN = "一二三四五六七八九十"


@pytest.fixture(scope="module")
def docs():
    return {d: load_document(CORPUS / f"{d}.txt") for d in (BEIJING, ONE_BRAND, PUCHENG, RENHUAI)}


def by_id(doc):
    return {c.clause_id: c for c in doc.clauses}


def top_level(doc):
    """Numbered top-level clauses (not the unnumbered text before the first heading)."""
    return [c for c in doc.clauses if c.parent_id is None and c.number]


# ---- renhuai: a well-formed notice with a plan ---------------------------------------------------

def test_renhuai_top_level_clauses_are_one_to_nine(docs):
    doc = docs[RENHUAI]
    assert [c.number for c in top_level(doc)] == list("一二三四五六七八九")
    assert [c.path for c in top_level(doc)][:8] == [
        "一、指导思想", "二、工作目标", "三、任务分工", "四、工作内容", "五、方法步骤", "六、组织机构",
        "七、经费保障", "八、项目评估",
    ]


def test_renhuai_four_three_is_under_work_content(docs):
    doc = docs[RENHUAI]
    clause = by_id(doc)[f"{RENHUAI}#四.(三)"]
    assert clause.path.startswith("四、工作内容 › (三)")
    assert clause.parent_id == f"{RENHUAI}#四"
    assert clause.level == 2
    assert doc.text[clause.start:clause.end].startswith("(三)实施特色创新课程构建工程。")
    # (一)…(十) under 四, in order
    kids = [c.number for c in doc.clauses if c.parent_id == f"{RENHUAI}#四"]
    assert kids == [f"({n})" for n in CN]


def test_renhuai_specific_goals_have_numbered_items(docs):
    doc = docs[RENHUAI]
    items = [c for c in doc.clauses if c.parent_id == f"{RENHUAI}#二.(二)"]
    assert [c.number for c in items] == [str(n) for n in range(1, 9)]
    assert items[0].path == "二、工作目标 › (二)具体目标 › 1.提升学校治理现代化水平"


def test_clause_spans_nest_and_point_into_the_text(docs):
    for doc in docs.values():
        ids = by_id(doc)
        for c in doc.clauses:
            assert 0 <= c.start < c.end <= len(doc.text), c.clause_id
            if c.parent_id:
                parent = ids[c.parent_id]
                assert parent.start <= c.start and c.end <= parent.end, c.clause_id
                assert c.level == parent.level + 1
                assert c.path.startswith(parent.path + " › ")
                assert c.clause_id.startswith(parent.clause_id + ".")
            if c.number and not c.clause_id.endswith("#preamble"):
                # a heading clause starts with its own number
                label = c.number + "、" if re.fullmatch(f"[{CN}]+", c.number) else c.number
                assert doc.text[c.start:].startswith(label), (c.clause_id, doc.text[c.start:c.start + 10])


# ---- beijing: the whole plan on one run-on line --------------------------------------------------

def test_beijing_run_on_line_is_split_into_clauses(docs):
    doc = docs[BEIJING]
    body_lines = [line for line in doc.text.split("\n") if line.strip()]
    assert len(body_lines) <= 2  # the scraped plan really is one run-on line
    assert len(doc.clauses) > 20
    ids = by_id(doc)
    for top, n in (("三", 4), ("四", 6), ("五", 4), ("六", 3), ("七", 4)):
        for i in range(n):
            assert f"{BEIJING}#{top}.({CN[i]})" in ids, f"{top}.({CN[i]}) missing"
    assert [c.number for c in top_level(doc)] == list("一二三四五六七")
    assert ids[f"{BEIJING}#一"].path == "一、指导思想"
    assert ids[f"{BEIJING}#二"].path == "二、总体目标"
    # not one blob: no clause covers more than a third of the document
    assert max(c.end - c.start for c in doc.clauses) < len(doc.text) / 3


def test_beijing_sub_clause_text(docs):
    doc = docs[BEIJING]
    c = by_id(doc)[f"{BEIJING}#七.(四)"]
    assert doc.text[c.start:c.end].startswith("(四)加大宣传,辐射带动。")
    assert c.path == "七、工作要求 › (四)加大宣传,辐射带动"


# ---- pucheng: 1.–23. run on across (一)…(六) -----------------------------------------------------

# From the source text: (一) holds items 1-3, (二) 4-7, (三) 8-13, (四) 14-15, (五) 16-19, (六) 20-23.
PUCHENG_ITEMS = {"(一)": range(1, 4), "(二)": range(4, 8), "(三)": range(8, 14), "(四)": range(14, 16),
                 "(五)": range(16, 20), "(六)": range(20, 24)}


def test_pucheng_items_found_under_their_sections(docs):
    doc = docs[PUCHENG]
    ids = by_id(doc)
    for section, numbers in PUCHENG_ITEMS.items():
        parent = f"{PUCHENG}#三.{section}"
        assert parent in ids
        kids = [c.number for c in doc.clauses if c.parent_id == parent]
        assert kids == [str(n) for n in numbers], section
    item = ids[f"{PUCHENG}#三.(六).23"]
    assert doc.text[item.start:item.end].startswith("23.健全教育质量提升激励奖励机制。")
    assert ids[f"{PUCHENG}#三.(一).3"].heading == "实现教育信息化"  # "2.0行动计划" inside is not a heading


def test_one_brand_numbered_requirements(docs):
    doc = docs[ONE_BRAND]
    kids = [c for c in doc.clauses if c.parent_id == f"{ONE_BRAND}#六"]
    assert [c.heading for c in kids] == ["加强领导", "狠抓落实", "强化督查", "嘉奖激励"]


# ---- ids -------------------------------------------------------------------------------------

def test_clause_ids_look_like_doc_hash_path(docs):
    assert f"{RENHUAI}#四.(三)" in by_id(docs[RENHUAI])
    pattern = re.compile(r"^[a-z0-9-]+#(preamble|[^\s#]+)$")
    for doc in docs.values():
        ids = [c.clause_id for c in doc.clauses]
        assert len(ids) == len(set(ids)), doc.doc_id
        for clause_id in ids:
            assert pattern.match(clause_id), clause_id
            assert clause_id.startswith(doc.doc_id + "#")


def test_clause_ids_are_stable(tmp_path, docs):
    """The same document parses to the same ids, even with extra page noise around it."""
    again = load_document(CORPUS / f"{RENHUAI}.txt")
    assert [c.clause_id for c in again.clauses] == [c.clause_id for c in docs[RENHUAI].clauses]
    noisy = tmp_path / f"{RENHUAI}.txt"
    noisy.write_text("当前位置:首页 > 新闻\n第1页 / 共3页\n" + (CORPUS / f"{RENHUAI}.txt").read_text(encoding="utf-8")
                     + "\n扫一扫在手机上查看当前页面\n", encoding="utf-8")
    shutil.copy(CORPUS / f"{RENHUAI}.meta.json", tmp_path / f"{RENHUAI}.meta.json")
    moved = load_document(noisy)
    assert [c.clause_id for c in moved.clauses] == [c.clause_id for c in docs[RENHUAI].clauses]
    assert [c.path for c in moved.clauses] == [c.path for c in docs[RENHUAI].clauses]


# ---- numbering rules on synthetic text -------------------------------------------------------

def ids_of(text):
    return [c.clause_id.split("#", 1)[1] for c in parse_clauses("d", text)]


def test_numbering_restarts_per_section():
    text = "一、甲\n1.x。\n2.y。\n二、乙\n1.z。"
    clauses = parse_clauses("d", text)
    assert [c.clause_id for c in clauses] == ["d#一", "d#一.1", "d#一.2", "d#二", "d#二.1"]
    z = clauses[-1]
    assert z.parent_id == "d#二" and text[z.start:z.end] == "1.z。"
    assert clauses[0].end == text.index("二、")  # 一 spans its items, up to 二


def test_numbering_runs_on_across_sections():
    assert ids_of("一、甲\n1.x。\n2.y。\n二、乙\n3.z。") == ["一", "一.1", "一.2", "二", "二.3"]


def test_inline_headings_in_run_on_text():
    text = ("为贯彻党的十九大精神,特制定本方案。一、指导思想以习近平新时代中国特色社会主义思想为指引,全面贯彻党的教育方针,"
            "落实立德树人根本任务。二、总体目标到2020年全市学校全面达到管理标准,促进优质均衡发展。"
            "三、基本原则(一)坚持标准引领。(二)坚持问题导向。")
    clauses = parse_clauses("d", text)
    assert [c.clause_id for c in clauses] == ["d#preamble", "d#一", "d#二", "d#三", "d#三.(一)", "d#三.(二)"]
    by = {c.clause_id: c for c in clauses}
    assert text[by["d#一"].start:].startswith("一、指导思想")
    assert by["d#一"].path.startswith("一、指导思想")
    assert by["d#二"].path.startswith("二、总体目标")
    assert text[by["d#preamble"].start:by["d#preamble"].end] == "为贯彻党的十九大精神,特制定本方案。"
    assert text[by["d#三.(二)"].start:by["d#三.(二)"].end] == "(二)坚持问题导向。"


@pytest.mark.parametrize("prose", [
    "合理安排作业,一、二年级不布置书面家庭作业。",  # mid-sentence
    "合理安排作业。一、二年级不布置书面家庭作业。",  # starts a sentence in run-on text
    "合理安排作业。\n一、二年级不布置书面家庭作业。",  # starts a line
], ids=["mid-sentence", "sentence-start", "line-start"])
def test_stray_one_two_grade_in_prose_is_not_a_heading(prose):
    text = f"一、总体要求\n全面落实。\n二、教学安排\n{prose}\n三、课程设置\n开齐开足课程。"
    clauses = parse_clauses("d", text)
    assert [c.clause_id for c in clauses] == ["d#一", "d#二", "d#三"]
    assert not any("年级" in c.heading for c in clauses)
    assert "一、二年级" in text[clauses[1].start:clauses[1].end]


def test_stray_arabic_number_in_prose_is_not_a_heading():
    assert ids_of("一、目标\n到2020年完成 2. 以后再说。\n二、措施\n内容。") == ["一", "二"]


def test_skipped_number_is_not_accepted():
    # "四、" after "二、" does not continue the sequence: it is prose, not a heading
    assert ids_of("一、甲\n内容。\n二、乙\n内容。\n四、丙是正文\n") == ["一", "二"]


def test_chapter_article_ladder():
    text = "第一章 总则\n第一条 为了规范管理。\n第二条 本办法适用于全市。\n第二章 附则\n第三条 本办法自印发之日起施行。"
    assert ids_of(text) == ["第一章", "第一章.第一条", "第一章.第二条", "第二章", "第二章.第三条"]


CODE = ("第一章 基本规定\n第一条 为了规范管理,制定本法。\n"
        "第二编 主体\n第一分编 通 则\n第一章 一般规定\n第一节 权利\n第二条 主体依法享有权利。\n"
        "第二节 登记\n第三条 登记应当真实。\n第四条 登记机关应当公开信息。\n"
        "第二分编 合同\n第一章 订立\n第五条 合同依法成立。\n附 则\n第六条 本法自公布之日起施行。\n")


def test_a_codes_parts_and_sections_are_clauses():
    """A code's ladder is 编 > 分编 > 章 > 节 > 条, closed by an unnumbered 附则: an article ends before the next
    section's heading line and sits under its own section (the first 编's heading may be missing from a scraped
    text: 第二编 still counts)."""
    clauses = {c.clause_id.split("#", 1)[1]: c for c in parse_clauses("d", CODE)}
    assert list(clauses) == ["第一章", "第一章.第一条", "第二编", "第二编.第一分编", "第二编.第一分编.第一章",
                             "第二编.第一分编.第一章.第一节", "第二编.第一分编.第一章.第一节.第二条",
                             "第二编.第一分编.第一章.第二节", "第二编.第一分编.第一章.第二节.第三条",
                             "第二编.第一分编.第一章.第二节.第四条", "第二编.第二分编", "第二编.第二分编.第一章",
                             "第二编.第二分编.第一章.第五条", "附则", "附则.第六条"]
    second = clauses["第二编.第一分编.第一章.第一节.第二条"]
    assert CODE[second.start:second.end] == "第二条 主体依法享有权利。\n"
    fourth = clauses["第二编.第一分编.第一章.第二节.第四条"]
    assert fourth.path == "第二编主体 › 第一分编通 则 › 第一章一般规定 › 第二节登记 › 第四条登记机关应当公开信息"
    assert CODE[fourth.start:fourth.end] == "第四条 登记机关应当公开信息。\n"
    fifth = clauses["第二编.第二分编.第一章.第五条"]  # the closing provisions' unnumbered heading ends the last 编
    assert CODE[fifth.start:fifth.end] == "第五条 合同依法成立。\n"


@pytest.mark.parametrize("prose", [
    "第一节课不早于八点开始,每节课四十分钟。",  # a class period, at a line start
    "按时到校。第二节 课间操由体育教师组织。",  # after a sentence end, not a line of its own
    "第二编写组负责修订教材",  # 编写组, a drafting group
], ids=["class-period", "inline", "drafting-group"])
def test_section_and_part_words_in_prose_are_not_headings(prose):
    text = f"一、课时安排\n{prose}\n二、课程设置\n开齐开足课程。"
    assert ids_of(text) == ["一", "二"]


def test_duplicate_labels_get_distinct_ids():
    ids = ids_of("一、甲\n(一)a。\n(二)b。\n(一)c。\n二、乙\n")
    assert len(ids) == len(set(ids))
    assert "一.(一)~2" in ids


def test_an_articles_paragraph_after_its_list_is_not_its_last_items():
    text = ("第一条 学校行使下列权利:\n(一)按照章程自主管理;\n(二)组织实施教学活动。\n国家保护学校的合法权益不受侵犯。\n"
            "第二条 学校应当履行下列义务。\n")
    clauses = {c.clause_id.split("#", 1)[1]: c for c in parse_clauses("d", text)}
    last, article = clauses["第一条.(二)"], clauses["第一条"]
    assert text[last.start:last.end].strip() == "(二)组织实施教学活动。"
    assert "国家保护学校的合法权益不受侵犯。" in text[article.start:article.end]
    # a policy's item is a heading whose text runs on over paragraphs: it keeps them
    policy = "一、主要任务\n(一)完善课程。\n(二)加强师资。\n各校配齐教师。\n二、保障措施\n"
    item = next(c for c in parse_clauses("p", policy) if c.clause_id.endswith("(二)"))
    assert policy[item.start:item.end].strip() == "(二)加强师资。\n各校配齐教师。"


def test_no_headings_gives_one_preamble():
    text = "这是一段没有编号的正文,只有一句话。"
    clauses = parse_clauses("d", text)
    assert len(clauses) == 1 and clauses[0].clause_id == "d#preamble"
    assert (clauses[0].start, clauses[0].end) == (0, len(text))
    assert find_headings(text) == []


@pytest.mark.parametrize("numeral,value", [("一", 1), ("九", 9), ("十", 10), ("十二", 12), ("二十", 20),
                                           ("二十三", 23), ("一百零五", 105)])
def test_cn_to_int(numeral, value):
    assert cn_to_int(numeral) == value
