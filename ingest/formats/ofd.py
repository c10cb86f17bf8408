"""OFD (GB/T 33190-2016, the Chinese fixed-layout format many bureaus publish in besides PDF): a zip of XML.

OFD.xml names each document's root (DocBody/DocRoot); the document (Document.xml) lists its pages in order
(Pages/Page BaseLoc); each page's Content.xml holds layers of TextObject elements, each with a Boundary
("x y w h" on the page, in mm, y downwards), a font Size, an optional CTM ("a b c d e f") and TextCode
children carrying the text at X/Y (the baseline, relative to the Boundary) with DeltaX, the advance of each
glyph after the first ("g n d" repeats d n times).

Reading order is rebuilt from the positions, as on paper: runs whose baselines are within half a glyph are
one line, lines go top to bottom, runs within a line left to right. So a line split into several
TextObjects (a change of font, a bold word) is one line again, whatever order the producer wrote them in.
A gap of more than CELL_GAP_EM glyphs between runs on a line is a column gap (a table without its ruling
lines, which are drawn as paths): it becomes " | ", as native tables elsewhere. Templates (page headers,
backgrounds), annotations and signatures are not read. Pages are joined by "\\f" so page numbers survive.

A small reader of its own (the standard library and lxml, already used by python-docx) instead of a package:
easyofd pulls in PyMuPDF, reportlab and fontTools to render; ofdkit and ofdreader were months old and little
used when this was written. XML is parsed without entity resolution, network or DTDs (a DOCTYPE is refused:
OFD has none), and the package was checked entry by entry before (ZIP_BASED: ingest.readers.check_archive).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.readers import CELL_SEP, PAGE_BREAK, ReadError

SUFFIXES = (".ofd",)
ZIP_BASED = True

LINE_TOLERANCE_EM = 0.5  # baselines closer than this (in glyph sizes) are one line
SPACE_GAP_EM = 0.3  # a gap this wide between two Latin letters or digits is a space
CELL_GAP_EM = 1.5  # a gap this wide between runs (in glyph sizes) is a column gap: " | "
DEFAULT_SIZE_MM = 3.5  # a TextObject without Size (required, but not always there): about 10 pt


@dataclass
class Run:
    """Text drawn on one baseline: its start and end along the line, its baseline, its glyph size (mm)."""

    x: float
    end: float
    y: float
    size: float
    text: str


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def numbers(value: str | None) -> list[float]:
    try:
        return [float(v) for v in (value or "").split()]
    except ValueError:
        return []


def deltas(value: str | None) -> list[float]:
    """DeltaX/DeltaY: plain numbers, or "g n d" for d repeated n times."""
    out, tokens, i = [], (value or "").split(), 0
    while i < len(tokens):
        try:
            if tokens[i] == "g" and i + 2 < len(tokens):
                out += [float(tokens[i + 2])] * min(int(tokens[i + 1]), 100_000)
                i += 3
            else:
                out.append(float(tokens[i]))
                i += 1
        except ValueError:
            i += 1
    return out


class Package:
    """The OFD zip: entries by path, read and parsed safely."""

    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path, self.archive = path, archive
        self.names = {n.replace("\\", "/").lstrip("/").lower(): n for n in archive.namelist()}

    def resolve(self, base: str, loc: str) -> str | None:
        """An ST_Loc: absolute ("/Doc_0/...") or relative to the folder of the file naming it; some producers
        write paths relative to the package root instead, so that is tried next."""
        loc = loc.strip().replace("\\", "/")
        if not loc:
            return None
        tries = [loc.lstrip("/")] if loc.startswith("/") else [posixpath.join(base, loc), loc]
        for candidate in tries:
            name = self.names.get(posixpath.normpath(candidate).lower())
            if name is not None:
                return name
        return None

    def xml(self, name: str):
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                 remove_comments=True, remove_pis=True)
        try:
            root = etree.fromstring(self.archive.read(name), parser)
        except etree.XMLSyntaxError as exc:
            raise ReadError(f"{self.path}: its {name} is not well-formed XML ({exc}); the OFD is damaged (or "
                            "encrypted): export it again from the application that made it.") from exc
        if root.getroottree().docinfo.doctype:
            raise ReadError(f"{self.path}: its {name} declares a DTD, which OFD never does; the file is not a "
                            "genuine OFD: check where it came from.")
        return root


def read(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        package = Package(path, archive)
        if any(re.search(r"(^|/)encrypt", n) for n in package.names):
            raise ReadError(f"{path}: the OFD is encrypted (password-protected); export a copy without the "
                            "password and ingest that.")
        root_name = package.names.get("ofd.xml")
        if root_name is None:
            raise ReadError(f"{path}: not an OFD package (no OFD.xml inside); check the file, or export it again.")
        root = package.xml(root_name)
        if local(root.tag) != "OFD":
            raise ReadError(f"{path}: OFD.xml is not an OFD entry file (its root is {local(root.tag)!r}); "
                            "check the file.")
        pages = []
        for body in (e for e in root.iter() if local(e.tag) == "DocBody"):
            doc_root = next((e.text for e in body if local(e.tag) == "DocRoot" and e.text), None)
            document_name = package.resolve("", doc_root or "")
            if document_name is None:
                raise ReadError(f"{path}: OFD.xml names a document ({doc_root!r}) that is not in the package; "
                                "the OFD is damaged: export it again.")
            pages += document_pages(package, document_name)
    if not pages:
        raise ReadError(f"{path}: the OFD has no pages; check the file, or export it again.")
    if not any(p.strip() for p in pages):
        raise ReadError(f"{path}: the OFD's {len(pages)} pages have no text (scanned images, or text drawn as "
                        "outlines); export it as PDF and ingest that.")
    return PAGE_BREAK.join(pages)


def document_pages(package: Package, document_name: str) -> list[str]:
    """The text of each page of one document, in the order Document.xml lists them."""
    document = package.xml(document_name)
    base = posixpath.dirname(document_name)
    texts = []
    for pages in (e for e in document if local(e.tag) == "Pages"):
        for page in (e for e in pages if local(e.tag) == "Page"):
            loc = page.get("BaseLoc", "")
            content = package.resolve(base, loc)
            if content is None:
                raise ReadError(f"{package.path}: page {len(texts) + 1} ({loc!r}) is not in the package; the OFD "
                                "is damaged: export it again.")
            texts.append(page_text(package.xml(content)))
    return texts


def page_text(content) -> str:
    """A page's text in reading order (see the module docstring)."""
    runs = [run for obj in content.iter() if local(obj.tag) == "TextObject" for run in text_runs(obj)]
    runs.sort(key=lambda r: (r.y, r.x))
    lines: list[list[Run]] = []
    for run in runs:
        line = lines[-1] if lines else None
        if line and abs(run.y - line[0].y) <= LINE_TOLERANCE_EM * min(run.size, line[0].size):
            line.append(run)
        else:
            lines.append([run])
    return "\n".join(line_text(sorted(line, key=lambda r: r.x)) for line in lines)


def line_text(runs: list[Run]) -> str:
    out = runs[0].text
    for before, run in zip(runs, runs[1:], strict=False):
        gap = run.x - before.end
        size = max(before.size, run.size)
        if gap > CELL_GAP_EM * size:
            out += CELL_SEP
        elif gap > SPACE_GAP_EM * size and out[-1:].isascii() and out[-1:].isalnum() and run.text[:1].isascii():
            out += " "
        out += run.text
    return out


def text_runs(obj) -> list[Run]:
    """The runs of one TextObject, on the page: its TextCodes placed in its Boundary, through its CTM."""
    box = numbers(obj.get("Boundary"))
    left, top = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
    ctm = numbers(obj.get("CTM"))
    a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    size = (numbers(obj.get("Size")) or [DEFAULT_SIZE_MM])[0]
    scale = abs(a * d - b * c) ** 0.5 or 1.0
    runs, x, y = [], 0.0, 0.0
    for code in (e for e in obj if local(e.tag) == "TextCode"):
        text = "".join(code.itertext())
        x = (numbers(code.get("X")) or [x])[0]  # X and Y may be left out: the text goes on where it ended
        y = (numbers(code.get("Y")) or [y])[0]
        steps = deltas(code.get("DeltaX"))[:max(len(text) - 1, 0)]
        steps += [size] * (max(len(text) - 1, 0) - len(steps))  # no advance given: a full-width glyph
        end = x + sum(steps) + (size if text else 0.0)
        if text.strip():
            start_x, start_y = a * x + c * y + e, b * x + d * y + f
            runs.append(Run(left + start_x, left + a * end + c * y + e, top + start_y, size * scale, text))
        x = end
    return runs
