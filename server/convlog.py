"""The conversation log: every question answered over HTTP, with its answer, citations, latency, refusal and
the feedback given on it, in SQLite (<data_dir>/log.db, WAL) for the admin console and for export.

People write their phone and ID numbers into questions ("我的电话13812345678,孩子身份证…"): the log keeps
questions and feedback comments with those masked, so the file can be read and exported without holding them.
Rows older than POLICYQA_LOG_RETENTION_DAYS are deleted at startup and on each write; 0 keeps no log at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

# Full-width digits are folded first, so "１３８…" is masked like "138…".
FOLD_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ－（）＋", "0123456789Xx-()+")
# Most specific first: an ID number holds 11-digit runs that look like a phone number.
PERSONAL = [
    # 18-digit resident ID: region, birth date, sequence, check digit (X)
    (re.compile(r"(?<![\dA-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                r"(?![\dA-Za-z])"), "[身份证号]"),
    # mainland mobile, optionally +86 and split 3-4-4 by spaces or hyphens
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)"), "[手机号]"),
    # landline with its area code: 010-12345678, (0851)2234567, 0851 22345678, 085122345678
    (re.compile(r"(?<!\d)(?:\(0\d{2,3}\)\s?|0\d{2,3}[- ]?)[2-9]\d{6,7}(?:-\d{1,5})?(?!\d)"), "[电话]"),
    (re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[邮箱]"),
]


def mask_personal(text: str) -> str:
    """`text` with phone numbers, 18-digit ID numbers and e-mail addresses replaced by what they were."""
    text = text.translate(FOLD_DIGITS)
    for pattern, label in PERSONAL:
        text = pattern.sub(label, text)
    return text


COLUMNS = ("id", "at", "channel", "question", "answer", "citations", "refused", "approved", "latency_ms",
           "answerability", "rating", "reason", "comment", "feedback_at")


@dataclass
class LogQuery:
    since: float | None = None  # epoch seconds
    until: float | None = None
    refused: bool | None = None
    approved: bool | None = None
    text: str = ""  # in the question or the answer
    rated: str | None = None  # "up", "down", or "any" for rows with feedback
    limit: int = 100
    offset: int = 0


def parse_time(value: str, name: str) -> float:
    """An ISO date (2025-03-01) or date-time (2025-03-01T08:00:00Z; UTC when no zone) as epoch seconds."""
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an ISO date or date-time; write e.g. 2025-03-01 or "
                         "2025-03-01T08:00:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class ConversationLog:
    """One row per answer. Writes are serialised by a lock and committed before the call returns."""

    def __init__(self, path: Path, retention_days: int) -> None:
        self.path, self.retention_days = path, retention_days
        self._lock = threading.Lock()
        if self.enabled:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS log (id TEXT PRIMARY KEY, ts REAL, channel TEXT, "
                           "question TEXT, answer TEXT, citations TEXT, refused INTEGER, approved INTEGER, "
                           "latency_ms REAL, answerability REAL, rating TEXT, reason TEXT, comment TEXT, "
                           "feedback_ts REAL)")
                db.execute("CREATE INDEX IF NOT EXISTS log_ts ON log (ts)")
            self.purge()

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses at most the last rows, never the file
        return db

    def purge(self, now: float | None = None) -> int:
        """Delete the rows older than the retention; how many."""
        if not self.enabled:
            return 0
        cutoff = (now or time.time()) - self.retention_days * 86400
        with self._lock, self._connect() as db:
            return db.execute("DELETE FROM log WHERE ts < ?", (cutoff,)).rowcount

    def record(self, channel: str, question: str, body: dict, now: float | None = None) -> str | None:
        """Log one answer (the /api/ask body: answer, refused, citations, latency_ms, ...); its id, or None
        when the log is off."""
        if not self.enabled:
            return None
        log_id = uuid.uuid4().hex[:16]
        now = now or time.time()
        citations = [{k: c.get(k) for k in ("n", "chunk_id", "doc_id", "doc_title", "clause_path")}
                     for c in body.get("citations", [])]
        row = (log_id, now, channel, mask_personal(question), body.get("answer", ""),
               json.dumps(citations, ensure_ascii=False), int(bool(body.get("refused"))),
               int(bool(body.get("approved"))), body.get("latency_ms"), body.get("answerability"))
        with self._lock, self._connect() as db:
            db.execute("INSERT INTO log (id, ts, channel, question, answer, citations, refused, approved, "
                       "latency_ms, answerability) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            db.execute("DELETE FROM log WHERE ts < ?", (now - self.retention_days * 86400,))
        return log_id

    def add_feedback(self, log_id: str, rating: str, reason: str | None, comment: str) -> bool:
        """Attach feedback to a logged answer (the latest feedback wins); False when no such row is kept."""
        if not self.enabled:
            return False
        with self._lock, self._connect() as db:
            return db.execute("UPDATE log SET rating = ?, reason = ?, comment = ?, feedback_ts = ? WHERE id = ?",
                              (rating, reason, mask_personal(comment),
                               time.time(), log_id)).rowcount == 1

    def query(self, q: LogQuery) -> tuple[list[dict], int]:
        """Rows matching `q`, newest first, and how many match in all."""
        if not self.enabled:
            return [], 0
        where, args = ["1"], []
        for clause, value in (("ts >= ?", q.since), ("ts < ?", q.until), ("refused = ?", q.refused),
                              ("approved = ?", q.approved)):
            if value is not None:
                where.append(clause)
                args.append(int(value) if isinstance(value, bool) else value)
        if q.text:
            like = "%" + q.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(question LIKE ? ESCAPE '\\' OR answer LIKE ? ESCAPE '\\')")
            args += [like, like]
        if q.rated == "any":
            where.append("rating IS NOT NULL")
        elif q.rated:
            where.append("rating = ?")
            args.append(q.rated)
        sql = " AND ".join(where)
        with self._lock, self._connect() as db:
            total = db.execute(f"SELECT COUNT(*) FROM log WHERE {sql}", args).fetchone()[0]
            rows = db.execute("SELECT id, ts, channel, question, answer, citations, refused, approved, latency_ms, "
                              f"answerability, rating, reason, comment, feedback_ts FROM log WHERE {sql} "
                              "ORDER BY ts DESC, rowid DESC LIMIT ? OFFSET ?", (*args, q.limit, q.offset)).fetchall()
        return [self._entry(row) for row in rows], total

    @staticmethod
    def _entry(row: tuple) -> dict:
        (log_id, ts, channel, question, answer, citations, refused, approved, latency, answerability, rating,
         reason, comment, feedback_ts) = row
        return {"id": log_id, "at": iso(ts), "channel": channel, "question": question, "answer": answer,
                "citations": json.loads(citations or "[]"), "refused": bool(refused), "approved": bool(approved),
                "latency_ms": latency, "answerability": answerability, "rating": rating,
                "reason": reason, "comment": comment or "",
                "feedback_at": iso(feedback_ts) if feedback_ts else None}


# -- export ----------------------------------------------------------------------------------------

HEADER = ["id", "时间(UTC)", "渠道", "问题", "回答", "引用", "拒答", "已审核答案", "耗时(ms)", "可答概率",
          "评价", "原因", "意见", "评价时间(UTC)"]


def table(entries: list[dict]) -> list[list]:
    """The rows of an export, oldest first, citations one per line."""
    rows = []
    for e in reversed(entries):
        cited = "\n".join(f"[{c.get('n')}] {c.get('doc_title')} › {c.get('clause_path')}" for c in e["citations"])
        rows.append([e["id"], e["at"], e["channel"], e["question"], e["answer"], cited, "是" if e["refused"] else "否",
                     "是" if e["approved"] else "否", e["latency_ms"], e["answerability"], e["rating"] or "",
                     e["reason"] or "", e["comment"], e["feedback_at"] or ""])
    return rows


def spreadsheet_safe(value):
    """A cell a spreadsheet will not run as a formula: questions are anyone's text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(entries: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows([spreadsheet_safe(v) for v in row] for row in table(entries))
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def to_xlsx(entries: list[dict]) -> bytes:
    import xlsxwriter  # only an export needs it

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("问答记录")
    bold, wrap = book.add_format({"bold": True}), book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_row(0, 0, HEADER, bold)
    for r, row in enumerate(table(entries), start=1):
        for c, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(r, c, value, wrap)
            elif value is not None:
                sheet.write_number(r, c, value, wrap)
    for col, width in enumerate((18, 21, 10, 40, 60, 50, 6, 8, 10, 10, 6, 16, 30, 21)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
