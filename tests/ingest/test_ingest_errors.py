"""Bad input at ingest: one clear line per bad file, the good files still go in, exit codes say what happened."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import CORPUS, JINGYUAN, PUCHENG, RENHUAI

from ingest.chunking import ChunkSettings
from ingest.pipeline import load_document, prepare_documents
from retrieval.embedders import HashingEmbedder
from retrieval.index import load_index


def make_messy_dir(root: Path) -> dict[str, Path]:
    """A folder with good files and one of each kind of bad file; returns name -> path."""
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    shutil.copy(CORPUS / f"{PUCHENG}.txt", root)
    shutil.copy(CORPUS / f"{PUCHENG}.meta.json", root)
    files["good"] = root / f"{PUCHENG}.txt"
    files["empty"] = root / "empty.txt"
    files["empty"].write_bytes(b"")
    files["binary"] = root / "scan.txt"
    files["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    files["xyz"] = root / "notes.xyz"
    files["xyz"].write_text("一、指导思想\n这是一个不支持的文件类型。\n", encoding="utf-8")
    files["gb18030"] = root / "renhuai-gb18030.txt"
    files["gb18030"].write_bytes((CORPUS / f"{RENHUAI}.txt").read_text(encoding="utf-8").encode("gb18030"))
    files["original"] = root / "jingyuan-copy.txt"
    shutil.copy(CORPUS / f"{JINGYUAN}.txt", files["original"])
    files["duplicate"] = root / "jingyuan.txt"  # sorted after jingyuan-copy.txt, so this one is the duplicate
    shutil.copy(CORPUS / f"{JINGYUAN}.txt", files["duplicate"])
    return files


BAD = ("empty", "binary", "xyz", "duplicate")
GOOD = ("good", "gb18030", "original")


def lines_naming(lines: list[str], path: Path) -> list[str]:
    return [line for line in lines if re.search(re.escape(str(path)) + r"(?![\w.-])", line)]


# ---- library: prepare_documents --------------------------------------------------------------

@pytest.fixture
def messy(tmp_path):
    return make_messy_dir(tmp_path / "in")


def test_prepare_documents_reports_each_bad_file_once(messy):
    report = prepare_documents([messy["good"].parent], ChunkSettings())
    assert not report.ok
    assert len(report.errors) == len(BAD)
    for error in report.errors:
        assert "\n" not in error  # one line each
    for kind in BAD:
        named = lines_naming(report.errors, messy[kind])
        assert len(named) == 1, (kind, report.errors)
    for kind in GOOD:
        assert not [e for e in report.errors if e.startswith(str(messy[kind]))], kind


def test_error_messages_say_what_is_wrong(messy):
    errors = prepare_documents([messy["good"].parent], ChunkSettings()).errors

    def error_for(kind):
        return lines_naming(errors, messy[kind])[0]

    assert "empty" in error_for("empty")
    assert "binary" in error_for("binary")
    assert ".xyz" in error_for("xyz") and "unsupported" in error_for("xyz")
    duplicate = error_for("duplicate")
    assert "same text" in duplicate and str(messy["original"]) in duplicate


def test_good_files_still_ingested(messy):
    report = prepare_documents([messy["good"].parent], ChunkSettings())
    assert sorted(d.doc_id for d in report.documents) == ["jingyuan-copy", PUCHENG, "renhuai-gb18030"]
    assert {c.doc_id for c in report.chunks} == {d.doc_id for d in report.documents}


def test_gb18030_copy_reads_like_the_utf8_original(messy):
    gb = load_document(messy["gb18030"])
    original = load_document(CORPUS / f"{RENHUAI}.txt")
    assert gb.text == original.text
    assert [c.clause_id.split("#")[1] for c in gb.clauses] == [c.clause_id.split("#")[1] for c in original.clauses]
    assert len(gb.records) == 10
    assert gb.doc_number == "仁教字〔2017〕17号"  # inferred: the copy has no sidecar


def test_noise_only_file_is_rejected(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text("当前位置:首页 > 新闻\n第1页 / 共2页\n扫一扫在手机上查看当前页面\n附件下载\n", encoding="utf-8")
    report = prepare_documents([path], ChunkSettings())
    assert report.documents == [] and len(report.errors) == 1
    assert str(path) in report.errors[0] and "noise" in report.errors[0]


def test_oversized_file_is_rejected(tmp_path):
    path = tmp_path / "big.txt"
    shutil.copy(CORPUS / f"{RENHUAI}.txt", path)
    report = prepare_documents([path], ChunkSettings(), max_file_mb=0.01)
    assert report.documents == [] and len(report.errors) == 1
    assert str(path) in report.errors[0] and "MB" in report.errors[0]


def test_missing_path_is_reported(tmp_path):
    missing = tmp_path / "nope.txt"
    report = prepare_documents([missing], ChunkSettings())
    assert len(report.errors) == 1 and str(missing) in report.errors[0]


def test_same_document_id_is_reported(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(CORPUS / f"{RENHUAI}.txt", tmp_path / "a" / "plan.txt")
    shutil.copy(CORPUS / f"{PUCHENG}.txt", tmp_path / "b" / "plan.txt")
    report = prepare_documents([tmp_path], ChunkSettings())
    assert len(report.documents) == 1 and len(report.errors) == 1
    assert "plan" in report.errors[0] and str(tmp_path / "b" / "plan.txt") in report.errors[0]


# ---- CLI: policyqa ingest DIR (hashing embedder, so it is quick) ----------------------------

def cli_lines(text: str) -> list[str]:
    # progress bars redraw with \r; split on both
    return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]


def cli_errors(text: str) -> list[str]:
    """stderr lines that report a problem (advisory "warning:" lines about good files are not errors)."""
    return [line for line in cli_lines(text) if not line.lower().startswith("warning")]


def test_cli_ingest_messy_dir(tmp_path, run_cli):
    files = make_messy_dir(tmp_path / "in")
    data = tmp_path / "data"
    result = run_cli("ingest", tmp_path / "in", POLICYQA_EMBEDDER="hashing", POLICYQA_DATA_DIR=str(data))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = cli_errors(result.stderr)
    for kind in BAD:
        assert len(lines_naming(errors, files[kind])) == 1, (kind, result.stderr)
    for kind in GOOD:
        assert not [e for e in lines_naming(errors, files[kind]) if str(files["duplicate"]) not in e], kind
    assert "ingested 3 documents" in result.stdout
    # the good files are in the index
    emb = HashingEmbedder()
    index = load_index(data / "index", emb.name, emb.dim)
    assert sorted(index.documents) == ["jingyuan-copy", PUCHENG, "renhuai-gb18030"]


def test_cli_ingest_clean_dir_exits_zero_then_skips(tmp_path, run_cli):
    src = tmp_path / "in"
    src.mkdir()
    for name in (f"{RENHUAI}.txt", f"{RENHUAI}.meta.json", f"{JINGYUAN}.txt"):
        shutil.copy(CORPUS / name, src)
    env = {"POLICYQA_EMBEDDER": "hashing", "POLICYQA_DATA_DIR": str(tmp_path / "data")}
    first = run_cli("ingest", src, **env)
    assert first.returncode == 0, first.stderr
    assert "ingested 2 documents" in first.stdout
    assert not [line for line in cli_errors(first.stderr) if "skipped" in line]
    again = run_cli("ingest", src, **env)
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    rebuilt = run_cli("ingest", src, "--rebuild", **env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "embedded 0 new chunks" in rebuilt.stdout  # every vector comes from the embedding cache


def test_cli_ingest_only_bad_files_fails_and_keeps_the_index(tmp_path, run_cli):
    env = {"POLICYQA_EMBEDDER": "hashing", "POLICYQA_DATA_DIR": str(tmp_path / "data")}
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(CORPUS / f"{JINGYUAN}.txt", good)
    assert run_cli("ingest", good, **env).returncode == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "notes.xyz").write_text("x", encoding="utf-8")
    result = run_cli("ingest", bad, **env)
    assert result.returncode != 0  # nothing could be ingested at all
    errors = cli_errors(result.stderr)
    assert len(lines_naming(errors, bad / "empty.txt")) == 1
    assert len(lines_naming(errors, bad / "notes.xyz")) == 1
    emb = HashingEmbedder()
    assert list(load_index(tmp_path / "data" / "index", emb.name, emb.dim).documents) == [JINGYUAN]


def test_cli_ingest_missing_path(tmp_path, run_cli):
    result = run_cli("ingest", tmp_path / "nowhere", POLICYQA_EMBEDDER="hashing",
                     POLICYQA_DATA_DIR=str(tmp_path / "data"))
    assert result.returncode != 0
    assert str(tmp_path / "nowhere") in result.stderr
