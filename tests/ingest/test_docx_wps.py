""".docx packages as WPS Office writes them read like any .docx (ingest/docx_repair.py, used by
ingest.readers.read_docx): what python-docx alone refuses (dangling relationships, a template's content type,
a part without a content type) or misses (a paragraph inside a content control)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest import readers
from ingest.pipeline import load_document


def rewrite(path: Path, changes: dict[str, bytes | None]) -> None:
    """Replace (or, with None, remove) entries of a zip."""
    with zipfile.ZipFile(path) as archive:
        entries = {i.filename: archive.read(i) for i in archive.infolist()}
    entries.update(changes)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if data is not None:
                archive.writestr(name, data)


def wps_docx(tmp_path: Path) -> Path:
    """A .docx with what WPS writes and python-docx refuses or misses: relationships to parts that are not
    there (Target="NULL", "#_top"), the main part typed as a template, a part with no content type, WPS's
    custom properties, an XML comment in the body, and a paragraph inside a content control."""
    import docx

    path = tmp_path / "wps.docx"
    d = docx.Document()
    for line in ("某县课程建设方案", "一、工作目标", "到2025年,建成10所特色学校。", "二、任务分工"):
        d.add_paragraph(line)
    table = d.add_table(rows=2, cols=3)
    for j, (head, cell) in enumerate(zip(("具体任务", "牵头股室", "协助股室"), ("实施课程构建工程", "教研室", "基教股"),
                                         strict=True)):
        table.cell(0, j).text, table.cell(1, j).text = head, cell
    d.add_paragraph("三、经费保障")
    d.save(str(path))
    with zipfile.ZipFile(path) as archive:
        rels = archive.read("word/_rels/document.xml.rels").decode()
        types = archive.read("[Content_Types].xml").decode()
        body = archive.read("word/document.xml").decode()
    image = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
    rels = rels.replace("</Relationships>", f'<Relationship Id="rId90" Type="{image}" Target="NULL"/>'
                        f'<Relationship Id="rId91" Type="{image}" Target="../NULL"/>'
                        f'<Relationship Id="rId92" Type="{image}" Target="#_top"/>'
                        f'<Relationship Id="rId93" Type="{image}" Target="media/wps.emz"/></Relationships>')
    types = types.replace("wordprocessingml.document.main+xml", "wordprocessingml.template.main+xml")
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    sdt = (f'<!-- KSO section --><w:sdt xmlns:w="{w}"><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>每年安排专项经费50万元。'
           '</w:t></w:r></w:p></w:sdtContent></w:sdt><w:sectPr')
    body = body.replace("<w:sectPr", sdt, 1)
    custom = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.'
              'openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/'
              'officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" '
              'name="KSOProductBuildVer"><vt:lpwstr>2052-12.1.0.19770</vt:lpwstr></property></Properties>')
    rewrite(path, {"word/_rels/document.xml.rels": rels.encode(), "[Content_Types].xml": types.encode(),
                   "word/document.xml": body.encode(), "docProps/custom.xml": custom.encode(),
                   "word/media/wps.emz": b"\x00" * 64})
    return path


def test_a_docx_as_wps_writes_it_reads_like_any_docx(tmp_path):
    import docx

    path = wps_docx(tmp_path)
    with pytest.raises(Exception):  # noqa: B017 - what python-docx alone does with it
        docx.Document(str(path))
    text = readers.read_docx(path)
    assert text.splitlines() == ["某县课程建设方案", "一、工作目标", "到2025年,建成10所特色学校。", "二、任务分工",
                                 "具体任务 | 牵头股室 | 协助股室", "实施课程构建工程 | 教研室 | 基教股", "三、经费保障",
                                 "每年安排专项经费50万元。"]
    doc = load_document(path)  # through the sandbox: check_archive, then the repair in memory
    assert [(r.task, r.lead) for r in doc.records] == [("实施课程构建工程", ["教研室"])]


def test_a_broken_docx_still_gets_one_line(tmp_path):
    path = wps_docx(tmp_path)
    rewrite(path, {"word/document.xml": None})
    with pytest.raises(readers.ReadError, match=r"wps.docx: not a readable .docx \(KeyError\); re-save it"):
        readers.read_docx(path)
