"""A 任务分工表 workbook built from the renhuai plan (corpus/renhuai-brand-schools-2017.txt), written as .xlsx
with openpyxl and converted to .xls / .ods by LibreOffice, for the spreadsheet tests."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

# 三、任务分工 of the plan: 具体任务 | 牵头股室 | 协助股室, as printed there.
TASKS = [
    ("实施学校治理现代化工程", "基教股", "人事股、计财股、工会、办公室"),
    ("实施平安校园保障工程", "法规安全股", "各股室"),
    ("实施特色创新课程构建工程", "教研室", "基教股"),
    ("实施减负增效提质工程", "基教股", "教研室、督导办公室"),
    ("实施学生核心素养提升工程", "基教股", "教研室、督导办公室"),
    ("实施教育信息化升级工程", "远教站", "基教股、人事股、教研室"),
    ("实施三位一体统筹工程", "基教股", "各股室"),
    ("实施教育评价改革工程", "督导办公室", "教研室、基教股"),
    ("实施学校文化育人工程", "基教股", "各股室"),
    ("实施师资队伍强基工程", "教师工作股", "人事股、教研室"),
]
# The plan's table has no 完成时限 column: these are the tests' own, within its term (2016年9月至2019年8月);
# rows 4 and 5 share merged lead, assisting and deadline cells; row 6's is a date cell.
DEADLINES = ["2017年12月底前", "长期坚持", "2018年6月底前", "2018年6月底前", None, dt.date(2019, 8, 31), "长期坚持",
             "2018年12月底前", "2019年6月底前", "长期坚持"]
TITLE = "仁怀市学校品牌提升十项工程任务分工表"
NOTE = "说明:要求牵头股室成立工作小组,组建专家库,制定指导学校品牌提升工作的具体实施方案。"  # the plan's own words
# 五、实施步骤 of the plan, the first two phases: 阶段 (merged down) | 时间 | 工作内容
STEPS = [
    ("第一阶段", "2016年9月—12月", "研究制订实施方案,确定项目实施的领导机构和相关工作小组负责人。"),
    (None, "2017年1月-4月", "组织申报品牌学校创建培育学校。"),
    (None, "2017年6月", "研制各个项目的监测标准和评估办法,组织专家赴各培育学校进行工作指导。"),
    ("第二阶段", "2017年9月—10月", "组织工作小组和专家团队深入培育学校开展调查研究、工作指导和问题分析。"),
    (None, "2017年11月—12月", "对培育学校进行品牌提升的初步监测对比,总结试验成效和存在的问题,向市教育局汇报工作进展情况。"),
]


def write_xlsx(path: Path) -> Path:
    """Sheet 任务分工: a title merged across, a two-row header (责任单位 over 牵头单位 | 配合单位), the ten
    tasks, a note; sheet 实施步骤: a plain table; a hidden sheet of units and an empty sheet."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务分工"
    ws.append([TITLE])
    ws.merge_cells("A1:E1")
    ws.append(["序号", "具体任务", "责任单位", None, "完成时限"])
    ws.append([None, None, "牵头单位", "配合单位", None])
    for col in "ABE":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("C2:D2")
    for n, ((task, lead, assisting), deadline) in enumerate(zip(TASKS, DEADLINES, strict=True), start=1):
        merged_away = n == 5  # under the merged cells of row 4
        ws.append([n, task, None if merged_away else lead, None if merged_away else assisting, deadline])
    for col in "CDE":
        ws.merge_cells(f"{col}7:{col}8")  # tasks 4 and 5: rows 7 and 8
    ws.append([NOTE])
    ws.merge_cells(f"A{ws.max_row}:E{ws.max_row}")

    steps = wb.create_sheet("实施步骤")
    steps.append(["阶段", "时间", "工作内容"])
    for row in STEPS:
        steps.append(list(row))
    steps.merge_cells("A2:A4")
    steps.merge_cells("A5:A6")

    units = wb.create_sheet("单位")
    units.append(["基教股"])
    units.sheet_state = "hidden"
    wb.create_sheet("空表")
    wb.save(path)
    return path


def convert(source: Path, suffix: str, out_dir: Path) -> Path:
    """`source` converted by LibreOffice (headless, a profile of its own so parallel runs do not clash)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is needed to write .xls/.ods samples: `make test` installs it")
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = (out_dir / ".lo-profile").resolve().as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", suffix[1:],
                    "--outdir", str(out_dir), str(source)], check=True, capture_output=True, timeout=180)
    made = out_dir / (source.stem + suffix)
    assert made.exists(), f"LibreOffice did not write {made}"
    return made


def workbook(folder: Path, suffix: str, stem: str = "任务分工表") -> Path:
    """The workbook as `suffix` (.xlsx, .xls, .ods, or .et: a binary .xls under WPS's name) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = write_xlsx(folder.parent / f".{folder.name}-{stem}.xlsx")
    if suffix == ".xlsx":
        return xlsx.rename(folder / f"{stem}.xlsx")
    made = convert(xlsx, ".ods" if suffix == ".ods" else ".xls", folder.parent / f".{folder.name}-out")
    return made.rename(folder / f"{stem}{suffix}")
