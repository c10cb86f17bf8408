"""Binary spreadsheets: Excel 97-2003 .xls and WPS .et, read like the others (spreadsheets.py). A WPS .et is
BIFF8 in an OLE2 file, like an .xls (LibreOffice opens it with its Excel 97 filter), and calamine recognises
the format by content, whatever the suffix. They are not zips, so they live in a module of their own:
`ZIP_BASED` is per module, and the zip check would refuse every one of them.

What calamine cannot parse goes through LibreOffice (ingest/formats/office.py) to .xlsx first: web systems
export an HTML table or an XML Spreadsheet 2003 under .xls, and WPS may write records calamine does not know.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from ingest.formats.spreadsheets import UnreadableWorkbook, read_workbook
from ingest.readers import Read, ReadError

SUFFIXES = (".xls", ".et")
ZIP_BASED = False


def read(path: Path) -> Read:
    # calamine goes by content, so a zip under this name would be read unchecked for a zip bomb.
    if zipfile.is_zipfile(path):
        raise ReadError(f"{path}: the file is a zip archive (an .xlsx or .ods saved under {path.suffix}), not a "
                        f"binary {path.suffix} workbook; rename it to .xlsx (or .ods) and ingest it again.")
    try:
        return read_workbook(path)
    except UnreadableWorkbook as failed:
        return read_converted(path, failed)


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def convertible(data: bytes) -> bool:
    """Worth LibreOffice's time: a binary workbook (an OLE2 file with a Workbook or BIFF5 Book stream), a web
    page, XML Spreadsheet 2003 or MHT saved under the name. Anything else it would import as text."""
    if data.startswith(OLE2_MAGIC):
        return "Book".encode("utf-16-le") in data  # "Workbook" ends in it too
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<", b"MIME-Version"))


def read_converted(path: Path, failed: UnreadableWorkbook) -> Read:
    """The workbook converted to .xlsx by LibreOffice and read; calamine's error when that fails too (its
    advice, re-save as .xlsx, is the one that helps)."""
    from ingest.formats import office

    soffice = office.find_soffice()
    if soffice is None or not convertible(path.read_bytes()):
        raise failed
    with tempfile.TemporaryDirectory(prefix="policyqa-convert-") as tmp:
        try:
            converted = office.convert(path, "xlsx", Path(tmp), soffice)
        except ReadError as exc:
            raise failed from exc
        try:
            got = read_workbook(converted, path.stem)
        except ReadError as exc:
            raise ReadError(str(exc).replace(str(converted), f"{path} (converted by LibreOffice)")) from exc
    return Read(got.text, "converted", {**got.info, "converter": office.soffice_version(soffice)})
