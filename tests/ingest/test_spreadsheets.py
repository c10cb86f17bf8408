"""Spreadsheets (ingest/formats/spreadsheets.py): a 任务分工表 workbook built from the renhuai plan, read as
.xlsx, .xls, .ods and .et: its text, its sheets as sections, its rows as citable clauses, its records."""

from __future__ import annotations

import shutil
import zipfile

import pytest
from spreadsheets import DEADLINES, NOTE, STEPS, TASKS, TITLE, workbook, write_xlsx

from ingest.chunking import chunk_document
from ingest.pipeline import UnreadableFile, load_document
from ingest.readers import ReadError, read_file
from ingest.tables import find_pipe_tables, split_offices

FORMATS = [".xlsx", ".xls", ".ods", ".et"]


@pytest.fixture(scope="module", params=FORMATS)
def sample(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sheets") / request.param[1:]
    path = workbook(folder, request.param)
    return request.param, path, load_document(path)


def deadline_text(value) -> str:
    return value if isinstance(value, str) else f"{value.year}年{value.month}月{value.day}日"


EXPECTED_DEADLINES = [deadline_text(d or DEADLINES[k - 1]) for k, d in enumerate(DEADLINES)]


def test_reader_text_sheets_and_rows(sample):
    suffix, path, _ = sample
    got = read_file(path)
    lines = got.text.split("\n")
    assert lines[:4] == ["任务分工表", "工作表:任务分工", TITLE, "序号 | 具体任务 | 责任单位 |  | 完成时限"]
    assert "1 | 实施学校治理现代化工程 | 基教股 | 人事股、计财股、工会、办公室 | 2017年12月底前" in lines
    assert "6 | 实施教育信息化升级工程 | 远教站 | 基教股、人事股、教研室 | 2019年8月31日" in lines  # a date cell
    assert f"{NOTE} |" in lines  # a one-cell row inside the table keeps it going
    assert "工作表:实施步骤" in lines and "阶段 | 时间 | 工作内容" in lines
    assert got.info == {"sheets": ["任务分工", "实施步骤"], "hidden_sheets": ["单位"]}
    assert "空表" not in got.text  # an empty sheet adds nothing


def test_merged_cells_are_carried_down(sample):
    suffix, path, _ = sample
    lines = read_file(path).text.split("\n")
    if suffix == ".ods":  # calamine reports no merged ranges for ODS: only an empty lead cell is carried down
        assert "5 | 实施学生核心素养提升工程 | 基教股" in lines
        return
    assert "5 | 实施学生核心素养提升工程 | 基教股 | 教研室、督导办公室 | 2018年6月底前" in lines
    assert "第一阶段 | 2017年6月 | 研制各个项目的监测标准和评估办法,组织专家赴各培育学校进行工作指导。" in lines
    assert "序号 | 具体任务 | 牵头单位 | 配合单位 | 完成时限" in lines  # the header's second row


def test_sheets_are_sections_and_rows_are_citable(sample):
    _, _, doc = sample
    clauses = {c.clause_id: c for c in doc.clauses}
    sheet = clauses["任务分工表#任务分工"]
    assert (sheet.path, sheet.level, sheet.parent_id) == ("任务分工", 1, None)
    assert doc.text[sheet.start:].startswith("工作表:任务分工\n")
    for n, (task, lead, _) in enumerate(TASKS, start=1):
        row = clauses[f"任务分工表#任务分工.{n}"]
        assert row.path == f"任务分工 › {n} {task}" and row.parent_id == sheet.clause_id
        assert doc.text[row.start:row.end].startswith(f"{n} | {task} | {lead}")
    assert NOTE in doc.text[clauses["任务分工表#任务分工.10"].start:clauses["任务分工表#任务分工.10"].end]
    steps = [c for c in doc.clauses if c.parent_id == "任务分工表#实施步骤"]
    assert [doc.text[c.start:c.end].split("|")[1].strip() for c in steps] == [time for _, time, _ in STEPS]
    assert steps[3].path == "实施步骤 › 4 第二阶段"
    assert not any("no clause headings" in w for w in doc.warnings)


def test_records_with_lead_assisting_units_and_deadline(sample):
    suffix, _, doc = sample
    got = [(r.task, "、".join(r.lead), "、".join(r.assisting), r.deadline) for r in doc.records]
    expected = [(*task, deadline) for task, deadline in zip(TASKS, EXPECTED_DEADLINES, strict=True)]
    if suffix == ".ods":  # row 5's merged assisting and deadline cells are empty in ODS (no merged ranges)
        expected[4] = (*TASKS[4][:2], "", "")
    assert got == expected
    record = doc.records[5]
    assert (record.clause_id, record.lead_label, record.assist_label, record.deadline_label) == (
        "任务分工表#任务分工.6", "牵头单位", "配合单位", "完成时限")
    assert record.render() == ("实施教育信息化升级工程:牵头单位 远教站;配合单位 基教股、人事股、教研室;"
                               "完成时限 2019年8月31日")


def test_each_task_row_is_a_chunk_with_its_record(sample):
    _, _, doc = sample
    chunks = {c.chunk_id: c for c in chunk_document(doc)}
    for c in chunks.values():
        assert c.text == doc.text[c.start:c.end]
    row = chunks["任务分工表#任务分工.8"]
    assert row.clause_path == "任务分工 › 8 实施教育评价改革工程"
    assert [r.task for r in row.records] == ["实施教育评价改革工程"]
    assert "完成时限 2018年12月底前" in row.index_text


# ---- errors ------------------------------------------------------------------------------------------

def test_empty_workbook(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    hidden = wb.create_sheet("名单")
    hidden["A1"] = "基教股"
    hidden.sheet_state = "hidden"
    wb.save(tmp_path / "empty.xlsx")
    with pytest.raises(ReadError, match=r"empty\.xlsx: the workbook has no visible cells with text \(hidden "
                                        r"sheets left out: 名单\); check that it is the right file"):
        read_file(tmp_path / "empty.xlsx")


def test_password_protected_workbook(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_xlsx(tmp_path / "plain.xlsx")
    with plain.open("rb") as source, (tmp_path / "locked.xls").open("wb") as out:
        OOXMLFile(source).encrypt("secret", out)  # an encrypted workbook is an OLE2 file, like an .xls
    with pytest.raises(ReadError, match=r"locked\.xls: the workbook is password-protected; save a copy without "
                                        "the password"):
        read_file(tmp_path / "locked.xls")
    (tmp_path / "locked.xls").rename(tmp_path / "locked.xlsx")  # as Excel saves it: under .xlsx
    with pytest.raises(ReadError, match=r"locked\.xlsx: the file is password-protected; save a copy without "
                                        "the password"):
        read_file(tmp_path / "locked.xlsx")


def test_a_zip_under_a_binary_name_is_refused(tmp_path):
    write_xlsx(tmp_path / "renamed.et")
    assert zipfile.is_zipfile(tmp_path / "renamed.et")
    with pytest.raises(ReadError, match=r"renamed\.et: the file is a zip archive .* rename it to \.xlsx"):
        read_file(tmp_path / "renamed.et")


@pytest.mark.parametrize("name", ["broken.xls", "broken.et"])
def test_a_broken_binary_workbook(tmp_path, name):
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(ReadError, match=rf"{name}: not a readable \.\w+ workbook \(.*\); re-save it from Excel"):
        read_file(tmp_path / name)


def test_two_far_apart_cells_stop_the_parser_not_the_service(tmp_path):
    """calamine makes a sheet one dense grid: A1 and XFD1048576 would be 17 billion cells. The sandbox's child
    dies at the allocation and the file is refused in one line."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["XFD1048576"] = "实施教育信息化升级工程", "远教站"
    wb.save(tmp_path / "sparse.xlsx")
    with pytest.raises(UnreadableFile, match=r"sparse\.xlsx: the parser stopped .* memory limit"):
        load_document(tmp_path / "sparse.xlsx")


def test_a_web_table_saved_as_xls_is_converted_by_libreoffice(tmp_path):
    """Web systems export "Excel" as an HTML table under .xls: calamine cannot parse it, LibreOffice can."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) converts what calamine cannot read: `make test` installs it")
    cells = [("序号", "具体任务", "牵头单位", "配合单位", "完成时限"), ("1", *TASKS[5], "长期坚持")]
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)
    (tmp_path / "导出.xls").write_text(f"<html><body><table>{rows}</table></body></html>", encoding="utf-8")
    doc = load_document(tmp_path / "导出.xls")
    assert doc.read_method == "converted" and doc.read_info["converter"].startswith("LibreOffice")
    assert doc.text.startswith("导出\n工作表:")
    assert [(r.task, r.lead, r.deadline) for r in doc.records] == [("实施教育信息化升级工程", ["远教站"], "长期坚持")]


# ---- native tables: header variants, two-row headers, group rows --------------------------------------

def lines_of(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return out


def test_header_variants_and_deadline_column():
    text = ("序号 | 重点任务 | 责任单位(部门) | 配合 部门 | 时间节点\n"
            "1 | 开设劳动教育必修课 | 基础教育股 | 教研室 | 2024年9月底前\n"
            "2 | 建设劳动实践基地 | 县教育局 | 各县(市、区)教育局、县财政局 | 长期坚持\n")
    rows = find_pipe_tables(lines_of(text))[0]
    assert [(r.task, r.lead, r.assisting, r.deadline) for r in rows] == [
        ("开设劳动教育必修课", ["基础教育股"], ["教研室"], "2024年9月底前"),
        ("建设劳动实践基地", ["县教育局"], ["各县(市、区)教育局", "县财政局"], "长期坚持")]
    assert (rows[0].lead_label, rows[0].assist_label, rows[0].deadline_label) == ("责任单位(部门)", "配合部门", "时间节点")


def test_group_rows_join_the_task_below_and_restarting_numbers_are_counted():
    text = ("序号 | 具体任务 | 牵头股室 | 协助股室\n"
            "一、课程 |\n"
            "1 | 开设劳动教育必修课 | 基础教育股 | 教研室\n"
            "二、基地 |\n"
            "1 | 建设劳动实践基地 | 基础教育股 |\n"
            "注:各学校负责落实。 |\n")
    rows = find_pipe_tables(lines_of(text))[0]
    assert [r.number for r in rows] == ["1", "2"]  # 序号 1, 1: not an id
    assert text[rows[1].start:rows[1].end] == "二、基地 |\n1 | 建设劳动实践基地 | 基础教育股 |\n注:各学校负责落实。 |"


def test_a_table_without_a_deadline_column_keeps_records_as_before():
    text = "具体任务 | 牵头股室 | 协助股室\n实施课程构建工程 | 教研室 | 基教股\n"
    (row,) = find_pipe_tables(lines_of(text))[0]
    assert (row.deadline, row.lead_label, row.assist_label) == ("", "牵头股室", "协助股室")


@pytest.mark.parametrize("cell,offices", [
    ("各县(市、区)教育局、县财政局", ["各县(市、区)教育局", "县财政局"]),
    ("人事股  计财股", ["人事股", "计财股"]),
])
def test_split_offices_keeps_parentheses_together(cell, offices):
    assert split_offices(cell) == offices
