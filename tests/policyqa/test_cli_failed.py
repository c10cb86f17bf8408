"""`policyqa documents --failed`: the files ingest could not read (quarantined), with why; hashing embedder,
so it is quick."""

from __future__ import annotations

import json
import shutil

from helpers import CORPUS, RENHUAI


def test_documents_failed_lists_quarantined_files(tmp_path, run_cli):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(CORPUS / f"{RENHUAI}.txt", src)
    broken = src / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    env = {"POLICYQA_EMBEDDER": "hashing", "POLICYQA_DATA_DIR": str(tmp_path / "data")}

    none = run_cli("documents", "--failed", **env)  # no index yet: still answers
    assert none.returncode == 0 and none.stdout == "" and "no file is quarantined" in none.stderr, none.stderr

    first = run_cli("ingest", src, **env)
    assert first.returncode == 2 and "ingested 1 documents" in first.stdout
    assert f"skipped: {broken}: not a readable .docx" in first.stderr

    listed = run_cli("documents", "--failed", **env)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    path, since, message = line.split("\t")
    assert path == str(broken.resolve()) and since and message.startswith("not a readable .docx")

    as_json = run_cli("documents", "--failed", "--json", **env)
    [entry] = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert entry["name"] == "broken.docx" and entry["since"] == since and entry["message"] == message

    again = run_cli("ingest", src, **env)
    assert again.returncode == 2
    assert f"skipped: {broken}: quarantined since {since}: not a readable .docx" in again.stderr
