"""Readers turn a file into plain text, one reader per format behind `read_text(path)`.

Native tables (HTML, Word, PDF) are rendered one row per line with cells joined by " | ", so a person can
read them and `ingest.tables` can turn responsibility tables back into records. PDF pages are separated by
a form feed ("\\f") so page numbers survive into the document.

Files are untrusted: `ingest.sandbox` runs these readers in a child process with memory and time limits,
and archive-based formats are checked entry by entry before a library unpacks them (`check_archive`).
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

CELL_SEP = " | "
PAGE_BREAK = "\f"


class ReadError(ValueError):
    """A file that cannot be read as a policy document; the message says what to do."""


@dataclass
class Read:
    """A file's text and how it was got: "read" (a text layer), "ocr" (recognised from images), or
    "converted" (by another program first, e.g. LibreOffice). `info` holds what a person may want to
    check later (OCR confidence per page, the converter used); it must be JSON-serialisable."""

    text: str
    method: str = "read"
    info: dict = field(default_factory=dict)


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
    """The main content of a saved web page: chrome dropped, the densest text block kept, tables as rows.
    html.parser knows HTML's named references only: entities a DTD declares stay text (no billion laughs)."""
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
    body_cjk = len(re.findall(r"[\u4e00-\u9fff]", body.get_text()))  # once: per block, a page of blocks took minutes
    for tag in body.find_all(["article", "main", "div", "section", "td"]):
        cjk = len(re.findall(r"[\u4e00-\u9fff]", tag.get_text()))
        if cjk > best_len * 1.0 and cjk >= 0.6 * body_cjk:
            best, best_len = tag, cjk
    for table in best.find_all("table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
        table.replace_with("\n" + "\n".join(table_lines(rows)) + "\n")
    for tag in best.find_all(HTML_BLOCKS):
        # the same text as insert_before("\n"), which looks the tag up among its siblings: minutes for a
        # page of 40,000 paragraphs
        tag.insert(0, "\n")
    return best.get_text()


def read_docx(path: Path) -> str:
    """Paragraphs and native tables of a Word file, in document order. python-docx parses XML with
    resolve_entities=False (docx.oxml.parser) and lxml's defaults (no network, no huge trees): libxml2 refuses
    an entity bomb as an XMLSyntaxError (tests/ingest/test_sandbox.py). A package Word and WPS open but
    python-docx refuses (dangling relationships, an odd main content type) is mended in memory, and content
    controls' paragraphs are read too (ingest/docx_repair.py)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    from ingest.docx_repair import body_blocks, open_document

    try:
        document = open_document(path)
    except MemoryError:
        raise  # not a broken file: the sandbox reports the memory limit
    except Exception as exc:  # noqa: BLE001 - python-docx raises several kinds for a broken file
        raise ReadError(f"{path}: not a readable .docx ({exc.__class__.__name__}); re-save it from Word.") from exc
    lines = []
    for child in body_blocks(document.element.body):
        if child.tag.endswith("}p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag.endswith("}tbl"):
            table = Table(child, document)
            lines += table_lines([[cell.text for cell in row.cells] for row in table.rows])
    return "\n".join(lines)


def read_pdf(path: Path) -> str | Read:
    """Text and tables of each page; pages separated by form feeds so page numbers can be recovered. Pages
    without a text layer (scans) are OCR'd (ingest/ocr.py); a PDF with a text layer is never OCR'd."""
    import pdfplumber

    from ingest import ocr

    pages, scanned = [], []
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
                if ocr.needs_ocr(page, text):
                    scanned.append(len(pages))
                pages.append(text)
    except MemoryError:
        raise  # not a broken file: the sandbox reports the memory limit
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a broken file
        if "Password" in repr(exc):  # pdfplumber wraps pdfminer's PDFPasswordIncorrect
            raise ReadError(f"{path}: the PDF is password-protected; save a copy without the password "
                            "(or ask its publisher for one) and ingest that.") from exc
        raise ReadError(f"{path}: not a readable PDF ({exc.__class__.__name__}); check the file.") from exc
    if not scanned:
        return PAGE_BREAK.join(pages)
    results = ocr.ocr_pages(path, ocr.render_pdf(path, scanned), len(scanned))
    for i, got in zip(scanned, results, strict=True):
        pages[i] = got.text
    if not any(p.strip() for p in pages):
        raise ReadError(f"{path}: the PDF has no text layer and OCR found no text on its {len(pages)} pages; "
                        "check that it is a scan of a document (150 dpi or more).")
    return Read(PAGE_BREAK.join(pages), "ocr", ocr.ocr_info(len(pages), scanned, results))


def format_modules() -> list:
    """The format modules of ingest/formats/ (see its docstring for what one defines)."""
    from ingest import formats

    return [importlib.import_module(f"{formats.__name__}.{m.name}") for m in pkgutil.iter_modules(formats.__path__)]


READERS: dict[str, Callable[[Path], str | Read]] = {
    ".txt": read_plain, ".md": read_plain, ".html": read_html, ".htm": read_html,
    ".docx": read_docx, ".pdf": read_pdf,
}
# Formats that are zip archives: checked before reading.
ARCHIVE_SUFFIXES: tuple[str, ...] = (".docx",)
for _module in format_modules():
    for _suffix in _module.SUFFIXES:
        if _suffix in READERS:
            raise ImportError(f"{_module.__name__}: {_suffix} is read already by {READERS[_suffix].__module__}")
        READERS[_suffix] = _module.read
    if getattr(_module, "ZIP_BASED", False):
        ARCHIVE_SUFFIXES += tuple(_module.SUFFIXES)
SUPPORTED_SUFFIXES = tuple(READERS)

# Limits of an archive besides its unpacked size. Word writes a few dozen entries; deflated XML and text
# rarely shrink more than ~20-fold, while a zip bomb's entries shrink 1000-fold.
MAX_ARCHIVE_ENTRIES = 10_000
MAX_ENTRY_RATIO = 100
RATIO_FROM_BYTES = 10_000_000  # small entries may shrink a lot (a blank image) without harm
READ_BYTES = 1 << 20


def check_archive(path: Path, max_unpacked_mb: float) -> None:
    """Refuse a zip-based file that unpacks to too much, holds too many entries, shrank an entry
    suspiciously far, or names entries outside itself. Each entry is really unpacked, in small pieces and
    only up to the limit: the sizes an archive declares can lie, and zipfile unpacks a whole entry before
    cutting it to its declared size, so the libraries reading it next could still unpack a bomb in full."""
    limit = int(max_unpacked_mb * 1e6)
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ARCHIVE_ENTRIES:
                raise ReadError(f"{path}: {len(entries)} entries in the archive, over the limit of "
                                f"{MAX_ARCHIVE_ENTRIES}; the file may be a zip bomb: check where it came from.")
            for entry in entries:
                name = entry.filename.replace("\\", "/")
                if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"):
                    raise ReadError(f"{path}: the archive names an entry outside itself ({entry.filename!r}); "
                                    f"it is not a genuine {path.suffix} file: check where it came from.")
                # Read what the entry really holds, not what it declares: zipfile stops reading at this
                # size (and then checks the CRC), so it is set beyond where the limit stops us.
                unbounded = copy.copy(entry)
                unbounded.file_size = limit + 2 * READ_BYTES
                size = 0
                with archive.open(unbounded) as stream:
                    while chunk := stream.read(READ_BYTES):
                        size, total = size + len(chunk), total + len(chunk)
                        if total > limit:
                            raise ReadError(f"{path}: unpacks to more than {max_unpacked_mb:g} MB "
                                            "(POLICYQA_MAX_UNPACKED_MB); the file may be a zip bomb: check "
                                            "where it came from, or raise the limit.")
                        if size > RATIO_FROM_BYTES and size > MAX_ENTRY_RATIO * max(entry.compress_size, 1):
                            raise ReadError(f"{path}: its entry {entry.filename} unpacks more than "
                                            f"{MAX_ENTRY_RATIO}-fold ({entry.compress_size / 1e6:.1f} MB to over "
                                            f"{size / 1e6:.0f} MB); the file is likely a zip bomb: check where "
                                            "it came from.")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted entry; NotImplementedError: a compression method zipfile lacks
        raise ReadError(f"{path}: not a readable {path.suffix} file ({exc.__class__.__name__}: {exc}); "
                        "re-save it from the application that made it.") from exc


# An OLE compound file (old binary Office formats, and Office's password-protected OOXML) starts so.
COMPOUND_FILE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def refuse_compound_file(path: Path) -> None:
    """A zip-based format (.docx, .xlsx) that is not a zip but a compound file: Office encrypts a
    password-protected package into one (its EncryptedPackage stream); else it is an old binary file
    saved under the new name. Either way one line saying what to do, not a zip error."""
    with open(path, "rb") as f:
        head = f.read(len(COMPOUND_FILE_MAGIC))
    if head != COMPOUND_FILE_MAGIC:
        return
    if "EncryptedPackage".encode("utf-16-le") in path.read_bytes():
        raise ReadError(f"{path}: the file is password-protected; save a copy without the password and add "
                        "that instead.")
    old = {".docx": ".doc", ".xlsx": ".xls", ".pptx": ".ppt"}.get(path.suffix.lower(), "its old binary suffix")
    raise ReadError(f"{path}: an old binary Office file under a new name; rename it to {old} and add it again.")


def read_text(path: Path, max_unpacked_mb: float = 200.0) -> str:
    """The file's text. Run it through `ingest.sandbox` for files from outside: parsing can take
    unbounded memory and time."""
    return read_file(path, max_unpacked_mb).text


def read_file(path: Path, max_unpacked_mb: float = 200.0) -> Read:
    """The file's text and how it was got (see `Read`); `read_text` for the text alone."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ReadError(
            f"{path}: unsupported file type {path.suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    if path.suffix.lower() in ARCHIVE_SUFFIXES:
        refuse_compound_file(path)
        check_archive(path, max_unpacked_mb)
    got = reader(path)
    got = got if isinstance(got, Read) else Read(got)
    got.text = got.text.replace("\r\n", "\n").replace("\r", "\n")
    return got
