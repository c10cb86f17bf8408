"""A file that cannot be read is quarantined: recorded with its reason, kept where it is, not read again
while it stays the same, and read again once it changes (or on a rebuild)."""

from __future__ import annotations

import shutil

import pytest
from helpers import CORPUS, RENHUAI

from ingest.chunking import ChunkSettings
from ingest.pipeline import prepare_documents
from ingest.quarantine import Quarantine
from ingest.sandbox import Sandbox

BROKEN = b"PK\x03\x04 not really a zip"


@pytest.fixture
def sandbox_calls(monkeypatch) -> list:
    """The files the sandbox is asked to read."""
    calls = []
    read = Sandbox.read
    monkeypatch.setattr(Sandbox, "read", lambda self, path: calls.append(path) or read(self, path))
    return calls


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(CORPUS / f"{RENHUAI}.txt", src)
    (src / "broken.docx").write_bytes(BROKEN)
    return src


def test_a_failed_file_is_not_read_again_until_it_changes(tmp_path, folder, sandbox_calls):
    quarantine = Quarantine(tmp_path / "data")
    broken = folder / "broken.docx"
    first = prepare_documents([folder], ChunkSettings(), quarantine=quarantine)
    assert [d.doc_id for d in first.documents] == [RENHUAI]
    assert len(first.errors) == 1 and "not a readable .docx" in first.errors[0]
    [entry] = quarantine.entries()
    assert entry["path"] == str(broken.resolve()) and entry["name"] == "broken.docx"
    assert entry["message"].startswith("not a readable .docx") and entry["since"]
    assert (tmp_path / "data" / "quarantine.json").exists() and broken.read_bytes() == BROKEN  # kept

    sandbox_calls.clear()
    second = prepare_documents([folder], ChunkSettings(), quarantine=quarantine)
    assert broken not in sandbox_calls  # not parsed again
    assert [d.doc_id for d in second.documents] == [RENHUAI]
    assert second.errors == [f"{broken}: quarantined since {entry['since']}: {entry['message'].rstrip('.')}; "
                             "fix or replace the file (or ingest with --rebuild to read it again)."]

    again = prepare_documents([folder], ChunkSettings(), quarantine=quarantine, retry_quarantined=True)
    assert broken in sandbox_calls and "not a readable .docx" in again.errors[0]

    import docx

    d = docx.Document()
    for line in ("某县课程建设方案", "一、工作目标", "到2025年,建成10所特色学校。"):
        d.add_paragraph(line)
    d.save(broken)  # fixed: read again, and out of quarantine
    sandbox_calls.clear()
    fixed = prepare_documents([broken], ChunkSettings(), quarantine=quarantine)
    assert sandbox_calls == [broken]
    assert fixed.ok and [d.doc_id for d in fixed.documents] == ["broken"]
    assert quarantine.entries() == []


def test_a_bad_sidecar_is_not_quarantined(tmp_path):
    """The file is fine: fixing its .meta.json must be enough to get it in."""
    shutil.copy(CORPUS / f"{RENHUAI}.txt", tmp_path)
    (tmp_path / f"{RENHUAI}.meta.json").write_text("{not json", encoding="utf-8")
    quarantine = Quarantine(tmp_path / "data")
    report = prepare_documents([tmp_path / f"{RENHUAI}.txt"], ChunkSettings(), quarantine=quarantine)
    assert len(report.errors) == 1 and quarantine.entries() == []


def test_quarantine_api(tmp_path):
    path = tmp_path / "x.pdf"
    path.write_bytes(b"%PDF-1.4 garbage")
    quarantine = Quarantine(tmp_path / "data")
    assert quarantine.entries() == [] and quarantine.is_quarantined(path) is None
    recorded = quarantine.record(path, f"{path}: not a readable PDF (PDFSyntaxError); check the file.")
    assert recorded["message"] == "not a readable PDF (PDFSyntaxError); check the file."
    assert quarantine.is_quarantined(path) == recorded
    assert Quarantine(tmp_path / "data").entries() == [recorded]  # on disk, for another process
    path.write_bytes(b"%PDF-1.4 other garbage")
    assert quarantine.is_quarantined(path) is None  # changed: to be read again
    assert quarantine.clear(path) and not quarantine.clear(path)
    assert quarantine.entries() == []


def test_a_damaged_record_reads_as_empty(tmp_path):
    (tmp_path / "quarantine.json").write_text("{half a rec", encoding="utf-8")
    quarantine = Quarantine(tmp_path)
    assert quarantine.entries() == []
    path = tmp_path / "x.docx"
    path.write_bytes(BROKEN)
    quarantine.record(path, "broken")
    assert [e["name"] for e in quarantine.entries()] == ["x.docx"]
