"""Scans made from text: pages rendered with a CJK font as a scanner would deliver them (a slight skew,
softened edges, JPEG in a PDF), for the OCR tests (tests/ingest/test_ocr.py) and benches/formats.py.

An A4 page at 200 dpi in 16 pt type (公文's 3号 is 16 pt), paragraphs indented two characters and wrapped at
the margin, as a bureau prints them.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian fonts-wqy-microhei (`make test`)
DPI = 200
PAGE = (1654, 2339)  # A4 at 200 dpi
MARGIN = 190  # ~2.4 cm
POINT = DPI / 72
RED = (200, 30, 30)


class ScanWriter:
    """Lays out text on A4 pages, top to bottom; `pages()` gives them as scanned images."""

    def __init__(self, size_pt: float = 16, font: Path = FONT) -> None:
        if not font.exists():
            raise FileNotFoundError(f"{font}: a CJK font is needed to render scans; `make test` installs "
                                    "fonts-wqy-microhei")
        self.font_path, self.size = font, round(size_pt * POINT)
        self.font = ImageFont.truetype(str(font), self.size)
        self.width = PAGE[0] - 2 * MARGIN
        self._pages: list[Image.Image] = []
        self.rows: list[tuple[int, str]] = []  # (page from 1, text) of every row drawn: where a line landed
        self._new_page()

    def _new_page(self) -> None:
        self.page = Image.new("RGB", PAGE, "white")
        self.draw = ImageDraw.Draw(self.page)
        self.y = MARGIN
        self._pages.append(self.page)

    def _room(self, height: float) -> None:
        if self.y + height > PAGE[1] - MARGIN:
            self._new_page()

    def page_break(self) -> None:
        self._new_page()

    def space(self, lines: float = 1) -> None:
        """Blank lines (before a signature, 公文 leaves two)."""
        self.y += round(lines * self.size * 1.5)

    def _draw(self, xy: tuple[float, float], text: str, font, fill) -> None:
        self.draw.text(xy, text, font=font, fill=fill)
        self.rows.append((len(self._pages), text))

    def line(self, text: str, align: str = "left", fill=(0, 0, 0), size_pt: float | None = None) -> None:
        """One line, not wrapped: a title, a 文号, a signature."""
        font = ImageFont.truetype(str(self.font_path), round(size_pt * POINT)) if size_pt else self.font
        step = round(font.size * 1.5)
        self._room(step)
        width = font.getlength(text)
        x = {"left": MARGIN, "center": (PAGE[0] - width) / 2, "right": PAGE[0] - MARGIN - width}[align]
        self._draw((x, self.y), text, font, fill)
        self.y += step

    def paragraph(self, text: str) -> None:
        """Text wrapped at the margin; a paragraph longer than a line is indented two characters."""
        indent = 2 * self.size if self.font.getlength(text) > self.width else 0
        row, x0 = "", indent
        for ch in text:
            if self.font.getlength(row + ch) > self.width - x0:
                self._row(row, x0)
                row, x0 = "", 0
            row += ch
        if row:
            self._row(row, x0)

    def _row(self, text: str, x0: float) -> None:
        step = round(self.size * 1.5)
        self._room(step)
        self._draw((MARGIN + x0, self.y), text, self.font, "black")
        self.y += step

    def text(self, text: str) -> None:
        """Every non-blank line of `text` as a paragraph."""
        for line in text.splitlines():
            if line.strip():
                self.paragraph(line.strip())

    def table(self, rows: list[tuple[str, ...]], widths: list[float]) -> None:
        """A ruled table, one line per cell; `widths` are fractions of the text width."""
        step = round(self.size * 2)
        xs = [MARGIN + sum(widths[:k]) * self.width for k in range(len(widths) + 1)]
        for row in rows:
            self._room(step)
            for k, cell in enumerate(row):
                self.draw.rectangle((xs[k], self.y, xs[k + 1], self.y + step), outline="black", width=2)
                self._draw((xs[k] + self.size * 0.4, self.y + self.size * 0.25), cell, self.font, "black")
            self.y += step
        self.y += self.size

    def rule(self, fill=RED) -> None:
        """The red line under a red header."""
        self.draw.rectangle((MARGIN, self.y, PAGE[0] - MARGIN, self.y + 5), fill=fill)
        self.y += self.size

    def stamp(self, name: str) -> None:
        """A red seal inked over the signature lines above: a ring, a star, `name` round the top. Ink
        darkens what is under it (multiply), so the signature stays legible through it."""
        r = round(2.1 * 72 / 2.54 * POINT) // 2  # a 4.2 cm seal
        cx, cy = PAGE[0] - MARGIN - r - 40, self.y - 2 * round(self.size * 1.5)
        seal = Image.new("RGB", PAGE, "white")
        draw = ImageDraw.Draw(seal)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=RED, width=8)
        star = [(cx + r * 0.3 * math.cos(math.pi / 2 + k * 4 * math.pi / 5),
                 cy - r * 0.3 * math.sin(math.pi / 2 + k * 4 * math.pi / 5)) for k in range(5)]
        draw.polygon(star, fill=RED)
        font = ImageFont.truetype(str(self.font_path), round(r * 0.26))
        for k, ch in enumerate(name):  # round the upper arc, each character upright to the centre
            angle = math.pi * (0.85 - 0.7 * k / max(len(name) - 1, 1))
            glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
            ImageDraw.Draw(glyph).text((font.size / 2, font.size / 2), ch, font=font, fill=255)
            glyph = glyph.rotate(math.degrees(angle - math.pi / 2), resample=Image.BICUBIC)
            x, y = cx + r * 0.74 * math.cos(angle), cy - r * 0.74 * math.sin(angle)
            seal.paste(Image.new("RGB", glyph.size, RED), (round(x - font.size), round(y - font.size)), glyph)
        self._pages[-1].paste(ImageChops.multiply(self.page, seal))

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def page_of(self, text: str) -> int:
        """The page (from 1) of the first row holding `text`."""
        return next(page for page, row in self.rows if text in row)

    def pages(self, skew_deg: float = 0.3, blur: float = 0.6) -> list[Image.Image]:
        """The pages as scanned: turned by `skew_deg`, edges softened by a `blur` radius in pixels."""
        out = []
        for page in self._pages:
            page = page.rotate(skew_deg, resample=Image.BICUBIC, fillcolor="white")
            out.append(page.filter(ImageFilter.GaussianBlur(blur)) if blur else page)
        return out


def save_pdf(pages: list[Image.Image], path: Path, quality: int = 75) -> Path:
    """A PDF of page images only (no text layer), JPEG-compressed like a scanner's."""
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=DPI, quality=quality)
    return path


def scan_of(text: str, path: Path, pages: int | None = None) -> ScanWriter:
    """`text` rendered and saved at `path` as a scanned PDF (the first `pages` pages when given), or as an
    image when `path` ends in .png/.jpg/.tif (a TIFF holds every page, the others the first). The writer
    says where each line landed (`page_of`)."""
    writer = ScanWriter()
    writer.text(text)
    images = writer.pages()[:pages]
    if path.suffix.lower() == ".pdf":
        save_pdf(images, path)
        return writer
    many = path.suffix.lower() in (".tif", ".tiff")  # a PNG or JPEG holds one page
    images[0].save(path, save_all=many, append_images=images[1:] if many else [], dpi=(DPI, DPI))
    return writer


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, a row at a time in numpy (a 6,000-character document in well under a second)."""
    import numpy as np

    codes = np.array([ord(c) for c in b], dtype=np.int64)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, ch in enumerate(a, 1):
        diagonal = row[:-1] + (codes != ord(ch))  # substitute (or keep)
        best = np.concatenate(([i], np.minimum(row[1:] + 1, diagonal)))  # or delete ch from a
        row = np.minimum.accumulate(best - steps) + steps  # or insert, from the left
    return int(row[-1])


def char_accuracy(found: str, truth: str) -> float:
    """1 - edit distance / characters of the truth, both NFKC-folded (the pipeline folds full-width forms
    the same way) and without whitespace (a scan keeps no blank lines, and wraps lines where it must)."""
    import unicodedata

    def fold(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).split())

    found, truth = fold(found), fold(truth)
    return 1 - edit_distance(found, truth) / max(len(truth), 1)
