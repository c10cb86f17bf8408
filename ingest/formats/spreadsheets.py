"""Spreadsheets (.xlsx, .ods; .xls and WPS .et in spreadsheets_xls.py) read with python-calamine.

A workbook becomes its file name (a workbook has no title line of its own), then for each visible sheet a
line "工作表:<name>" that `ingest.structure` makes a section, then the sheet's rows. Rows above the first row
of several cells (title rows) are plain lines; from that row (the header) on, every row is a table row,
cells joined by " | " as the other readers render native tables, so `ingest.tables` reads a 牵头/配合/完成时限
table into records, one citable clause per row. A one-cell row inside the table (a group heading such as
"一、深化改革") keeps a trailing " |" so the table does not end there.

Merged cells: calamine gives a merged range's value in its top-left cell only. The value is carried down
the range's first column, so each row of tasks sharing one merged 牵头单位 cell names it; it is not copied
across (a title merged over the columns stays one cell). ODS files report no merged ranges: there an empty
lead-unit cell under a filled one, in a task table, is taken as merged and carried down (other merged cells
of an ODS stay on their first row only).

Hidden sheets are left out (usually the lists behind a drop-down; `Read.info` names them), and so are chart
sheets and empty ones.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ingest.readers import CELL_SEP, Read, ReadError
from ingest.structure import SHEET_PREFIX

SUFFIXES = (".xlsx", ".ods")
ZIP_BASED = True

# The stream holding an encrypted Office 2007+ file inside its OLE2 wrapper (named in UTF-16).
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


class UnreadableWorkbook(ReadError):
    """calamine cannot parse the file (not: it is locked, or holds no text): another reader may."""


Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


def cell_text(value: Cell) -> str:
    """A cell as a person sees it: 1.0 -> "1" (calamine reads every number as a float), a date cell as
    2024年6月30日 (the documents' own way of writing dates)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, dt.datetime):
        clock = "" if value.time() == dt.time() else f" {value:%H:%M}"
        return f"{value.year}年{value.month}月{value.day}日{clock}"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    return re.sub(r"\s+", " ", str(value)).strip()


def carry_merged(grid: list[list[str]], merged: list[tuple[tuple[int, int], tuple[int, int]]],
                 origin: tuple[int, int]) -> None:
    """Fill each merged range's first column with its top-left value (ranges are absolute, the grid starts
    at the sheet's first used cell, `origin`)."""
    for (r1, c1), (r2, _) in merged:
        r1, r2, c = r1 - origin[0], r2 - origin[0], c1 - origin[1]
        if not (0 <= r1 < len(grid) and 0 <= c < len(grid[r1])):
            continue
        for r in range(r1 + 1, min(r2, len(grid) - 1) + 1):
            if c < len(grid[r]) and not grid[r][c]:
                grid[r][c] = grid[r1][c]


def carry_leads(grid: list[list[str]]) -> None:
    """Without merged ranges (ODS): below a header naming a lead unit, an empty lead cell in a row that has
    other cells takes the lead of the row above it."""
    from ingest.tables import PIPE_LEAD

    header = next((r for r, row in enumerate(grid) if any(PIPE_LEAD.match(c.replace(" ", "")) for c in row)), None)
    if header is None:
        return
    col = next(k for k, c in enumerate(grid[header]) if PIPE_LEAD.match(c.replace(" ", "")))
    for r in range(header + 2, len(grid)):
        row = grid[r]
        if not row[col] and grid[r - 1][col] and sum(bool(c) for c in row) >= 2:
            row[col] = grid[r - 1][col]


def sheet_lines(grid: list[list[str]]) -> list[str]:
    """The sheet's rows as lines: title rows plain, the rest " | " rows (see the module's docstring)."""
    lines: list[str] = []
    in_table = False
    for row in grid:
        while row and not row[-1]:
            row = row[:-1]  # trailing empty cells: a row as wide as its text
        if not row:
            continue
        in_table = in_table or len(row) > 1
        lines.append(CELL_SEP.join(row) + (CELL_SEP.rstrip() if in_table and len(row) == 1 else ""))
    return lines


def read_workbook(path: Path, name: str = "") -> Read:
    """The workbook's text (see the module's docstring); `name` stands first instead of the file's stem."""
    from python_calamine import (
        CalamineError,
        CalamineWorkbook,
        PasswordError,
        SheetTypeEnum,
        SheetVisibleEnum,
    )

    locked = ReadError(f"{path}: the workbook is password-protected; save a copy without the password and "
                       "ingest that.")
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise locked from exc
    except MemoryError:
        raise  # not a broken file: the sandbox reports the memory limit
    except Exception as exc:  # noqa: BLE001 - calamine raises several kinds for a broken file
        if ENCRYPTED_PACKAGE in path.read_bytes():  # an encrypted .xlsx under an .xls name: no BIFF stream
            raise locked from exc
        raise UnreadableWorkbook(f"{path}: not a readable {path.suffix} workbook ({exc.__class__.__name__}: "
                                 f"{exc}); re-save it from Excel or WPS as .xlsx.") from exc
    lines, read, hidden = [name or path.stem], [], []
    try:
        for meta in workbook.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # a chart or macro sheet holds no cells
            if meta.visible != SheetVisibleEnum.Visible:
                hidden.append(meta.name)  # often the lists behind a drop-down, not what a reader sees
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            grid = [[cell_text(v) for v in row] for row in sheet.to_python()]
            merged = sheet.merged_cell_ranges
            if merged is None:
                carry_leads(grid)
            elif sheet.start is not None:
                carry_merged(grid, merged, sheet.start)
            rows = sheet_lines(grid)
            if rows:
                lines += [f"{SHEET_PREFIX}{meta.name}", *rows]
                read.append(meta.name)
    except PasswordError as exc:
        raise locked from exc
    except (CalamineError, ValueError) as exc:  # a sheet that cannot be decoded
        raise UnreadableWorkbook(f"{path}: a sheet cannot be read ({exc.__class__.__name__}: {exc}); "
                                 "re-save the workbook from Excel or WPS as .xlsx.") from exc
    if not read:
        also = f" (hidden sheets left out: {', '.join(hidden)})" if hidden else ""
        raise ReadError(f"{path}: the workbook has no visible cells with text{also}; check that it is the "
                        "right file.")
    return Read("\n".join(lines), info={"sheets": read, "hidden_sheets": hidden})


def read(path: Path) -> Read:
    return read_workbook(path)
