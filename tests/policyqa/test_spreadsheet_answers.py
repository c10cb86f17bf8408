"""A 任务分工表 workbook (.xlsx, .xls) ingested as a folder and asked through the library API: who leads a task
and when it must be done, answered from the sheet's rows and cited as sheet › row; the document API gives
the rows and the records (with their deadlines) the viewer shows."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from helpers import make_settings
from spreadsheets import workbook

from policyqa import service
from policyqa.service import QAService
from retrieval.embedders import make_embedder
from server.app import create_app

DOC_ID = "任务分工表"


def ingest_workbook(tmp_path, suffix: str, embedder, setting: str = "hashing") -> QAService:
    folder = tmp_path / "docs"
    workbook(folder, suffix)
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=folder, embedder=setting)
    outcome = service.ingest(settings, [folder], embedder)
    assert outcome.report.ok, outcome.report.errors
    return QAService(settings, embedder)


def check_answers(svc: QAService) -> None:
    lead = svc.ask("实施教育信息化升级工程由哪个单位牵头?").answer
    assert not lead.refused
    assert "远教站牵头" in lead.answer and "[1]" in lead.answer
    assert lead.citations[0].chunk.clause_path == "任务分工 › 6 实施教育信息化升级工程"

    when = svc.ask("实施教育评价改革工程什么时候完成?").answer
    assert not when.refused
    assert "2018年12月底前" in when.answer and "[1]" in when.answer
    cited = when.citations[0].chunk
    assert cited.clause_path == "任务分工 › 8 实施教育评价改革工程"
    assert [(r.lead, r.deadline) for r in cited.records] == [(["督导办公室"], "2018年12月底前")]


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_who_leads_and_when_from_a_workbook(tmp_path, suffix):
    check_answers(ingest_workbook(tmp_path, suffix, make_embedder("hashing")))


def test_the_document_api_gives_rows_and_records_with_deadlines(tmp_path):
    svc = ingest_workbook(tmp_path, ".xlsx", make_embedder("hashing"))
    with TestClient(create_app(svc)) as client:
        doc = client.get(f"/api/documents/{DOC_ID}").json()
    assert "6 | 实施教育信息化升级工程 | 远教站 | 基教股、人事股、教研室 | 2019年8月31日" in doc["text"]
    assert {"clause_id": f"{DOC_ID}#任务分工", "path": "任务分工"}.items() <= doc["clauses"][1].items()
    record = next(r for r in doc["records"] if r["clause_id"] == f"{DOC_ID}#任务分工.6")
    assert (record["lead"], record["deadline"]) == (["远教站"], "2019年8月31日")


@pytest.mark.slow
def test_who_leads_and_when_with_the_real_model(tmp_path, real_index):
    check_answers(ingest_workbook(tmp_path, ".xlsx", real_index.embedder, real_index.settings.embedder))
