"""OCR of page images (scanned PDF pages, photos, scans saved as images): text in reading order, with a
confidence per page.

RapidOCR (PP-OCRv4 detection and recognition, ONNX models inside the wheel: no network) finds text boxes;
we put them back in reading order: boxes that share a line are joined left to right (Chinese without
spaces), lines go top to bottom, a table's rows get " | " between cells (the form the readers give native
tables, which ingest.tables reads into responsibility records), and a line that runs to the right margin
mid-sentence is joined to the next (the scan wrapped a paragraph, not the author). Coloured text (a red
header's 文号, a stamped signature) is read like any other: nothing is dropped by colour.

This runs in the ingest sandbox's child (ingest/sandbox.py), which sets the two hooks below: the engine
needs more address space than parsing does, and OCR takes seconds a page, so the parent hears of each page.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.clean import ends_sentence

# RapidOCR shrinks an image to this longest side before detecting text (its max_side_len): PDF pages are
# rendered at it and larger images shrunk to it, so no pixel is made only to be thrown away. 2000 px on an
# A4 page is ~170 dpi, enough for 10.5 pt text.
OCR_MAX_SIDE = 2000
# Address space the OCR engine may take on top of POLICYQA_PARSE_MEMORY_MB: onnxruntime's two models,
# their buffers and threads failed under 1024 MB, and the sandbox child reading scanned PDFs reached 2.2-2.3
# GB of address space (VmPeak; 1.1-1.2 GB resident) in benches/formats_ocr.py on 2 cores (more cores, more
# threads). The child gets it only once the engine loads: files are parsed under the base limit.
OCR_MEMORY_MB = 2048
# A scanned yearbook runs to a few hundred pages; past this a file is more likely hostile than a
# document, and OCR would take 15-25 minutes or more on 2 cores: split it.
MAX_OCR_PAGES = 500

TEXT_SCORE = 0.5  # boxes read with less confidence are noise (RapidOCR's own default)
UPRIGHT = 0.5  # fewer boxes than this share of those found read with confidence: try the page turned over

# Reading order, in units of the line's text height (the height of its boxes):
SAME_LINE = 0.5  # boxes overlapping vertically by half the smaller height share a line
WORD_GAP = 0.8  # a wider gap is a space ("工  会  办公室", "仁怀市教育局  2017年5月15日"): two spaces
CELL_GAP = 2.5  # a wider one separates columns even outside a table (table_rows): " | "
MARGIN = 1.5  # a line ending within this of the right margin is full: its paragraph may go on below
INDENT = 1.0  # the next line starting further right than this from the left margin starts a paragraph
PARA_GAP = 1.0  # a vertical gap wider than this separates blocks
FULL_LINE_CHARS = 20  # shorter lines (table cells, titles, signatures) are never joined to the next
# Lines whose characters' width differs by more are in different type sizes: not one paragraph (公文's title
# in 2号 is 37% wider than its body in 3号; box heights vary as much within one size, with the glyphs).
SAME_SIZE = 0.2
# The year of a 文号 in mismatched brackets ("青教发〔2024】12号": the recogniser confuses 〕 】 ] ）): a 文号
# is how policies cite each other, so it is put back as printed.
DOC_NUMBER_YEAR = re.compile(r"[〔【\[［（(]\s*((?:19|20)\d{2})\s*[〕】\]］）)](?=\s*第?\s*\d{1,4}\s*号)")
ASCII_WORD = re.compile(r"[A-Za-z0-9]")
# The recogniser reads the blank half of a full-width mark as a space ("二、 经费保障"): not the author's.
PUNCT_SPACE = re.compile(r"(?<=[、。，；：！？（《“‘「【〔])\s+|\s+(?=[、。，；：！？）》”’」】〕])")

# Hooks the sandbox child sets (ingest/sandbox.py); None when reading in-process.
on_engine_load: Callable[[], None] | None = None  # before the engine loads: give it its address space
on_page: Callable[[int, int], None] | None = None  # after each page: (pages done, pages to OCR)

_engine = None


@dataclass
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


@dataclass
class PageText:
    text: str
    confidence: float | None  # mean recognition score over the page's characters; None: no text found


def engine():
    """The RapidOCR engine, loaded once per process (~0.2 s; ~1.5 GB of address space)."""
    global _engine
    if _engine is None:
        if on_engine_load is not None:
            on_engine_load()
        from rapidocr_onnxruntime import RapidOCR

        _engine = RapidOCR()
    return _engine


def engine_loaded() -> bool:
    return _engine is not None


def to_rgb(image):
    """An RGB copy of any Pillow image no larger than OCR_MAX_SIDE; transparency is laid on white (a PNG
    with a transparent background would otherwise turn black under black text)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    image = image.convert("RGB")
    image.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE))
    return image


def recognise(image) -> PageText:
    """The text of one page image (a Pillow image); a page scanned upside down is turned over."""
    image = to_rgb(image)
    boxes, found = read_boxes(image)
    if len(boxes) < UPRIGHT * found:  # most lines unreadable: upside down? Keep the reading that reads more
        turned, _ = read_boxes(image.rotate(180))
        if sum(len(b.text) for b in turned) > sum(len(b.text) for b in boxes):
            boxes = turned
    chars = sum(len(b.text) for b in boxes)
    confidence = sum(b.score * len(b.text) for b in boxes) / chars if chars else None
    return PageText(page_text(boxes), None if confidence is None else round(confidence, 4))


def read_boxes(image) -> tuple[list[Box], int]:
    """The boxes read with confidence, and how many text boxes were found in all. RapidOCR's per-line
    180° classifier is off: it turned lines full of quotation marks (“校园大课间”“学生社团活动”) upside down
    and lost them, while a whole page scanned upside down is caught by `recognise`."""
    found, _ = engine()(image, use_cls=False, text_score=0.0)
    boxes = [Box(min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points),
                 max(p[1] for p in points), PUNCT_SPACE.sub("", text.strip()), float(score))
             for points, text, score in found or [] if text.strip() and score >= TEXT_SCORE]
    return boxes, len(found or [])


def ocr_pages(path: Path, pages: Iterable, total: int) -> list[PageText]:
    """OCR page images one at a time (rendered or decoded lazily: one page in memory), reporting each."""
    from ingest.readers import ReadError

    if total > MAX_OCR_PAGES:
        raise ReadError(f"{path}: {total} pages to OCR, over the limit of {MAX_OCR_PAGES}; split the file "
                        "into parts and ingest those.")
    done: list[PageText] = []
    for image in pages:
        done.append(recognise(image))
        if on_page is not None:
            on_page(len(done), total)
    return done


def ocr_info(pages: int, ocr_at: list[int], results: list[PageText]) -> dict:
    """What `Read.info` keeps of an OCR: page numbers from 1, the confidence of each OCR'd page."""
    return {"pages": pages, "ocr_pages": [i + 1 for i in ocr_at],
            "confidence": [r.confidence for r in results]}


# -- reading order -----------------------------------------------------------------------------------


def join_words(left: str, right: str, gap: float, height: float, cells: bool = False) -> str:
    """Two pieces of one line. `cells`: the line is a table row, so any wide gap separates cells."""
    if gap > CELL_GAP * height or (cells and gap > WORD_GAP * height):
        return f"{left} | {right}"
    if gap > WORD_GAP * height:
        return f"{left}  {right}"
    if ASCII_WORD.match(left[-1:]) and ASCII_WORD.match(right[:1]):
        return f"{left} {right}"  # "Windows 10", "2017 年" stays as printed; Chinese joins without spaces
    return left + right


@dataclass
class Line:
    boxes: list[Box]

    @property
    def y0(self) -> float:
        return min(b.y0 for b in self.boxes)

    @property
    def y1(self) -> float:
        return max(b.y1 for b in self.boxes)

    @property
    def x0(self) -> float:
        return self.boxes[0].x0

    @property
    def x1(self) -> float:
        return self.boxes[-1].x1

    @property
    def height(self) -> float:
        return statistics.median(b.height for b in self.boxes)

    @property
    def em(self) -> float:
        """The width of one Chinese character (half-width ones count half): the line's type size."""
        units = sum(1 if ord(ch) >= 0x2E80 else 0.5 for b in self.boxes for ch in b.text)
        return sum(b.x1 - b.x0 for b in self.boxes) / max(units, 1)

    def text(self, cells: bool = False) -> str:
        out = self.boxes[0].text
        for before, box in zip(self.boxes, self.boxes[1:], strict=False):
            out = join_words(out, box.text, box.x0 - before.x1, self.height, cells)
        return out

    def pieces(self) -> list[tuple[float, float, str]]:
        """The line's pieces that wide gaps separate (a table row's cells): their extent and text."""
        out = [(self.boxes[0].x0, self.boxes[0].x1, self.boxes[0].text)]
        for box in self.boxes[1:]:
            if box.x0 - out[-1][1] > WORD_GAP * self.height:
                out.append((box.x0, box.x1, box.text))
            else:
                out[-1] = (out[-1][0], box.x1, out[-1][2] + box.text)
        return out


def group_lines(boxes: list[Box]) -> list[Line]:
    """Boxes into lines, top to bottom, each left to right. A box joins the line it overlaps vertically by
    SAME_LINE of the smaller height (a slightly skewed scan still lines up); lines are ordered by their
    top."""
    lines: list[Line] = []
    for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        same = next((line for line in reversed(lines) if min(box.y1, line.y1) - max(box.y0, line.y0)
                     >= SAME_LINE * min(box.height, line.height)), None)
        if same is None:
            lines.append(Line([box]))
        else:
            same.boxes.append(box)
            same.boxes.sort(key=lambda b: b.x0)
    return sorted(lines, key=lambda line: line.y0)


def table_rows(lines: list[Line]) -> list[bool]:
    """Which lines are rows of a table: consecutive lines whose words (pieces of two characters or more)
    stand in the same columns: two or more of one overlap those of the other horizontally. A cell's text
    sits anywhere in its column, so the gap between cells may be narrow ("序号" then "具体任务"); prose is
    one piece, and letter-spaced text ("工  会  办公室") is single characters."""
    words = [[p for p in line.pieces() if len(p[2]) >= 2] for line in lines]
    rows = [False] * len(lines)
    for k in range(1, len(lines)):
        a, b = words[k - 1], words[k]
        if len(a) >= 2 and len(b) >= 2 and sum(min(s[1], t[1]) > max(s[0], t[0]) for s in a for t in b) >= 2:
            rows[k - 1] = rows[k] = True
    return rows


def page_text(boxes: list[Box]) -> str:
    """The page's text: lines in reading order, table rows with " | " between cells, a paragraph the scan
    wrapped joined back into one line."""
    lines = group_lines(boxes)
    rows = table_rows(lines)
    texts = [DOC_NUMBER_YEAR.sub(r"〔\1〕", line.text(row)) for line, row in zip(lines, rows, strict=True)]
    full = [line for line, text in zip(lines, texts, strict=True) if len(text) >= FULL_LINE_CHARS]
    if not full:
        return "\n".join(texts)
    left, right = min(line.x0 for line in full), max(line.x1 for line in full)
    out = texts[:1]
    for k in range(1, len(lines)):
        before, line, text = lines[k - 1], lines[k], texts[k]
        h = before.height
        wrapped = (len(texts[k - 1]) >= FULL_LINE_CHARS and right - before.x1 <= MARGIN * h
                   and not ends_sentence(texts[k - 1]) and not rows[k - 1] and not rows[k]
                   and abs(line.em - before.em) <= SAME_SIZE * before.em  # a title's type is larger
                   and line.x0 - left <= INDENT * h and line.y0 - before.y1 <= PARA_GAP * h)
        if wrapped:
            out[-1] = join_words(out[-1], text, 0, h)
        else:
            out.append(text)
    return "\n".join(out)


# -- PDF pages -----------------------------------------------------------------------------------------

MIN_LAYER_CHARS = 10  # fewer characters in a page's text layer, over a scan, are a stamp, not its text
SCAN_AREA = 0.5  # an image covering half the page or more makes the page a scan


def needs_ocr(page, text: str) -> bool:
    """A pdfplumber page is OCR'd when its text layer is empty (a scan, or text drawn as curves), or holds a
    few characters over a page-sized image (a scan with its page number stamped on as text)."""
    chars = len("".join(text.split()))
    if chars == 0:
        return True
    if chars >= MIN_LAYER_CHARS:
        return False
    area = float(page.width * page.height) or 1.0
    return any((im["x1"] - im["x0"]) * (im["bottom"] - im["top"]) >= SCAN_AREA * area for im in page.images)


def render_pdf(path: Path, indices: list[int]) -> Iterator:
    """The pages at `indices` (from 0) as Pillow images, rendered one at a time with pdfium at OCR_MAX_SIDE
    on the longer side (the page's /Rotate applied)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        for i in indices:
            page = pdf[i]
            try:
                scale = OCR_MAX_SIDE / max(*page.get_size(), 1.0)
                yield page.render(scale=scale).to_pil()
            finally:
                page.close()
    finally:
        pdf.close()
