"""The flattened 具体任务/牵头股室/协助股室 table of the renhuai plan, read back into records."""

from __future__ import annotations

import pytest
from helpers import CORPUS, RENHUAI

from ingest.pipeline import load_document
from ingest.tables import find_tables, split_offices


@pytest.fixture(scope="module")
def renhuai():
    return load_document(CORPUS / f"{RENHUAI}.txt")


# The table as printed in the source file (lines 73-165 of corpus/renhuai-brand-schools-2017.txt).
EXPECTED = [
    ("实施学校治理现代化工程", ["基教股"], ["人事股", "计财股", "工会", "办公室"]),
    ("实施平安校园保障工程", ["法规安全股"], ["各股室"]),
    ("实施特色创新课程构建工程", ["教研室"], ["基教股"]),
    ("实施减负增效提质工程", ["基教股"], ["教研室", "督导办公室"]),
    ("实施学生核心素养提升工程", ["基教股"], ["教研室", "督导办公室"]),
    ("实施教育信息化升级工程", ["远教站"], ["基教股", "人事股", "教研室"]),
    ("实施三位一体统筹工程", ["基教股"], ["各股室"]),
    ("实施教育评价改革工程", ["督导办公室"], ["教研室", "基教股"]),
    ("实施学校文化育人工程", ["基教股"], ["各股室"]),
    ("实施师资队伍强基工程", ["教师工作股"], ["人事股", "教研室"]),
]


def test_renhuai_table_yields_ten_records(renhuai):
    assert len(renhuai.records) == 10
    assert [r.number for r in renhuai.records] == [str(n) for n in range(1, 11)]
    assert [(r.task, r.lead, r.assisting) for r in renhuai.records] == EXPECTED


def test_record_three(renhuai):
    r = renhuai.records[2]
    assert (r.task, r.lead, r.assisting) == ("实施特色创新课程构建工程", ["教研室"], ["基教股"])
    assert r.clause_id == f"{RENHUAI}#三.3"
    rendered = r.render()  # what the index sees for this row
    assert "实施特色创新课程构建工程" in rendered and "牵头" in rendered and "协助" in rendered
    assert rendered.index("教研室") < rendered.index("基教股")


def test_record_one_assisting_offices_rejoin_letter_spaced_names(renhuai):
    # the source cells are "人事股  计财股" and "工  会  办公室"
    assert renhuai.records[0].assisting == ["人事股", "计财股", "工会", "办公室"]


def test_record_ten_does_not_swallow_the_next_heading(renhuai):
    text = renhuai.text
    rows = find_tables(text)
    assert len(rows) == 1 and len(rows[0]) == 10
    last = rows[0][-1]
    heading = text.index("四、工作内容")
    assert last.end <= heading
    assert "四、" not in text[last.start:last.end]
    assert renhuai.records[-1].assisting == ["人事股", "教研室"]
    clause = {c.clause_id: c for c in renhuai.clauses}[f"{RENHUAI}#三.10"]
    assert clause.end <= heading


def test_table_rows_become_child_clauses_of_the_clause_holding_the_table(renhuai):
    clauses = {c.clause_id: c for c in renhuai.clauses}
    for r in renhuai.records:
        c = clauses[r.clause_id]
        assert c.parent_id == f"{RENHUAI}#三"
        assert c.path == f"三、任务分工 › {r.number} {r.task}"
        span = renhuai.text[c.start:c.end]
        assert span.split("\n")[0] == r.number and r.task in span and r.lead[0] in span


def test_row_offsets_cover_their_cells(renhuai):
    for row in find_tables(renhuai.text)[0]:
        span = renhuai.text[row.start:row.end]
        assert span.startswith(row.number + "\n")
        assert row.task in span
        assert all(o[0] in span for o in row.lead + row.assisting)


# ---- synthetic tables ------------------------------------------------------------------------

def test_table_ends_at_a_heading_line():
    text = "具体任务\n牵头股室\n协助股室\n1\n任务甲\n基教股\n人事股\n2\n任务乙\n教研室\n基教股\n四、工作内容\n(一)正文。\n"
    rows = find_tables(text)[0]
    assert [(r.task, r.lead, r.assisting) for r in rows] == [("任务甲", ["基教股"], ["人事股"]),
                                                             ("任务乙", ["教研室"], ["基教股"])]


def test_table_ends_at_prose():
    prose = "各股室要按照分工认真落实各项任务,定期向局党组汇报工作进展情况,确保品牌学校创建工作取得实效并形成经验。"
    text = f"牵头单位\n配合单位\n1\n任务甲\n教研室\n基教股\n{prose}\n"
    rows = find_tables(text)[0]
    assert len(rows) == 1 and rows[0].assisting == ["基教股"]


def test_row_numbers_must_be_consecutive():
    text = "牵头股室\n协助股室\n1\n任务甲\n基教股\n人事股\n3\n任务丙\n教研室\n基教股\n"
    rows = find_tables(text)[0]
    assert [r.number for r in rows] == ["1"]


def test_no_header_no_table():
    assert find_tables("1\n任务甲\n基教股\n人事股\n") == []


def test_row_without_lead_office_stops_the_table():
    text = "牵头股室\n协助股室\n1\n任务甲\n"
    assert find_tables(text) == []


def test_lead_only_row_has_no_assisting():
    rows = find_tables("责任部门\n参与部门\n1\n任务甲\n督导室\n\n")[0]
    assert (rows[0].task, rows[0].lead, rows[0].assisting) == ("任务甲", ["督导室"], [])


@pytest.mark.parametrize("cell,offices", [
    ("人事股  计财股", ["人事股", "计财股"]),
    ("工  会  办公室", ["工会", "办公室"]),
    ("工 会", ["工会"]),
    ("基教股", ["基教股"]),
    ("教研室、基教股", ["教研室", "基教股"]),
    ("教研室,基教股;人事股/远教站", ["教研室", "基教股", "人事股", "远教站"]),
    ("办公室 工 会", ["办公室", "工会"]),
    ("", []),
    ("   ", []),
])
def test_split_offices(cell, offices):
    assert split_offices(cell) == offices
