"""One reader per format: .html (main content), .docx (paragraphs and native tables), .pdf (text, tables,
pages). Each sample carries the same small plan with a responsibility table."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import chunk_document
from ingest.pipeline import load_document
from ingest.readers import ReadError, decode_text

ROWS = [("具体任务", "牵头股室", "协助股室"), ("实施课程构建工程", "教研室", "基教股"), ("实施平安校园工程", "法规安全股", "各股室")]
CJK_FONTS = [Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
             Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")]


def check_plan(doc) -> None:
    assert "到2025年,建成10所特色学校。" in doc.text
    assert [(r.task, r.lead, r.assisting) for r in doc.records] == [
        ("实施课程构建工程", ["教研室"], ["基教股"]), ("实施平安校园工程", ["法规安全股"], ["各股室"])]
    assert doc.records[0].lead_label == "牵头股室"
    ids = [c.clause_id.split("#")[1] for c in doc.clauses]
    assert {"一", "二", "二.1", "二.2", "三"} <= set(ids)
    for c in chunk_document(doc):
        assert c.text == doc.text[c.start:c.end]


def test_html_main_content_without_chrome(tmp_path):
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in ROWS)
    page = (f"<html><head><title>某县课程建设方案</title><script>var tracking=1;</script></head><body>"
            f"<div class='nav'>首页 > 政务公开 > 文件</div><div id='main'><h1>某县课程建设方案</h1>"
            f"<p>一、工作目标</p><p>到2025年,建成10所特色学校。</p><p>二、任务分工</p><table>{rows}</table>"
            f"<p>三、经费保障</p><p>每年安排专项经费50万元。</p></div>"
            f"<div class='footer'>版权所有 某县教育局 ICP备123号</div></body></html>")
    path = tmp_path / "plan.html"
    path.write_text(page, encoding="utf-8")
    doc = load_document(path)
    check_plan(doc)
    assert "tracking" not in doc.text and "首页" not in doc.text and "ICP" not in doc.text


def test_docx_paragraphs_and_native_table(tmp_path):
    import docx

    d = docx.Document()
    for line in ("某县课程建设方案", "一、工作目标", "到2025年,建成10所特色学校。", "二、任务分工"):
        d.add_paragraph(line)
    table = d.add_table(rows=len(ROWS), cols=3)
    for i, row in enumerate(ROWS):
        for j, cell in enumerate(row):
            table.cell(i, j).text = cell
    d.add_paragraph("三、经费保障")
    d.add_paragraph("每年安排专项经费50万元。")
    d.save(tmp_path / "plan.docx")
    check_plan(load_document(tmp_path / "plan.docx"))


def test_pdf_text_tables_and_page_numbers(tmp_path):
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = next((f for f in CJK_FONTS if f.exists()), None)
    assert font is not None, "a CJK font is needed to write the sample PDF: `make test` installs fonts-wqy-microhei"
    pdf = FPDF()
    pdf.add_font("cjk", fname=str(font))
    pdf.set_font("cjk", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "某县课程建设方案\n一、工作目标\n到2025年,建成10所特色学校。\n二、任务分工")
    with pdf.table(headings_style=FontFace(emphasis=None)) as table:
        for row in ROWS:
            r = table.row()
            for cell in row:
                r.cell(cell)
    pdf.add_page()
    pdf.multi_cell(0, 8, "三、经费保障\n每年安排专项经费50万元。")
    pdf.output(str(tmp_path / "plan.pdf"))
    doc = load_document(tmp_path / "plan.pdf")
    check_plan(doc)
    assert len(doc.page_starts) == 2
    pages = {c.clause_id.split("#")[1]: c.page for c in chunk_document(doc)}
    assert pages["三"] == 2 and pages["二"] == 1  # the task table fits one chunk, on page 1


def test_gbk_text_is_detected(tmp_path, corpus_dir):
    original = (corpus_dir / "renhuai-brand-schools-2017.txt").read_text(encoding="utf-8")
    assert decode_text(original.encode("gb18030"), "x") == original


@pytest.mark.parametrize("name, data, message", [
    ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
    ("broken.pdf", b"%PDF-1.4 garbage", "PDF"),
])
def test_broken_files_get_a_clear_error(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(Exception) as err:
        load_document(path)
    assert name in str(err.value) and message in str(err.value)
    assert isinstance(err.value.__cause__, ReadError) or "IngestError" in type(err.value).__name__
