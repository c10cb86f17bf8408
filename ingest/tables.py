"""Responsibility tables flattened to one cell per line (具体任务 / 牵头股室 / 协助股室).

A scraped web table loses its grid: each cell becomes a line, a row starts with its number, then the
task, then the lead office, then one or more lines of assisting offices. We read that back into records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER_LEAD = re.compile(r"^(牵头|责任)(股室|单位|部门|科室)$")
HEADER_ASSIST = re.compile(r"^(协助|配合|参与)(股室|单位|部门|科室)$")
ROW_NUMBER = re.compile(r"^\d{1,3}$")
MAX_CELL = 40  # a longer line is prose, so the table has ended
HEADING = re.compile(r"^([一二三四五六七八九十]+、|第.{1,4}[章条]|\()")


@dataclass
class TableRow:
    number: str
    task: str
    lead: list[str]
    assisting: list[str]
    start: int  # offsets of the row's lines in the text
    end: int
    lead_label: str = "牵头"
    assist_label: str = "协助"


def split_offices(cell: str) -> list[str]:
    """'人事股  计财股' -> [人事股, 计财股]; '工  会  办公室' -> [工会, 办公室] (letter-spaced names rejoin)."""
    parts = [p for p in re.split(r"[\s、,,;;/]+", cell) if p]
    out: list[str] = []
    pending = ""
    for part in parts:
        if len(part) == 1:
            pending += part
            continue
        if pending:
            out.append(pending)
            pending = ""
        out.append(part)
    if pending:
        out.append(pending)
    return out


def _lines_with_offsets(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    out, pos = [], start
    for line in text[start:end].split("\n"):
        out.append((pos, pos + len(line), line.strip()))
        pos += len(line) + 1
    return out


def find_tables(text: str, start: int = 0, end: int | None = None) -> list[list[TableRow]]:
    """Every flattened responsibility table between start and end, as rows with offsets."""
    lines = _lines_with_offsets(text, start, len(text) if end is None else end)
    tables: list[list[TableRow]] = []
    i = 0
    while i < len(lines):
        if not (HEADER_LEAD.match(lines[i][2]) and i + 1 < len(lines) and HEADER_ASSIST.match(lines[i + 1][2])):
            i += 1
            continue
        labels = (lines[i][2], lines[i + 1][2])
        i += 2
        rows: list[TableRow] = []
        while i < len(lines) and ROW_NUMBER.match(lines[i][2]) and int(lines[i][2]) == len(rows) + 1:
            cells = []
            j = i + 1
            while (j < len(lines) and lines[j][2] and not ROW_NUMBER.match(lines[j][2]) and len(lines[j][2]) <= MAX_CELL
                   and not HEADING.match(lines[j][2])):
                cells.append(lines[j][2])
                j += 1
            if len(cells) < 2:
                break
            rows.append(TableRow(lines[i][2], cells[0], split_offices(cells[1]),
                                 [o for c in cells[2:] for o in split_offices(c)], lines[i][0], lines[j - 1][1],
                                 *labels))
            i = j
        if rows:
            tables.append(rows)
    return tables
