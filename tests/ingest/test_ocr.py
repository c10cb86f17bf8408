"""OCR of scans and images (ingest/ocr.py, ingest/formats/images.py, read_pdf): every fixture is rendered
by the test from text in the repository with a CJK font (benches/scans.py), then read by the real engine.

Reading order is checked on boxes first (no OCR); then real pages: a red-header plan with a ruled table and
a stamped signature (PNG), a PDF with one scanned page among text pages, an upside-down photo, a TIFF's
pages, a 50-page scan (progress, per-page deadline, cancel: by the caller, by Ctrl-C, by the parent dying),
and broken or locked files. The slow tests ingest a scan of the Renhuai plan and answer from it alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import CORPUS, RENHUAI, REPO, cli_env, make_settings

from benches.scans import RED, ScanWriter, char_accuracy, save_pdf, scan_of
from ingest.chunking import ChunkSettings, chunk_document
from ingest.clean import clean_text
from ingest.ocr import Box, page_text
from ingest.pipeline import load_document, prepare_documents
from ingest.readers import ReadError
from ingest.sandbox import ParseLimits, Sandbox
from policyqa import service
from policyqa.service import QAService

PLAN_NUMBER = "青教发〔2024〕12号"


def plan_writer() -> ScanWriter:
    """A one-page 公文 as a county bureau prints it: red header and 文号, title in 2号, a ruled task table,
    the signature and date under a red seal."""
    w = ScanWriter()
    w.line("青山县教育局文件", "center", RED, 26)
    w.line(PLAN_NUMBER, "center")
    w.rule()
    w.line("关于印发《青山县书香校园建设方案》的通知", "center", size_pt=22)
    w.text("各中小学:\n现将《青山县中小学书香校园建设方案》印发给你们,请认真组织实施。\n一、工作目标\n"
           "到2025年,全县建成书香校园示范校15所,学生年均阅读量达到30本以上。\n二、任务分工")
    w.table([("序号", "具体任务", "牵头股室", "协助股室"), ("1", "建设校园图书馆", "装备股", "计财股"),
             ("2", "开展师生共读活动", "教研室", "基教股")], [0.12, 0.44, 0.22, 0.22])
    w.text("三、保障措施\n县教育局每年安排阅读专项经费80万元,用于图书更新和阅读活动。")
    w.space(2)
    w.line("青山县教育局", "right")
    w.line("2024年3月8日", "right")
    w.stamp("青山县教育局")
    return w


def short_pages(n: int) -> ScanWriter:
    """`n` pages of four lines each: quick to OCR (~1 s a page), for progress and cancelling."""
    w = ScanWriter()
    for page in range(1, n + 1):
        w.text(f"第{page}页\n学校品牌提升主要任务为十项提升工程。\n要求牵头股室成立工作小组。\n组建专家库。")
        if page < n:
            w.page_break()
    return w


@pytest.fixture(scope="module")
def scan50(tmp_path_factory) -> Path:
    """A 50-page scanned PDF (no text layer)."""
    folder = tmp_path_factory.mktemp("scan50")
    return save_pdf(short_pages(50).pages(skew_deg=0, blur=0), folder / "scan50.pdf")


# -- reading order, on boxes -------------------------------------------------------------------------

EM = 40  # a character's width and height in the boxes below


def box(x0: float, y0: float, text: str, width: float | None = None) -> Box:
    width = width if width is not None else EM * sum(1 if ord(c) > 0x2E80 else 0.5 for c in text)
    return Box(x0, y0, x0 + width, y0 + EM, text, 0.99)


def test_boxes_on_one_line_join_left_to_right_chinese_without_spaces():
    boxes = [box(392, 102, "建设方案"), box(100, 100, "青山县书香校园"), box(100, 160, "一、工作目标"),
             box(100, 220, "Windows"), box(250, 221, "10系统")]
    assert page_text(boxes) == "青山县书香校园建设方案\n一、工作目标\nWindows 10系统"


def test_spaced_words_and_table_columns():
    lone = [box(100, 100, "工"), box(180, 100, "会"), box(260, 100, "办公室")]  # letter-spaced, 1 em apart
    table = [box(100, 200, "序号"), box(260, 200, "具体任务"), box(700, 200, "牵头股室"),
             box(104, 260, "1"), box(262, 260, "建设校园图书馆"), box(702, 260, "装备股")]
    assert page_text(lone + table) == "工  会  办公室\n序号 | 具体任务 | 牵头股室\n1 | 建设校园图书馆 | 装备股"


def test_wrapped_paragraphs_join_but_not_sentence_ends_headings_or_titles():
    boxes = [box(200, 60, "关于印发方案的通知", width=9 * 60),  # a title in larger type, centred
             box(100, 130, "各学校:"),
             box(180, 190, "根据教育改革发展的新部署新要求努力践行三年创优行动进一步促进"),  # indented, to the margin
             box(100, 250, "优质发展。"),
             box(180, 310, "确保教育强市目标的实现市教育局制定本方案请遵照执行。"),
             box(100, 370, "一、指导思想")]
    assert page_text(boxes).split("\n") == [
        "关于印发方案的通知", "各学校:", "根据教育改革发展的新部署新要求努力践行三年创优行动进一步促进优质发展。",
        "确保教育强市目标的实现市教育局制定本方案请遵照执行。", "一、指导思想"]


# -- images ---------------------------------------------------------------------------------------


def test_png_of_a_red_header_plan_with_table_and_stamp(tmp_path):
    path = tmp_path / "qingshan-plan.png"
    plan_writer().pages()[0].save(path)
    doc = load_document(path)
    assert doc.read_method == "ocr"
    assert doc.read_info["pages"] == 1 and doc.read_info["ocr_pages"] == [1]
    assert doc.read_info["confidence"][0] > 0.9
    lines = doc.text.split("\n")
    assert lines[:2] == ["青山县教育局文件", PLAN_NUMBER]  # the red header and its 文号 are text
    assert doc.doc_number == PLAN_NUMBER
    assert [line for line in lines if line][-2:] == ["青山县教育局", "2024年3月8日"]  # under the red seal
    assert "到2025年,全县建成书香校园示范校15所,学生年均阅读量达到30本以上。" in lines  # one line again, as written
    assert [(r.task, r.lead, r.assisting) for r in doc.records] == [
        ("建设校园图书馆", ["装备股"], ["计财股"]), ("开展师生共读活动", ["教研室"], ["基教股"])]
    assert {"一", "二", "二.1", "二.2", "三"} <= {c.clause_id.split("#")[1] for c in doc.clauses}
    for chunk in chunk_document(doc):
        assert chunk.text == doc.text[chunk.start:chunk.end]


def test_upside_down_photo_is_turned_over(tmp_path):
    w = ScanWriter()
    w.text("一、工作目标\n到2025年,全县建成书香校园示范校15所。\n二、经费保障\n每年安排专项经费50万元。")
    path = tmp_path / "upside-down.jpg"
    w.pages()[0].rotate(180).save(path, quality=80)
    with Sandbox() as sandbox:
        got = sandbox.read(path)
    assert got.text.split("\n")[:4] == ["一、工作目标", "到2025年,全县建成书香校园示范校15所。", "二、经费保障",
                                         "每年安排专项经费50万元。"]


def test_tiff_pages_are_pages_with_progress(tmp_path):
    path = tmp_path / "three-pages.tiff"
    short_pages(3).pages()[0].save(path, save_all=True, append_images=short_pages(3).pages()[1:])
    heard = []
    with Sandbox(on_page=lambda p, done, total: heard.append((p, done, total))) as sandbox:
        got = sandbox.read(path)
    assert heard == [(path, 1, 3), (path, 2, 3), (path, 3, 3)]
    pages = got.text.split("\f")
    assert [p.split("\n")[0] for p in pages] == ["第1页", "第2页", "第3页"]
    assert got.info["pages"] == 3 and len(got.info["confidence"]) == 3


# -- PDFs -----------------------------------------------------------------------------------------


def test_only_the_pages_without_text_are_ocrd(tmp_path):
    """A text PDF is read, never OCR'd; one scanned page inside it is OCR'd alone, and keeps its number."""
    from fpdf import FPDF

    def text_pdf() -> FPDF:
        pdf = FPDF()
        pdf.add_font("cjk", fname=str(ScanWriter().font_path))
        pdf.set_font("cjk", size=12)
        pdf.add_page()
        pdf.multi_cell(0, 8, "某县课程建设方案\n一、工作目标\n到2025年,建成10所特色学校。")
        return pdf

    text_pdf().output(str(tmp_path / "text.pdf"))
    doc = load_document(tmp_path / "text.pdf")
    assert (doc.read_method, doc.read_info) == ("read", {})

    w = ScanWriter()
    w.text("二、任务分工\n要求牵头股室成立工作小组,组建专家库。\n三、经费保障\n每年安排专项经费50万元。")
    scanned = tmp_path / "page2.png"
    w.pages()[0].save(scanned)
    pdf = text_pdf()
    pdf.add_page()
    pdf.image(str(scanned), x=0, y=0, w=pdf.w, h=pdf.h)
    pdf.output(str(tmp_path / "mixed.pdf"))
    doc = load_document(tmp_path / "mixed.pdf")
    assert doc.read_method == "ocr"
    assert doc.read_info["pages"] == 2 and doc.read_info["ocr_pages"] == [2]
    assert "到2025年,建成10所特色学校。" in doc.text and "每年安排专项经费50万元。" in doc.text
    assert len(doc.page_starts) == 2
    pages = {c.clause_id.split("#")[1]: c.page for c in chunk_document(doc)}
    assert pages["一"] == 1 and pages["二"] == 2 and pages["三"] == 2


def test_a_long_scan_reports_each_page_outlives_the_file_limit_and_can_be_cancelled(scan50):
    """The time limit is per page while pages come; a cancel (the page callback raising, as a job's
    would) ends the child at once, and the next file gets a new one."""
    class Cancelled(Exception):
        pass

    limit, heard, started = 10.0, [], time.monotonic()  # a short page takes 1-3 s, even on a busy machine
    child_pid = []

    def on_page(path, done, total):
        heard.append((done, total))
        if done >= 2 and time.monotonic() - started > limit + 1:
            raise Cancelled

    with Sandbox(ParseLimits(timeout_s=limit), on_page=on_page) as sandbox:
        sandbox._start()
        child_pid.append(sandbox._child.pid)
        with pytest.raises(Cancelled):
            sandbox.read(scan50)
        assert time.monotonic() - started > limit  # longer than the limit: it is per page
        assert sandbox._child is None and gone(child_pid[0])
        assert heard[:2] == [(1, 50), (2, 50)] and len(heard) < 50
        html = scan50.with_name("next.html")
        html.write_text("<p>一、工作目标</p><p>建成10所特色学校。</p>", encoding="utf-8")
        assert "建成10所特色学校。" in sandbox.read_text(html)


def gone(pid: int, wait: float = 0.0) -> bool:
    """The process has ended (a zombie no one reaps counts as ended)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_ctrl_c_stops_the_cli_ingesting_a_long_scan(scan50, tmp_path):
    # Ctrl-C as at a terminal: a test run started in the background (`cmd &`, nohup) has SIGINT ignored,
    # which the child would inherit, and Python then never turns SIGINT into KeyboardInterrupt.
    cli = subprocess.Popen([sys.executable, "-m", "policyqa.cli", "ingest", str(scan50)], cwd=REPO,
                           env=cli_env(POLICYQA_DATA_DIR=str(tmp_path / "data"), POLICYQA_EMBEDDER="hashing"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    err = bytearray()

    def read_stderr() -> None:
        while chunk := cli.stderr.read1(4096):
            err.extend(chunk)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while b"2/50" not in err:  # the page bar: "OCR scan50.pdf: ... 2/50"
        assert cli.poll() is None and time.monotonic() < deadline, err.decode(errors="replace")
        time.sleep(0.2)
    assert b"OCR scan50.pdf" in err
    sandbox_child = children(cli.pid)
    cli.send_signal(signal.SIGINT)
    try:
        code = cli.wait(timeout=60)  # seconds at most; 60 for a CI machine running other suites too
    except subprocess.TimeoutExpired:
        cli.kill()
        raise AssertionError("the CLI did not stop on Ctrl-C; its stderr: "
                             + err.decode(errors="replace")[-2000:]) from None
    assert code != 0
    reader.join(5)
    assert sandbox_child and all(gone(pid, wait=5) for pid in sandbox_child)
    assert b"Traceback" not in err, err.decode(errors="replace")


def test_a_child_whose_parent_dies_stops_at_the_next_page(scan50):
    script = ("import sys\nfrom pathlib import Path\nfrom ingest.sandbox import Sandbox\n"
              "def on_page(path, done, total):\n    print(sandbox._child.pid, done, flush=True)\n"
              f"with Sandbox(on_page=on_page) as sandbox:\n    sandbox.read(Path({str(scan50)!r}))\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    child = int(parent.stdout.readline().split()[0])
    parent.kill()
    parent.wait()
    assert gone(child, wait=60)  # a page takes seconds; the child's next progress line has no reader


# -- files that cannot be read ----------------------------------------------------------------------


def test_broken_locked_and_blank_files_fail_alone_with_one_line(tmp_path):
    from fpdf import FPDF

    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image at all")
    whole = tmp_path / "whole.jpg"
    short_pages(1).pages()[0].save(whole, quality=80)
    (folder / "truncated.jpg").write_bytes(whole.read_bytes()[:len(whole.read_bytes()) // 3])
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="secret")
    pdf.set_encryption(owner_password="owner", user_password="user")
    pdf.output(str(folder / "locked.pdf"))
    ScanWriter().pages()[0].save(folder / "blank.png")
    short_pages(1).pages()[0].save(folder / "good.png")

    report = prepare_documents([folder], ChunkSettings())
    assert [d.doc_id for d in report.documents] == ["good"]
    errors = {Path(e.split(":")[0]).name: e for e in report.errors}
    assert set(errors) == {"broken.png", "truncated.jpg", "locked.pdf", "blank.png"}
    assert all("\n" not in e for e in errors.values())
    assert "not a readable image" in errors["broken.png"]
    assert "page 1 of 1 is not a readable image" in errors["truncated.jpg"]
    assert "password-protected" in errors["locked.pdf"] and "without the password" in errors["locked.pdf"]
    assert "OCR found no text" in errors["blank.png"]


def test_too_many_pages_are_refused(tmp_path, monkeypatch):
    from ingest import ocr

    monkeypatch.setattr(ocr, "MAX_OCR_PAGES", 2)
    path = tmp_path / "three.tiff"
    pages = short_pages(3).pages(skew_deg=0, blur=0)
    pages[0].save(path, save_all=True, append_images=pages[1:])
    with pytest.raises(ReadError) as err:
        ocr.ocr_pages(path, iter(()), 3)
    assert f"{path}: 3 pages to OCR, over the limit of 2; split the file" in str(err.value)


# -- the Renhuai plan, scanned: text, structure and a cited answer from the scan alone ---------------


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, real_index):
    """A scan of the Renhuai plan (11 pages) and the Qingshan plan's PNG, indexed alone with the real
    model."""
    folder = tmp_path_factory.mktemp("scans")
    writer = scan_of((CORPUS / f"{RENHUAI}.txt").read_text(encoding="utf-8"), folder / "renhuai-scan.pdf")
    plan_writer().pages()[0].save(folder / "qingshan-plan.png")
    settings = make_settings(data_dir=tmp_path_factory.mktemp("scans_data"), corpus_dir=folder)
    outcome = service.ingest(settings, [folder], real_index.embedder)
    assert outcome.report.ok, outcome.report.errors
    return QAService(settings, real_index.embedder), writer


@pytest.mark.slow
def test_renhuai_scan_recovers_its_text(scanned):
    qa, writer = scanned
    doc = qa.index.documents["renhuai-scan"]
    truth = clean_text((CORPUS / f"{RENHUAI}.txt").read_text(encoding="utf-8")).text
    accuracy = char_accuracy(doc.text, truth)
    print(f"OCR character accuracy on the Renhuai scan: {accuracy:.4f}")
    assert accuracy >= 0.98
    pages = writer.page_count
    assert doc.read_method == "ocr" and doc.read_info["ocr_pages"] == list(range(1, pages + 1))
    assert len(doc.page_starts) == pages and min(doc.read_info["confidence"]) > 0.9
    assert doc.doc_number == "仁教字〔2017〕17号"


@pytest.mark.slow
def test_renhuai_scan_structure(scanned):
    """The scan has the clause ladder and the task table of the text it was printed from."""
    doc = scanned[0].index.documents["renhuai-scan"]
    text = load_document(CORPUS / f"{RENHUAI}.txt")
    def ladder(d):
        return [c.clause_id.split("#")[1] for c in d.clauses]

    def records(d):
        # Offices one cell names with two half-width spaces between ("人事股  计财股": a gap of half a
        # character) are read as one word by the recogniser: compare their characters
        return [(r.task, r.lead, "".join(r.assisting)) for r in d.records]

    assert ladder(doc) == ladder(text)
    assert records(doc) == records(text)
    assert ("实施特色创新课程构建工程", ["教研室"], "基教股") in records(doc)


@pytest.mark.slow
def test_renhuai_scan_answers_with_its_page(scanned):
    qa, writer = scanned
    result = qa.ask("哪个股室牵头实施特色创新课程构建工程?")
    assert not result.answer.refused and "教研室" in result.answer.answer, result.answer.answer
    cited = result.answer.citations[0]
    assert cited.document.doc_id == "renhuai-scan"
    assert "实施特色创新课程构建工程" in cited.chunk.text and "教研室" in cited.chunk.text
    assert cited.chunk.page == writer.page_of("实施特色创新课程构建工程") > 1


@pytest.mark.slow
def test_png_plan_answers(scanned):
    result = scanned[0].ask("青山县哪个股室牵头开展师生共读活动?")
    assert not result.answer.refused and "教研室" in result.answer.answer, result.answer.answer
    assert result.answer.citations[0].document.doc_id == "qingshan-plan"
    assert result.answer.citations[0].document.doc_number == PLAN_NUMBER


def test_pages_ocr_was_unsure_of_are_a_document_warning():
    from ingest.pipeline import document_warnings
    from policyqa.models import Document

    doc = Document("scan", "青山县方案", "正文", read_method="ocr",
                   read_info={"pages": 3, "ocr_pages": [1, 2, 3], "confidence": [0.99, 0.72, 0.95]})
    warnings = document_warnings(doc, {"title": "青山县方案"})
    assert "OCR was unsure of pages 2 (mean confidence under 0.9): check their text against the scan" in warnings
    doc.read_info["confidence"] = [0.99, 0.98, 0.95]
    assert not any("OCR" in w for w in document_warnings(doc, {"title": "青山县方案"}))
