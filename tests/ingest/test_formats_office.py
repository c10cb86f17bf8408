"""Old Word and WPS files (ingest/formats/office.py): converted by LibreOffice headless, then read as .docx.

The samples are made here from corpus/renhuai-brand-schools-2017.txt (benches/office_samples.py): a .docx
with the task table native, saved by LibreOffice as Word 97. LibreOffice cannot write Kingsoft's .wps; a
.wps is the Word 97 format plus a WPS stream (and WPS may save a .docx under that name), so a Word 97 file
and a .docx named .wps stand in for one. Real .wps files of WPS Office 10.1 and 12.1
(public samples, not in the repository) are converted by benches/formats_office.py --wps (results/formats-office.json)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import CORPUS, RENHUAI, REPO, make_settings
from hostile_files import zip_bomb

from benches.office_samples import policy_blocks, write_doc, write_docx, write_dps
from ingest import readers
from ingest.chunking import chunk_document
from ingest.formats import office
from ingest.pipeline import load_document
from policyqa import service
from policyqa.service import QAService

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
needs_soffice = pytest.mark.skipif(office.find_soffice() is None,
                                   reason="LibreOffice is not installed (`make test` installs it)")


def clause_ids(doc) -> list[str]:
    return [c.clause_id.split("#")[1] for c in doc.clauses]


@pytest.fixture(scope="module")
def reference():
    """The policy as the corpus has it: the clause structure and the task table the samples must keep."""
    return load_document(CORPUS / f"{RENHUAI}.txt")


@pytest.fixture(scope="module")
def doc_file(tmp_path_factory) -> Path:
    if office.find_soffice() is None:
        pytest.skip("LibreOffice is not installed (`make test` installs it)")
    return write_doc(tmp_path_factory.mktemp("doc") / f"{RENHUAI}.doc", policy_blocks())


def check_policy(doc, reference) -> None:
    assert doc.read_method == "converted" and doc.read_info["converter"].startswith("LibreOffice ")
    assert clause_ids(doc) == clause_ids(reference)
    assert "3 | 实施特色创新课程构建工程 | 教研室 | 基教股" in doc.text  # the native table, row by row
    assert [(r.task, r.lead, r.assisting) for r in doc.records] == [
        (r.task, r.lead, r.assisting) for r in reference.records]
    (clause,) = [c for c in doc.clauses if c.clause_id.endswith("#四.(三)")]
    assert doc.text[clause.start:].startswith("(三)实施特色创新课程构建工程。推进国家课程校本化实施")
    for chunk in chunk_document(doc):
        assert chunk.text == doc.text[chunk.start:chunk.end]


@needs_soffice
def test_doc_is_converted_with_its_clauses_and_table(doc_file, reference):
    assert doc_file.read_bytes()[:8] == office.CFB_MAGIC  # really the Word 97 binary format
    check_policy(load_document(doc_file), reference)  # through the sandbox, under its memory limit


@needs_soffice
def test_wps_files_are_read_by_content(doc_file, tmp_path, reference):
    as_wps = tmp_path / f"{RENHUAI}.wps"
    shutil.copyfile(doc_file, as_wps)  # Kingsoft's .wps: the Word 97 binary format
    check_policy(load_document(as_wps), reference)
    docx_wps = write_docx(tmp_path / "saved-by-wps.wps", policy_blocks())  # WPS saves .docx under .wps too
    assert "3 | 实施特色创新课程构建工程 | 教研室 | 基教股" in load_document(docx_wps).text


@needs_soffice
def test_a_doc_answers_with_a_citation(doc_file, tmp_path, hashing_embedder):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copyfile(doc_file, folder / doc_file.name)
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=folder, embedder="hashing")
    outcome = service.ingest(settings, [folder], hashing_embedder)
    assert outcome.report.ok, outcome.report.errors
    result = QAService(settings, hashing_embedder).ask(QUESTION)
    assert not result.answer.refused and "教研室" in result.answer.answer
    cited = result.answer.citations[0]
    assert cited.document.doc_id == RENHUAI and cited.document.read_method == "converted"
    assert "教研室" in cited.chunk.text


@needs_soffice
def test_password_protected_doc_gets_one_line(doc_file, tmp_path):
    data = bytearray(doc_file.read_bytes())
    fib = next(i for i in range(512, len(data), 512) if data[i:i + 2] == b"\xec\xa5")
    data[fib + 11] |= 0x01  # fEncrypted: what Word sets when a password protects the file
    locked = tmp_path / "locked.doc"
    locked.write_bytes(bytes(data))
    with pytest.raises(Exception) as err:
        load_document(locked)
    message = str(err.value)
    assert "locked.doc: the file is password-protected" in message and "\n" not in message


@pytest.mark.parametrize("name, data, message", [
    ("empty.doc", b"", "the file is empty"),
    ("junk.doc", b"this is not a word file \x00\x01\x02", "not a .doc file"),
    ("cut.wps", office.CFB_MAGIC + bytes(4000), "damaged, or not a .wps file (it has no WordDocument stream)"),
])
def test_broken_files_get_one_line(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(readers.ReadError) as err:
        readers.read_file(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value) and "\n" not in str(err.value)


def test_a_zip_bomb_named_wps_is_refused_before_libreoffice_opens_it(tmp_path):
    bomb = zip_bomb(tmp_path, 300)  # a .docx that unpacks to 300 MB, 1000-fold
    named = tmp_path / "bomb.wps"
    bomb.rename(named)
    with pytest.raises(readers.ReadError, match=r"bomb.wps: .*zip bomb"):
        readers.read_file(named)


@needs_soffice
def test_a_truncated_doc_gets_one_line(doc_file, tmp_path):
    cut = tmp_path / "cut.doc"
    cut.write_bytes(doc_file.read_bytes()[:20_000])
    with pytest.raises(readers.ReadError, match=r"cut.doc: (damaged|LibreOffice cannot open it)"):
        readers.read_file(cut)


def test_without_libreoffice_the_error_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(office, "find_soffice", lambda: None)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "antiword" else real_which(name))
    path = tmp_path / "plan.doc"
    path.write_bytes(office.CFB_MAGIC + "WordDocument".encode("utf-16-le"))
    with pytest.raises(readers.ReadError) as err:
        office.read(path)
    assert "needs LibreOffice, which is not installed" in str(err.value)
    assert "apt-get install libreoffice-writer-nogui" in str(err.value)


@pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword is not installed (optional)")
@needs_soffice
def test_antiword_reads_a_doc_when_libreoffice_is_missing(doc_file, monkeypatch):
    monkeypatch.setattr(office, "find_soffice", lambda: None)
    got = office.read(doc_file)
    assert got.method == "converted" and got.info == {"converter": "antiword"}
    assert "(三)实施特色创新课程构建工程。" in got.text and "教研室" in got.text


def test_presentations_need_impress(monkeypatch, tmp_path):
    soffice = office.find_soffice()
    if soffice is None or office.module_installed(soffice, "libreoffice-impress-nogui"):
        pytest.skip("needs LibreOffice without Impress")
    path = tmp_path / "slides.dps"
    path.write_bytes(office.CFB_MAGIC + "PowerPoint Document".encode("utf-16-le"))
    with pytest.raises(readers.ReadError, match=r"needs LibreOffice's Impress module.*libreoffice-impress-nogui"):
        readers.read_file(path)


def test_a_presentation_is_read_slide_by_slide(tmp_path):
    soffice = office.find_soffice()
    if soffice is None or not office.module_installed(soffice, "libreoffice-impress-nogui"):
        pytest.skip("needs LibreOffice Impress (Debian: libreoffice-impress-nogui)")
    text = (CORPUS / f"{RENHUAI}.txt").read_text(encoding="utf-8")
    # first sentences only: text overflowing a slide makes pdfplumber refuse the PDF LibreOffice exports
    lines = [line.strip().split("。")[0] for line in text.splitlines() if line.strip()]
    four = lines.index("四、工作内容")
    path = write_dps(tmp_path / "briefing.dps", [lines[four - 30:four - 27], lines[four:four + 4]])
    assert path.read_bytes()[:8] == office.CFB_MAGIC
    got = readers.read_file(path)
    assert got.method == "converted" and got.info["converter"].startswith("LibreOffice ")
    first, second = got.text.split(readers.PAGE_BREAK)  # one page per slide
    assert second.startswith("四、工作内容") and "实施特色创新课程构建工程" in second.replace(" ", "")
    assert "四、工作内容" not in first


def test_too_little_memory_for_libreoffice_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(office, "address_space_mb", lambda: 300)
    monkeypatch.setattr(office, "module_installed", lambda soffice, package: True)
    path = tmp_path / "plan.doc"
    path.write_bytes(office.CFB_MAGIC + "WordDocument".encode("utf-16-le"))
    with pytest.raises(readers.ReadError, match=r"needs about 512 MB.*POLICYQA_PARSE_MEMORY_MB"):
        office.convert(path, "docx", tmp_path, soffice="/bin/true")


def test_conversion_time_limit_is_below_the_sandbox_limit(monkeypatch):
    monkeypatch.delenv("POLICYQA_PARSE_TIMEOUT_S", raising=False)
    assert office.convert_timeout() == 90  # the sandbox's default is 120 s
    monkeypatch.setenv("POLICYQA_PARSE_TIMEOUT_S", "20")
    assert office.convert_timeout() == 15


FAKE_SOFFICE = """\
#!/bin/sh
# stands in for LibreOffice's launcher: starts the real worker (here a sleep) as its own child, and hangs
sleep 300 &
echo $! > "{pids}"
wait
"""


def fake_soffice(tmp_path: Path) -> tuple[Path, Path]:
    script, pids = tmp_path / "soffice", tmp_path / "worker.pid"
    script.write_text(FAKE_SOFFICE.format(pids=pids))
    script.chmod(0o755)
    return script, pids


def gone(pid: int, within_s: float = 10) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for its parent is gone too
                if f.read().split(") ")[1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def test_a_stuck_conversion_is_killed_whole_at_its_time_limit(tmp_path):
    script, pids = fake_soffice(tmp_path)
    path = tmp_path / "plan.doc"
    path.write_bytes(office.CFB_MAGIC + "WordDocument".encode("utf-16-le"))
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()
    with pytest.raises(readers.ReadError, match=r"plan.doc: LibreOffice took longer than 1 s"):
        office.convert(path, "docx", work, soffice=str(script), timeout_s=1)
    assert time.monotonic() - started < 15
    assert gone(int(pids.read_text()))  # the launcher's child too, not only the launcher


def test_the_converter_dies_with_the_sandbox_child(tmp_path):
    """The sandbox kills its child (SIGKILL) at its own time limit: the converter must not run on."""
    script, pids = fake_soffice(tmp_path)
    path = tmp_path / "plan.doc"
    path.write_bytes(office.CFB_MAGIC + "WordDocument".encode("utf-16-le"))
    work = tmp_path / "work"
    work.mkdir()
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from ingest import readers
        from ingest.formats import office
        office.convert(Path({str(path)!r}), "docx", Path({str(work)!r}), soffice={str(script)!r}, timeout_s=300)
        """)], env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 30
    while not (pids.exists() and pids.read_text().strip()):
        assert time.monotonic() < deadline and child.poll() is None, "the fake converter did not start"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert gone(int(pids.read_text()))
