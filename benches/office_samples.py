"""Old Word and OFD files made from a policy in the repository, for tests/ingest/test_formats_office.py,
tests/ingest/test_formats_ofd.py and benches/formats_office.py.

`policy_blocks` turns corpus/renhuai-brand-schools-2017.txt (a saved web page whose task table has one cell
per line) into paragraphs and that table. `write_docx` lays them out with python-docx (the table native),
`write_doc` has LibreOffice save that as Word 97 (.doc), and `write_ofd` writes an OFD package (GB/T 33190)
as a bureau's OFD printer would: A4 pages in 16 pt type (公文's 3号), wrapped at the margin, every line drawn
as several TextObjects written out of order, the table's cells at their columns.
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "corpus" / "renhuai-brand-schools-2017.txt"
TABLE_HEAD = ("序号", "具体任务", "牵头股室", "协助股室")

# (kind, content): ("p", a paragraph) or ("table", rows of cells; a cell may hold several lines)
Block = tuple[str, object]


def policy_blocks(path: Path = POLICY) -> list[Block]:
    lines = [re.sub(r"[\s\u00a0]+", " ", line).strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    start = lines.index("具体任务")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("四、"))
    rows: list[list[str]] = [list(TABLE_HEAD)]
    for line in lines[start + 3:end]:
        if line.isdigit():
            rows.append([line])
        elif len(rows[-1]) < 4:
            rows[-1].append(line)
        else:
            rows[-1][3] += "\n" + line
    return [("p", line) for line in lines[:start]] + [("table", rows)] + [("p", line) for line in lines[end:]]


def write_docx(path: Path, blocks: list[Block]) -> Path:
    import docx

    document = docx.Document()
    for kind, content in blocks:
        if kind == "p":
            document.add_paragraph(content)
        else:
            table = document.add_table(rows=len(content), cols=max(len(r) for r in content))
            table.style = "Table Grid"
            for i, row in enumerate(content):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
    document.save(str(path))
    return path


def write_doc(path: Path, blocks: list[Block]) -> Path:
    """A Word 97 .doc at `path`: the blocks written as .docx, saved by LibreOffice as Word 97."""
    from ingest.formats import office

    with tempfile.TemporaryDirectory(prefix="policyqa-sample-") as tmp:
        docx_path = write_docx(Path(tmp) / "sample.docx", blocks)
        work = Path(tmp) / "convert"
        work.mkdir()
        shutil.copyfile(office.convert(docx_path, "doc", work), path)
    return path


def write_dps(path: Path, slides: list[list[str]]) -> Path:
    """A WPS/PowerPoint 97 presentation at `path`, one slide per list of lines: written as flat
    OpenDocument, saved by LibreOffice Impress as PowerPoint 97 (WPS Presentation's .dps is that format)."""
    from ingest.formats import office

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"')
    pages = "".join(f'<draw:page draw:name="p{i}"><draw:frame svg:x="1cm" svg:y="1cm" svg:width="24cm" '
                    'svg:height="12cm"><draw:text-box>' + "".join(f"<text:p>{escape(line)}</text:p>" for line in lines)
                    + "</draw:text-box></draw:frame></draw:page>" for i, lines in enumerate(slides))
    with tempfile.TemporaryDirectory(prefix="policyqa-sample-") as tmp:
        flat = Path(tmp) / "sample.fodp"
        flat.write_text(f'<?xml version="1.0" encoding="UTF-8"?><office:document {ns} office:version="1.2" '
                        'office:mimetype="application/vnd.oasis.opendocument.presentation"><office:body>'
                        f'<office:presentation>{pages}</office:presentation></office:body></office:document>',
                        encoding="utf-8")
        work = Path(tmp) / "convert"
        work.mkdir()
        shutil.copyfile(office.convert(flat, "ppt", work), path)
    return path


# OFD layout, in mm
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 25.0
SIZE = 5.64  # 16 pt
TABLE_SIZE = 4.23  # 12 pt
LINE = 1.6  # line height, in glyph sizes
COLUMNS = (25.0, 42.0, 102.0, 132.0)  # x of the table's columns


class OFDWriter:
    """Lays text out on A4 pages and writes them as an OFD package. Each line is drawn as two or three
    TextObjects (split at random places) written in random order; each TextCode has X/Y and DeltaX."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.pages: list[list[str]] = [[]]  # TextObject XML per page
        self.y = MARGIN
        self.next_id = 100

    def _line(self, pieces: list[tuple[float, str]], size: float) -> None:
        if self.y + size * LINE > PAGE_H - MARGIN:
            self.pages.append([])
            self.y = MARGIN
        self.y += size * LINE
        objects = []
        for x, text in pieces:
            cuts = sorted(self.random.sample(range(1, len(text)), min(2, len(text) - 1))) if len(text) > 3 else []
            start = 0
            for cut in [*cuts, len(text)]:
                part = text[start:cut]
                objects.append(self._text_object(x + start * size, self.y, part, size))
                start = cut
        self.random.shuffle(objects)
        self.pages[-1] += objects

    def _text_object(self, x: float, baseline: float, text: str, size: float) -> str:
        self.next_id += 1
        width = len(text) * size
        # the Boundary's origin is the object's top left; the TextCode's Y is the baseline within it
        top = baseline - size
        deltas = f"g {len(text) - 1} {size:g}" if len(text) > 2 else " ".join([f"{size:g}"] * (len(text) - 1))
        delta = f' DeltaX="{deltas}"' if deltas else ""
        return (f'<ofd:TextObject ID="{self.next_id}" Boundary="{x:.2f} {top:.2f} {width:.2f} {size * 1.2:.2f}" '
                f'Font="3" Size="{size:g}"><ofd:FillColor Value="0 0 0"/>'
                f'<ofd:TextCode X="0" Y="{size:g}"{delta}>{escape(text)}</ofd:TextCode></ofd:TextObject>')

    def paragraph(self, text: str) -> None:
        """Wrapped at the margin; the first line indented two characters, as a body paragraph is."""
        per_line = int((PAGE_W - 2 * MARGIN) // SIZE)
        indent = 0 if re.match(r"^[一二三四五六七八九十]+、", text) else 2
        first = per_line - indent
        chunks = [text[:first]] + [text[i:i + per_line] for i in range(first, len(text), per_line)]
        for k, chunk in enumerate(chunks):
            if chunk:
                self._line([(MARGIN + (indent * SIZE if k == 0 else 0.0), chunk)], SIZE)

    def table(self, rows: list[list[str]]) -> None:
        for row in rows:
            self._line([(COLUMNS[j], re.sub(r"\s+", " ", cell).strip()) for j, cell in enumerate(row)],
                       TABLE_SIZE)

    def page_break(self) -> None:
        if self.pages[-1]:
            self.pages.append([])
            self.y = MARGIN

    def save(self, path: Path) -> Path:
        ofd_ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
        pages = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>'
                        for i in range(len(self.pages)))
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("OFD.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ofd_ns} Version="1.0" DocType="OFD">'
                '<ofd:DocBody><ofd:DocInfo><ofd:DocID>policyqa-sample</ofd:DocID>'
                '<ofd:Creator>PolicyQA tests</ofd:Creator></ofd:DocInfo>'
                '<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>'))
            archive.writestr("Doc_0/Document.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ofd_ns}><ofd:CommonData>'
                f'<ofd:MaxUnitID>{self.next_id}</ofd:MaxUnitID><ofd:PageArea>'
                f'<ofd:PhysicalBox>0 0 {PAGE_W:g} {PAGE_H:g}</ofd:PhysicalBox></ofd:PageArea>'
                '<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>'
                f'<ofd:Pages>{pages}</ofd:Pages></ofd:Document>'))
            archive.writestr("Doc_0/PublicRes.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {ofd_ns} BaseLoc="Res"><ofd:Fonts>'
                '<ofd:Font ID="3" FontName="仿宋" FamilyName="仿宋"/></ofd:Fonts></ofd:Res>'))
            for i, objects in enumerate(self.pages):
                archive.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", (
                    f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ofd_ns}><ofd:Content>'
                    f'<ofd:Layer ID="{i + 1}">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'))
        return path


def write_ofd(path: Path, blocks: list[Block], breaks_before: tuple[str, ...] = ()) -> Path:
    """An OFD of the blocks; a paragraph starting with one of `breaks_before` starts a new page."""
    writer = OFDWriter()
    for kind, content in blocks:
        if kind == "p":
            if content.startswith(breaks_before):
                writer.page_break()
            writer.paragraph(content)
        else:
            writer.table(content)
    return writer.save(path)
