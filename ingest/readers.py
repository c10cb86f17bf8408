"""Readers turn a file into plain text, one reader per format behind `read_text(path)`.

Native tables (HTML, Word, PDF) are rendered one row per line with cells joined by " | ", so a person can
read them and `ingest.tables` can turn responsibility tables back into records. PDF pages are separated by
a form feed ("\\f") so page numbers survive into the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from charset_normalizer import from_bytes

CELL_SEP = " | "
PAGE_BREAK = "\f"


class ReadError(ValueError):
    """A file that cannot be read as a policy document; the message says what to do."""


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as UTF-8, else GB18030 (a superset of GBK/GB2312), else the detected charset."""
    if not data.strip():
        raise ReadError(f"{name}: the file is empty; add its text or remove it from the corpus.")
    if b"\x00" in data[:4096]:
        raise ReadError(f"{name}: looks binary (NUL bytes), not text; save it as UTF-8 text, .docx or .pdf.")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise ReadError(f"{name}: cannot detect the text encoding; re-save it as UTF-8.")
    return str(best)


def read_plain(path: Path) -> str:
    return decode_text(path.read_bytes(), str(path))


def table_lines(rows: list[list[str | None]]) -> list[str]:
    out = []
    for row in rows:
        cells = [re.sub(r"\s+", " ", (c or "")).strip() for c in row]
        if any(cells):
            out.append(CELL_SEP.join(cells))
    return out


# Elements that are page chrome, not document content.
HTML_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "button")
HTML_DROP_ATTR = re.compile(r"(nav|menu|breadcrumb|footer|header|share|sidebar|crumb|toolbar|copyright|"
                            r"related|comment|banner)", re.I)
HTML_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "section", "article", "td")


def read_html(path: Path) -> str:
    """The main content of a saved web page: chrome dropped, the densest text block kept, tables as rows."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path.read_bytes(), str(path)), "html.parser")
    for tag in soup(HTML_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        marker = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
        if marker.strip() and HTML_DROP_ATTR.search(marker) and tag.name not in ("body", "html"):
            tag.decompose()
    body = soup.body or soup
    # The main content is the block holding the most Chinese text whose children do not split it evenly.
    best, best_len = body, 0
    for tag in body.find_all(["article", "main", "div", "section", "td"]):
        cjk = len(re.findall(r"[\u4e00-\u9fff]", tag.get_text()))
        if cjk > best_len * 1.0 and cjk >= 0.6 * len(re.findall(r"[\u4e00-\u9fff]", body.get_text())):
            best, best_len = tag, cjk
    for table in best.find_all("table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
        table.replace_with("\n" + "\n".join(table_lines(rows)) + "\n")
    for tag in best.find_all(HTML_BLOCKS):
        tag.insert_before("\n")
    return best.get_text()


def read_docx(path: Path) -> str:
    """Paragraphs and native tables of a Word file, in document order."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises several kinds for a broken file
        raise ReadError(f"{path}: not a readable .docx ({exc.__class__.__name__}); re-save it from Word.") from exc
    lines = []
    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag.endswith("}tbl"):
            table = Table(child, document)
            lines += table_lines([[cell.text for cell in row.cells] for row in table.rows])
    return "\n".join(lines)


def read_pdf(path: Path) -> str:
    """Text and tables of each page; pages separated by form feeds so page numbers can be recovered."""
    import pdfplumber

    pages = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            for page in pdf.pages:
                tables = page.find_tables()
                outside = page
                for t in tables:
                    outside = outside.outside_bbox(t.bbox)
                text = outside.extract_text() or ""
                for t in tables:
                    text += "\n" + "\n".join(table_lines(t.extract()))
                pages.append(text)
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a broken file
        raise ReadError(f"{path}: not a readable PDF ({exc.__class__.__name__}); check the file.") from exc
    if not any(p.strip() for p in pages):
        raise ReadError(f"{path}: the PDF has no text layer (a scan?); run OCR on it first.")
    return PAGE_BREAK.join(pages)


READERS: dict[str, Callable[[Path], str]] = {
    ".txt": read_plain, ".md": read_plain, ".html": read_html, ".htm": read_html,
    ".docx": read_docx, ".pdf": read_pdf,
}
SUPPORTED_SUFFIXES = tuple(READERS)


def read_text(path: Path) -> str:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ReadError(
            f"{path}: unsupported file type {path.suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    text = reader(path)
    return text.replace("\r\n", "\n").replace("\r", "\n")
