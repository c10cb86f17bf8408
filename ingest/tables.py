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
    deadline: str = ""  # a native table's 完成时限 cell
    deadline_label: str = "完成时限"


def split_offices(cell: str) -> list[str]:
    """'人事股  计财股' -> [人事股, 计财股]; '工  会  办公室' -> [工会, 办公室] (letter-spaced names rejoin);
    '各县(市、区)教育局' stays one (a separator inside parentheses does not split)."""
    parts, depth, current = [], 0, ""
    for ch in cell:
        depth = max(depth + (ch == "(") - (ch == ")"), 0)  # text is NFKC: half-width parentheses
        if depth == 0 and (ch.isspace() or ch in "、,,;;/"):
            parts.append(current)
            current = ""
        else:
            current += ch
    parts = [p for p in [*parts, current] if p]
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


TASK_HEADER = re.compile(r"(任务|工作|内容|事项|项目|措施|举措)")
CELL_SEP = "|"
# The header cells of a native table (a Word, web or spreadsheet table) have more spellings than a flattened
# table's own lines: 责任单位(部门), 主要责任单位, 牵头处室, 配合部门, 完成时限, 时间节点 ...
PIPE_LEAD = re.compile(r"^(主要)?(牵头|责任|主责|主办)(责任)?(股室|单位|部门|科室|处室|处|科|股|主体)?([(/].*)?$")
PIPE_ASSIST = re.compile(r"^(协助|配合|参与|协办|协同)(股室|单位|部门|科室|处室|处|科|股)?([(/].*)?$")
PIPE_DEADLINE = re.compile(r"^(完成|截止|办结)?(时限|时间|期限|时间节点)(要求|安排)?([(/].*)?$")


def header_cells(line: str) -> list[str]:
    """A row's cells as header words: "牵头 单位" (a line break in the cell) is 牵头单位."""
    return [re.sub(r"\s+", "", c) for c in line.split(CELL_SEP)]


def is_pipe_header(line: str) -> bool:
    """A native table's header row: it names a lead unit column."""
    return CELL_SEP in line and any(PIPE_LEAD.match(c) for c in header_cells(line))


def find_pipe_tables(lines: list[tuple[int, int, str]]) -> list[list[TableRow]]:
    """Native tables rendered by the readers as "cell | cell | cell" rows, with a 牵头... header row.
    A header row right under another one starts the table again: two-row headers ("责任单位" above
    "牵头单位 | 配合单位") put the column names in the second, and the first fills its empty cells. Rows that are no task (a group heading such
    as "二、深化改革", a note under the table) belong to the task row below them, the last ones to the last
    row: a row's span covers them, so their text is chunked and cited with it rather than lost."""
    tables = []
    i = 0
    while i < len(lines):
        if not is_pipe_header(lines[i][2]):
            i += 1
            continue
        cells = header_cells(lines[i][2])
        if i and is_pipe_header(lines[i - 1][2]):  # the second row of a two-row header: names from both
            above = header_cells(lines[i - 1][2])
            cells = [c or (above[k] if k < len(above) else "") for k, c in enumerate(cells)]
            cells += above[len(cells):]
        leads = [k for k, c in enumerate(cells) if PIPE_LEAD.match(c)]
        lead_col = next((k for k in leads if "牵头" in cells[k]), leads[0])  # 牵头 over a broader 责任
        assist_col = next((k for k, c in enumerate(cells) if PIPE_ASSIST.match(c)), None)
        deadline_col = next((k for k, c in enumerate(cells) if PIPE_DEADLINE.match(c)), None)
        task_col = next((k for k, c in enumerate(cells) if TASK_HEADER.search(c)
                         and k not in (lead_col, assist_col, deadline_col)), max(lead_col - 1, 0))
        labels = (cells[lead_col], cells[assist_col] if assist_col is not None else "协助")
        rows: list[TableRow] = []
        i += 1
        first = i  # the first line of the next row's span
        while i < len(lines) and CELL_SEP in lines[i][2] and not is_pipe_header(lines[i][2]):
            row = [c.strip() for c in lines[i][2].split(CELL_SEP)]
            if len(row) > max(lead_col, task_col) and row[task_col] and row[lead_col]:
                number = row[0] if re.fullmatch(r"\d{1,3}", row[0]) else str(len(rows) + 1)
                assisting = split_offices(row[assist_col]) if assist_col is not None and assist_col < len(row) else []
                deadline = row[deadline_col] if deadline_col is not None and deadline_col < len(row) else ""
                rows.append(TableRow(number, row[task_col], split_offices(row[lead_col]), assisting,
                                     lines[first][0], lines[i][1], *labels, deadline,
                                     cells[deadline_col] if deadline_col is not None else "完成时限"))
                first = i + 1
            i += 1
        if rows and first < i:
            rows[-1].end = lines[i - 1][1]
        if len({r.number for r in rows}) < len(rows):  # 序号 restarting per group: not an id, count the rows
            for k, r in enumerate(rows, start=1):
                r.number = str(k)
        if rows:
            tables.append(rows)
    return tables


def find_tables(text: str, start: int = 0, end: int | None = None) -> list[list[TableRow]]:
    """Every responsibility table between start and end (flattened or native), as rows with offsets."""
    lines = _lines_with_offsets(text, start, len(text) if end is None else end)
    tables: list[list[TableRow]] = find_pipe_tables(lines)
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


LEAD_LINE = re.compile(r"^(牵头(?:部门|单位|股室|科室))[::]\s*(.+)$")
ASSIST_LINE = re.compile(r"^((?:配合|协助|参与)(?:部门|单位|股室|科室))[::]\s*(.+)$")
DUTY_TAG = re.compile(r"[〔\[【]\s*(责任(?:单位|部门))[::]\s*([^〕\]】]+)[〕\]】]")


@dataclass
class DutyMention:
    """Responsibility stated in the text of a clause rather than in a table."""

    lead: list[str]
    assisting: list[str]
    lead_label: str
    assist_label: str
    start: int
    end: int


def split_units(cell: str) -> list[str]:
    """'市教育局、市编办,各县(市、区)政府' -> units, keeping the parenthesised 市、区 together."""
    units, depth, current = [], 0, ""
    for ch in cell:
        depth += ch in "((" and 1 or 0
        depth -= ch in "))" and 1 or 0
        if ch in "、,,;;" and depth == 0:
            units.append(current.strip())
            current = ""
        else:
            current += ch
    units.append(current.strip())
    return [u for u in units if u]


def find_duty_mentions(text: str, start: int, end: int) -> list[DutyMention]:
    """牵头部门:/配合部门: lines and 〔责任单位:...〕 tags inside one clause's own text."""
    lines = _lines_with_offsets(text, start, end)
    found: list[DutyMention] = []
    for k, (s, e, line) in enumerate(lines):
        lead = LEAD_LINE.match(line)
        if lead:
            assist = ASSIST_LINE.match(lines[k + 1][2]) if k + 1 < len(lines) else None
            found.append(DutyMention(split_units(lead.group(2)), split_units(assist.group(2)) if assist else [],
                                     lead.group(1), assist.group(1) if assist else "配合",
                                     s, lines[k + 1][1] if assist else e))
        for tag in DUTY_TAG.finditer(line):
            units = split_units(tag.group(2))
            found.append(DutyMention(units[:1], units[1:], tag.group(1), tag.group(1),
                                     s + tag.start(), s + tag.end()))
    return found
