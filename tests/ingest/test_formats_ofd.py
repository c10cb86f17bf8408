"""OFD (ingest/formats/ofd.py): text in reading order from the pages' TextObjects, pages kept.

The big sample is corpus/renhuai-brand-schools-2017.txt laid out as an OFD printer would (benches/
office_samples.py): A4 pages in 16 pt type, every line drawn as several TextObjects written out of order, the
task table's cells at their columns. The small one is written here element by element."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import CORPUS, RENHUAI, make_settings

from benches.office_samples import policy_blocks, write_ofd
from ingest import readers
from ingest.chunking import chunk_document
from ingest.formats import ofd
from ingest.pipeline import load_document
from policyqa import service
from policyqa.service import QAService

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


@pytest.fixture(scope="module")
def ofd_file(tmp_path_factory) -> Path:
    return write_ofd(tmp_path_factory.mktemp("ofd") / f"{RENHUAI}.ofd", policy_blocks(), breaks_before=("四、",))


def test_ofd_keeps_clauses_table_and_pages(ofd_file):
    reference = load_document(CORPUS / f"{RENHUAI}.txt")
    doc = load_document(ofd_file)  # through the sandbox: check_archive first
    assert doc.read_method == "read"
    assert [c.clause_id for c in doc.clauses] == [c.clause_id for c in reference.clauses]
    assert [(r.task, r.lead, r.assisting) for r in doc.records] == [
        (r.task, r.lead, r.assisting) for r in reference.records]
    assert "3 | 实施特色创新课程构建工程 | 教研室 | 基教股" in doc.text
    with zipfile.ZipFile(ofd_file) as archive:
        pages = sum(1 for n in archive.namelist() if n.endswith("/Content.xml"))
    assert pages > 2 and len(doc.page_starts) == pages
    chunks = chunk_document(doc)
    first = doc.text.index("四、工作内容")
    chapter_four = doc.page_of(first)
    assert doc.text[doc.page_starts[chapter_four - 1]:].startswith("四、工作内容")  # a page of its own
    (chunk,) = [c for c in chunks if c.clause_id.endswith("#四.(三)")]
    assert chunk.page == chapter_four and chunk.text.startswith("(三)实施特色创新课程构建工程。推进国家课程校本化实")
    assert chunks[0].page == 1


def test_an_ofd_answers_with_a_citation(ofd_file, tmp_path, hashing_embedder):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copyfile(ofd_file, folder / ofd_file.name)
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=folder, embedder="hashing")
    outcome = service.ingest(settings, [folder], hashing_embedder)
    assert outcome.report.ok, outcome.report.errors
    result = QAService(settings, hashing_embedder).ask("哪个股室牵头实施特色创新课程构建工程?")
    assert not result.answer.refused and "教研室" in result.answer.answer
    cited = result.answer.citations[0]
    assert cited.document.doc_id == RENHUAI and "教研室" in cited.chunk.text and cited.chunk.page is not None


def text_object(x: float, y: float, text: str, size: float = 5.0, extra: str = "", code: str = "") -> str:
    """A TextObject whose Boundary starts at (x, y - size); its TextCode's baseline is `size` below that."""
    return (f'<ofd:TextObject ID="1" Boundary="{x} {y - size} {len(text) * size} {size * 1.2}" Font="2" '
            f'Size="{size}"{extra}><ofd:TextCode X="0" Y="{size}"{code}>{text}</ofd:TextCode></ofd:TextObject>')


def small_ofd(path: Path, pages: list[str], doc_root: str = "Doc_0/Document.xml",
              extra: dict[str, bytes] | None = None) -> Path:
    page_list = "".join(f'<ofd:Page ID="{i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.0" '
                         f'DocType="OFD"><ofd:DocBody><ofd:DocRoot>{doc_root}</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        archive.writestr("Doc_0/Document.xml", f'<ofd:Document {NS}><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>'
                         f'0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>{page_list}'
                         '</ofd:Pages></ofd:Document>')
        for i, objects in enumerate(pages):
            archive.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", f'<ofd:Page {NS}><ofd:Content><ofd:Layer ID="9">'
                             f'{objects}</ofd:Layer></ofd:Content></ofd:Page>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def test_a_line_split_into_text_objects_is_joined_in_reading_order(tmp_path):
    page_one = "".join([
        text_object(45, 40, "市教育局牵头"),  # the middle of line 1, written first
        text_object(25, 60, "二、经费保障"),  # line 2
        text_object(25, 40, "一、课程"),  # the start of line 1
        text_object(75, 40.4, "实施。", size=5.2),  # the end of line 1: another size, its baseline a little off
        # a CTM that scales the object by 2 (about its Boundary origin) and a TextCode in two runs with DeltaX
        '<ofd:TextObject ID="7" Boundary="25 70 100 10" Size="2.5" CTM="2 0 0 2 0 0"><ofd:TextCode X="0" Y="2.5" '
        'DeltaX="g 3 2.5">每年安排</ofd:TextCode><ofd:TextCode DeltaX="2.5 2.5">50万元</ofd:TextCode></ofd:TextObject>',
        text_object(25, 90, "具体任务"), text_object(85, 90, "牵头股室"),  # a table row: a wide gap between cells
    ])
    page_two = text_object(25, 40, "三、附则") + text_object(45, 40, "本方案自印发之日起施行。")
    path = small_ofd(tmp_path / "plan.ofd", [page_one, page_two])
    text = readers.read_text(path)
    assert text == ("一、课程市教育局牵头实施。\n二、经费保障\n每年安排50万元\n具体任务 | 牵头股室"
                    "\f三、附则本方案自印发之日起施行。")


def test_paths_relative_to_the_package_root_are_found(tmp_path):
    path = small_ofd(tmp_path / "plan.ofd", [text_object(25, 40, "一、课程建设")], doc_root="/Doc_0/Document.xml")
    assert ofd.read(path) == "一、课程建设"


def one_entry(path: Path, name: str, data: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, data)


BOMB = ('<?xml version="1.0"?><!DOCTYPE ofd:OFD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        f']><ofd:OFD {NS}><ofd:DocBody><ofd:DocRoot>&b;</ofd:DocRoot></ofd:DocBody></ofd:OFD>')


@pytest.mark.parametrize("name, build, message", [
    ("notzip.ofd", lambda p: p.write_bytes(b"%PDF-1.7 not an ofd"), "not a readable .ofd file (BadZipFile"),
    ("noroot.ofd", lambda p: one_entry(p, "Doc_0/Document.xml", "<x/>"), "no OFD.xml inside"),
    ("cut.ofd", lambda p: one_entry(p, "OFD.xml", "<ofd:OFD xmlns:ofd='x'><ofd:Doc"),
     "its OFD.xml is not well-formed XML"),
    ("bomb.ofd", lambda p: one_entry(p, "OFD.xml", BOMB), "declares a DTD"),
    ("lost.ofd", lambda p: small_ofd(p, ["<x/>"], doc_root="Doc_9/Document.xml"), "that is not in the package"),
    ("locked.ofd", lambda p: small_ofd(p, [text_object(25, 40, "一、课程")], extra={"Encryptions.xml": "<x/>"}),
     "the OFD is encrypted (password-protected)"),
    ("scan.ofd", lambda p: small_ofd(p, ['<ofd:ImageObject ID="3" Boundary="0 0 210 297" ResourceID="4"/>']),
     "have no text (scanned images"),
])
def test_broken_or_protected_ofd_gets_one_line(tmp_path, name, build, message):
    path = tmp_path / name
    build(path)
    with pytest.raises(readers.ReadError) as err:
        readers.read_file(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    assert "\n" not in str(err.value)
