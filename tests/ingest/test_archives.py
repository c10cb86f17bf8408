"""Zip archives of attachments: each member a document, the archive kept as provenance; hostile archives
refused with one line naming the archive and the member (hashing embedder: quick)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from helpers import CORPUS, RENHUAI, make_settings
from zips import (
    ARCHIVE_SOURCE,
    LABOUR_MEMBER,
    LABOUR_ZIP_ID,
    PUCHENG_MEMBER,
    PUCHENG_ZIP_ID,
    QUESTIONS,
    RENHUAI_MEMBER,
    RENHUAI_ZIP_ID,
    ZIP_NAME,
    attachments,
    attachments_zip,
    bomb_zip,
    with_symlink,
    write_zip,
)

from ingest.archives import member_name, members, without_member
from ingest.chunking import ChunkSettings
from ingest.pipeline import member_doc_id, prepare_documents
from ingest.quarantine import Quarantine
from policyqa import service
from policyqa.cli import format_table
from policyqa.service import QAService

PLAN = "某县课程建设方案\n一、工作目标\n到2025年,建成10所特色学校。\n二、经费保障\n每年安排专项经费50万元。\n".encode()


def ingest(settings, paths: list[Path]):
    return service.ingest(settings, paths, service.get_embedder(settings))


@pytest.fixture
def settings(tmp_path):
    return make_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "in", embedder="hashing")


# -- names -----------------------------------------------------------------------------------------


def test_member_names_are_decoded_as_their_maker_meant(tmp_path):
    path = write_zip(tmp_path / "gbk.zip", [("附件1：方案.txt", b"x"), ("目录/附件2.txt", b"y")])
    with zipfile.ZipFile(path) as z:
        raw = z.infolist()
        assert raw[0].filename != "附件1：方案.txt" and not raw[0].flag_bits & 0x800  # zipfile reads cp437
    assert [m.name for m in members(path)] == ["附件1：方案.txt", "目录/附件2.txt"]

    flagged = write_zip(tmp_path / "utf8.zip", [("附件1：方案.txt", b"x")], gbk=False)  # zipfile sets the flag
    assert [m.name for m in members(flagged)] == ["附件1：方案.txt"]

    # UTF-8 without the flag (Linux and macOS tools), and bytes neither UTF-8 nor GB18030 (kept as cp437)
    info = zipfile.ZipInfo("附件.txt".encode().decode("cp437"))
    assert member_name(info) == "附件.txt"
    odd = zipfile.ZipInfo(b"\xff\xfe.txt".decode("cp437"))
    assert member_name(odd) == b"\xff\xfe.txt".decode("cp437")
    assert member_name(zipfile.ZipInfo("a\\b\\c.txt")) == "a/b/c.txt"


def test_member_ids_name_the_archive():
    assert member_doc_id(Path("x/通知附件.zip"), "附件1.pdf") == "通知附件-附件1"
    assert member_doc_id(Path("其他.zip"), "附件1.pdf") == "其他-附件1"
    assert member_doc_id(Path("a.zip"), "dir.v2/附件 1.docx") == "a-dir-v2-附件-1"


# -- three documents through the library API --------------------------------------------------------


def test_three_attachments_become_three_cited_documents(tmp_path, settings):
    archive = attachments_zip(tmp_path / "in")
    outcome = ingest(settings, [archive])
    report = outcome.report
    assert report.ok, report.errors
    assert sorted(d.doc_id for d in report.documents) == sorted(QUESTIONS)
    assert report.formats == {(".zip", "unpacked"): 1, (".docx", "read"): 1, (".txt", "read"): 2}

    qa = QAService(settings, service.get_embedder(settings))
    docs = qa.index.documents
    labour, renhuai, pucheng = docs[LABOUR_ZIP_ID], docs[RENHUAI_ZIP_ID], docs[PUCHENG_ZIP_ID]
    for doc, member in ((labour, LABOUR_MEMBER), (renhuai, RENHUAI_MEMBER), (pucheng, PUCHENG_MEMBER)):
        assert doc.source_path == str(archive)
        assert doc.extra["archive"] == ZIP_NAME and doc.extra["member"] == member
        assert doc.source == (renhuai.source if doc is renhuai else ARCHIVE_SOURCE)  # the member's sidecar wins

    # text and clause structure as from the files themselves
    assert "全县建成县级劳动教育实践基地7个" in labour.text and labour.doc_number == "青教发〔2024〕9号"
    assert any(c.path.startswith("二、主要任务 › (二)建设劳动实践基地") for c in labour.clauses), \
        [c.path for c in labour.clauses]
    alone = prepare_documents([CORPUS / f"{RENHUAI}.txt"], ChunkSettings()).documents[0]
    assert renhuai.text == alone.text and renhuai.title == "仁怀市品牌学校创建工作实施方案"
    assert [c.path for c in renhuai.clauses] == [c.path for c in alone.clauses]
    assert len(renhuai.records) == 10 and renhuai.records[2].lead == ["教研室"]
    assert renhuai.clauses[1].clause_id.startswith(f"{RENHUAI_ZIP_ID}#")
    assert len(pucheng.clauses) > 20

    for doc_id, (question, fact) in QUESTIONS.items():
        answer = qa.ask(question).to_dict()
        assert not answer["refused"] and fact in answer["answer"], answer
        assert answer["citations"][0]["doc_id"] == doc_id and fact in answer["citations"][0]["text"]

    # the same archive again: nothing to do; read again with the index's documents: all reused, none twice
    assert ingest(settings, [archive]).skipped
    known = {d.doc_id: (d, [c for c in qa.index.chunks if c.doc_id == d.doc_id]) for d in docs.values()}
    again = prepare_documents([archive], ChunkSettings(), known=known)
    assert sorted(again.unchanged) == sorted(QUESTIONS) and not again.parsed and again.ok


def test_a_new_version_of_the_archive_rereads_what_changed_and_drops_what_it_lost(tmp_path, settings):
    folder = tmp_path / "in"
    archive = attachments_zip(folder)
    assert ingest(settings, [archive]).report.ok
    entries = [(n, d.replace("7个".encode(), "9个".encode())) for n, d in attachments()
               if n != PUCHENG_MEMBER and not n.endswith(".docx")]
    entries.append((LABOUR_MEMBER.replace(".docx", ".txt"),
                    (Path(__file__).parents[1] / "data" / "qingxi-labour-plan.txt").read_bytes()
                    .replace("7个".encode(), "9个".encode())))
    write_zip(archive, entries)
    outcome = ingest(settings, [archive])
    assert outcome.report.ok, outcome.report.errors
    assert outcome.report.unchanged == [RENHUAI_ZIP_ID]  # its bytes and sidecars did not change: not read again
    assert sorted(outcome.report.parsed) == [LABOUR_ZIP_ID]
    assert sorted(outcome.deleted) == [PUCHENG_ZIP_ID]
    docs = QAService(settings, service.get_embedder(settings)).index.documents
    assert sorted(docs) == sorted([LABOUR_ZIP_ID, RENHUAI_ZIP_ID]) and "实践基地9个" in docs[LABOUR_ZIP_ID].text
    assert ingest(settings, [archive]).skipped

    # a member taken out of the archive in place: the index is no longer current, and the member goes
    assert without_member(archive, RENHUAI_MEMBER) == 1  # the labour plan (litter is not copied)
    assert [m.name for m in members(archive)] == [LABOUR_MEMBER.replace(".docx", ".txt")]
    outcome = ingest(settings, [archive])
    assert not outcome.skipped and outcome.deleted == [RENHUAI_ZIP_ID] and outcome.report.unchanged == [LABOUR_ZIP_ID]

    # the archive gone: pruning drops its documents like a file's
    archive.unlink()
    (folder / "note.txt").write_bytes(PLAN)
    outcome = service.ingest(settings, [folder], service.get_embedder(settings), prune=True)
    assert outcome.deleted == [LABOUR_ZIP_ID]


def test_an_archive_in_a_folder_beside_files(tmp_path, settings):
    folder = tmp_path / "in"
    attachments_zip(folder)
    (folder / "plan.txt").write_bytes(PLAN)
    outcome = ingest(settings, [folder])
    assert outcome.report.ok, outcome.report.errors
    assert sorted(d.doc_id for d in outcome.report.documents) == sorted([*QUESTIONS, "plan"])
    assert ingest(settings, [folder]).skipped


def test_per_format_table(tmp_path, settings):
    folder = tmp_path / "in"
    folder.mkdir()
    write_zip(folder / "附件.zip", [("a.txt", PLAN), ("inner.zip", b"PK\x05\x06" + b"\x00" * 18),
                                  ("setup.exe", b"MZ"), ("blank.txt", b"\n\n")])
    (folder / "plan.md").write_bytes(PLAN.replace("某县".encode(), "另一县".encode()))
    report = ingest(settings, [folder]).report
    table = format_table(report)
    assert table[0].split() == ["format", "read", "OCR'd", "converted", "unchanged", "refused"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:] if line.startswith(".")}
    assert rows == {".md": ["1", "0", "0", "0", "0"], ".txt": ["1", "0", "0", "0", "1"],
                    ".zip": ["1", "0", "0", "0", "1"], ".exe": ["0", "0", "0", "0", "1"]}
    reasons = [line for line in table if line.startswith("refused: ")]
    assert len(reasons) == 3
    assert any(f"{folder / '附件.zip'}/inner.zip: an archive inside an archive is not unpacked (one level only)"
               in line for line in reasons)
    assert any("附件.zip/setup.exe: unsupported file type .exe" in line for line in reasons)
    assert any("附件.zip/blank.txt: the file is empty" in line for line in reasons)


# -- hostile archives --------------------------------------------------------------------------------


@pytest.mark.parametrize("name,what", [
    ("../x.txt", "points outside the archive"),
    ("a/../../x.txt", "points outside the archive"),
    ("/tmp/x.txt", "points outside the archive"),
    ("C:\\Windows\\x.txt", "points outside the archive"),
    ("..\\x.txt", "points outside the archive"),
    ("a\x01b.txt", "control characters"),
])
def test_names_outside_the_archive_refuse_it_whole(tmp_path, settings, name, what):
    (tmp_path / "in").mkdir()
    archive = write_zip(tmp_path / "in" / "bad.zip", [("good.txt", PLAN), (name, PLAN)], gbk=False)
    report = ingest(settings, [archive]).report
    [error] = report.errors
    assert error.startswith(f"{archive}: member ") and what in error and "the archive is refused" in error
    assert "\n" not in error and not report.documents
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "in" / "x.txt").exists()
    assert Quarantine(settings.data_dir).is_quarantined(archive)


def test_a_symlink_refuses_the_archive(tmp_path, settings):
    (tmp_path / "in").mkdir()
    archive = with_symlink(tmp_path / "in" / "links.zip", "passwd.txt", "/etc/passwd", [("good.txt", PLAN)])
    [error] = ingest(settings, [archive]).report.errors
    assert error == (f"{archive}: member 'passwd.txt' is a symbolic link; the archive is refused, nothing of it "
                     "was unpacked (a link may point anywhere): zip the files themselves.")


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path, settings):
    (tmp_path / "in").mkdir()
    archive = bomb_zip(tmp_path / "in" / "bomb.zip", "附件2.txt", 300, [("附件1.txt", PLAN)])
    assert archive.stat().st_size < 1_000_000
    report = ingest(settings.model_copy(update={"max_unpacked_mb": 50}), [archive]).report
    [error] = report.errors
    assert error.startswith(f"{archive}: its entry 附件2.txt unpacks more than 100-fold") and "zip bomb" in error
    assert not report.documents
    assert Quarantine(settings.data_dir).is_quarantined(archive)
    again = ingest(settings, [archive]).report  # not read again while it stays the same
    assert again.errors[0].startswith(f"{archive}: quarantined since")


def test_other_compressions_and_passwords_are_refused(tmp_path, settings):
    (tmp_path / "in").mkdir()
    archive = write_zip(tmp_path / "in" / "bz.zip", [("a.txt", PLAN)], gbk=False, method=zipfile.ZIP_BZIP2)
    [error] = ingest(settings, [archive]).report.errors
    assert error.startswith(f"{archive}: member 'a.txt' is compressed with method 12") and "deflate" in error

    broken = tmp_path / "in" / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    [error] = ingest(settings, [broken]).report.errors
    assert error.startswith(f"{broken}: not a readable zip archive")


def test_one_unreadable_member_leaves_the_others_in(tmp_path, settings):
    (tmp_path / "in").mkdir()
    archive = write_zip(tmp_path / "in" / "mixed.zip", [("附件1.txt", PLAN), ("附件2.docx", b"PK\x03\x04 broken")])
    report = ingest(settings, [archive]).report
    assert [d.doc_id for d in report.documents] == ["mixed-附件1"]
    [error] = report.errors
    assert error.startswith(f"{archive}/附件2.docx: ") and "/tmp" not in error.replace(str(archive), "")
    held = Quarantine(settings.data_dir).is_quarantined(archive)
    assert held and held["message"].startswith("member 附件2.docx: ")
    again = ingest(settings, [archive])  # the good member stays indexed; the bad one is not read again
    assert again.report.unchanged == ["mixed-附件1"] and again.report.errors[0].startswith(f"{archive}: quarantined")


def test_sidecar_of_the_archive_is_shared_but_for_title_and_number(tmp_path, settings):
    folder = tmp_path / "in"
    folder.mkdir()
    archive = write_zip(folder / "两份.zip", [("a.txt", PLAN), ("b.txt", PLAN.replace("某县".encode(), "他县".encode())),
                                            ("b.meta.json", json.dumps({"issuer": "他县教育局"}).encode())])
    (folder / "两份.meta.json").write_text(json.dumps({"title": "两份文件", "doc_number": "某教〔2024〕1号",
                                                      "issuer": "某县教育局", "date": "2024-01-02"}), encoding="utf-8")
    docs = {d.doc_id: d for d in ingest(settings, [archive]).report.documents}
    assert docs["两份-a"].issuer == "某县教育局" and docs["两份-b"].issuer == "他县教育局"
    assert {d.date for d in docs.values()} == {"2024-01-02"}
    assert "两份文件" not in {d.title for d in docs.values()} and not any(d.doc_number for d in docs.values())


def test_cli_ingest_prints_the_table_and_doc_names_the_archive(tmp_path, run_cli):
    folder = tmp_path / "in"
    archive = attachments_zip(folder)
    write_zip(folder / "另一个.zip", [("附件.exe", b"MZ")])
    env = {"POLICYQA_EMBEDDER": "hashing", "POLICYQA_DATA_DIR": str(tmp_path / "data")}
    done = run_cli("ingest", folder, **env)
    assert done.returncode == 2 and "ingested 3 documents" in done.stdout, done.stderr
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.startswith(".")}
    assert rows == {".docx": ["1", "0", "0", "0", "0"], ".txt": ["2", "0", "0", "0", "0"],
                    ".zip": ["2", "0", "0", "0", "0"], ".exe": ["0", "0", "0", "0", "1"]}
    assert f"refused: {folder / '另一个.zip'}/附件.exe: unsupported file type .exe" in done.stdout
    shown = run_cli("doc", LABOUR_ZIP_ID, **env)
    assert shown.returncode == 0, shown.stderr
    assert f"source: {archive}\nfrom the archive {ZIP_NAME}, member {LABOUR_MEMBER}" in shown.stdout
