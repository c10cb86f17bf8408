"""The conversation log: personal data masked, retention, every answer logged with an id that feedback links to,
GET /api/log filters, CSV and XLSX export, key protection."""

from __future__ import annotations

import csv
import io
import time

import pytest
from fastapi.testclient import TestClient
from helpers import make_settings
from openpyxl import load_workbook
from uploading import local_client

from policyqa import service
from policyqa.service import QAService
from server.app import create_app
from server.convlog import ConversationLog, LogQuery, mask_personal

QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
# A parent's question with a mobile number, an ID number and a landline in it.
PERSONAL_QUESTION = ("我电话13812345678,孩子身份证号52038119990101123X,座机0851-22345678,"
                     "想问哪个股室牵头实施特色创新课程构建工程?")


@pytest.mark.parametrize("text,expected", [
    ("电话13812345678", "电话[手机号]"),
    ("电话 +86 138-1234-5678 谢谢", "电话 [手机号] 谢谢"),
    ("手机１３９１２３４５６７８", "手机[手机号]"),  # full-width digits
    ("身份证52038119990101123X", "身份证[身份证号]"),
    ("身份证号:110105200001011234。", "身份证号:[身份证号]。"),
    ("座机0851-22345678转", "座机[电话]转"),
    ("打(010)62345678问", "打[电话]问"),
    ("邮箱 zhang.san@example.edu.cn 联系", "邮箱 [邮箱] 联系"),
    # numbers that are not personal stay
    ("仁教字〔2017〕17号文件2025年底建成7个", "仁教字〔2017〕17号文件2025年底建成7个"),
    ("补助12000000元,编号20240101", "补助12000000元,编号20240101"),
])
def test_mask_personal(text, expected):
    assert mask_personal(text) == expected


def test_retention_deletes_old_rows(tmp_path):
    log = ConversationLog(tmp_path / "log.db", retention_days=30)
    now = time.time()
    old = log.record("ask", "旧问题", {"answer": "a", "citations": []}, now=now - 31 * 86400)
    new = log.record("ask", "新问题", {"answer": "b", "citations": []}, now=now)
    assert old and new
    entries, total = log.query(LogQuery())
    assert total == 1 and entries[0]["question"] == "新问题"  # the write deleted the expired row
    # and at startup, with a shorter retention
    assert ConversationLog(tmp_path / "log.db", retention_days=1).query(LogQuery())[1] == 1
    log.record("ask", "再旧", {"answer": "c", "citations": []}, now=now - 2 * 86400)
    assert ConversationLog(tmp_path / "log.db", retention_days=1).query(LogQuery())[1] == 1


def test_retention_zero_keeps_no_log(tmp_path):
    log = ConversationLog(tmp_path / "log.db", retention_days=0)
    assert log.record("ask", "q", {"answer": "a"}) is None
    assert not (tmp_path / "log.db").exists()


@pytest.fixture(scope="module")
def hashing_app(tmp_path_factory, corpus_dir):
    """A live app over the corpus indexed with the hashing embedder (about a second to build)."""
    settings = make_settings(data_dir=tmp_path_factory.mktemp("convlog") / "data", corpus_dir=corpus_dir,
                             embedder="hashing")
    embedder = service.get_embedder(settings)
    assert service.ingest(settings, [corpus_dir], embedder).report.ok
    return create_app(QAService(settings, embedder))


@pytest.fixture(scope="module")
def local(hashing_app):
    with local_client(hashing_app) as c:
        yield c


def test_every_answer_is_logged_masked_and_feedback_links(local):
    r = local.post("/api/ask", json={"question": PERSONAL_QUESTION})
    assert r.status_code == 200
    body = r.json()
    assert body["approved"] is False and body["log_id"]
    entries = local.get("/api/log", params={"q": "特色创新课程"}).json()["entries"]
    row = next(e for e in entries if e["id"] == body["log_id"])
    assert "13812345678" not in row["question"] and "52038119990101123X" not in row["question"]
    assert "22345678" not in row["question"]
    assert row["question"].startswith("我电话[手机号],孩子身份证号[身份证号],座机[电话],")
    assert row["answer"] == body["answer"] and row["refused"] == body["refused"]
    assert [c["chunk_id"] for c in row["citations"]] == [c["chunk_id"] for c in body["citations"]]
    assert row["latency_ms"] == body["latency_ms"] and row["channel"] == "ask" and row["rating"] is None

    r = local.post("/api/feedback", json={"question": PERSONAL_QUESTION, "answer": body["answer"], "rating": "down",
                                          "reason": "不完整", "comment": "请回电13912345678", "log_id": body["log_id"]})
    assert r.status_code == 201 and r.json()["linked"] is True
    row = next(e for e in local.get("/api/log", params={"rated": "down"}).json()["entries"]
               if e["id"] == body["log_id"])
    assert (row["rating"], row["reason"], row["comment"]) == ("down", "不完整", "请回电[手机号]")
    assert row["feedback_at"]
    # feedback for an answer no longer kept is still accepted, and says it was not linked
    r = local.post("/api/feedback", json={"question": "q", "answer": "a", "rating": "up", "log_id": "gone"})
    assert r.status_code == 201 and r.json()["linked"] is False


def test_stream_and_chat_answers_are_logged(local):
    with local.stream("POST", "/api/ask", json={"question": QUESTION, "stream": True}) as r:
        events = r.read().decode()
    done = events.rsplit("event: done\ndata: ", 1)[1]
    assert '"log_id": "' in done and '"approved": false' in done
    chat = local.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}).json()
    assert chat["log_id"] and chat["approved"] is False
    with local.stream("POST", "/v1/chat/completions",
                      json={"stream": True, "messages": [{"role": "user", "content": QUESTION}]}) as r:
        assert '"log_id": "' in r.read().decode()
    channels = {e["channel"] for e in local.get("/api/log", params={"q": QUESTION[:8]}).json()["entries"]}
    assert {"ask-stream", "chat", "chat-stream"} <= channels


def test_log_filters(local):
    local.post("/api/ask", json={"question": "2024年高考分数线是多少?"})
    page = local.get("/api/log", params={"refused": "false", "limit": 1}).json()
    assert len(page["entries"]) == 1 and page["total"] >= 1 and page["retention_days"] == 180
    assert all(not e["refused"] for e in local.get("/api/log", params={"refused": "false"}).json()["entries"])
    assert local.get("/api/log", params={"since": "2999-01-01"}).json()["total"] == 0
    assert local.get("/api/log", params={"since": "2000-01-01", "q": "不会出现的词"}).json()["total"] == 0
    r = local.get("/api/log", params={"since": "yesterday"})
    assert r.status_code == 422 and "2025-03-01" in r.json()["detail"]


def test_export_csv_and_xlsx(local):
    local.post("/api/ask", json={"question": PERSONAL_QUESTION})
    local.post("/api/ask", json={"question": "=HYPERLINK(\"http://x\")" + QUESTION})
    r = local.get("/api/log/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["id", "时间(UTC)", "渠道", "问题", "回答"]
    questions = [row[3] for row in rows[1:]]
    assert any(q.startswith("我电话[手机号]") for q in questions)
    assert "13812345678" not in r.content.decode("utf-8-sig")
    assert any(q.startswith("'=HYPERLINK") for q in questions)  # not a formula when opened
    x = local.get("/api/log/export", params={"format": "xlsx"})
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(x.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][3] == "问题" and len(cells) == len(rows)
    assert any(str(row[3]).startswith("我电话[手机号]") for row in cells[1:])
    assert all(sheet.cell(row=i, column=4).data_type == "s" for i in range(2, len(cells) + 1))  # text, no formulas
    assert local.get("/api/log/export", params={"format": "pdf"}).status_code == 422


def test_log_needs_the_key(hashing_app):
    remote = TestClient(hashing_app, client=("203.0.113.9", 4000))  # not this machine, no key set
    assert remote.get("/api/log").status_code == 403
    assert remote.get("/api/log/export").status_code == 403
