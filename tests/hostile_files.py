"""Hostile files built in tests: .docx zip bombs (a valid document whose body is mostly spaces)."""

from __future__ import annotations

import zipfile
from pathlib import Path

PLAN = ("某县课程建设方案", "一、工作目标", "到2025年,建成10所特色学校。", "二、经费保障", "每年安排专项经费50万元。")


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    for line in PLAN:
        d.add_paragraph(line)
    d.save(path)
    return path


def rewrite_docx(src: Path, path: Path, document_xml, extra: dict[str, bytes] | None = None) -> Path:
    """A copy of `src` whose word/document.xml is written by `document_xml(original, stream)`."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename == "word/document.xml":
                with new.open(info.filename, "w") as stream:
                    document_xml(old.read(info), stream)
            else:
                new.writestr(info.filename, old.read(info))
        for name, data in (extra or {}).items():
            new.writestr(name, data)
    return path


def zip_bomb(tmp_path: Path, mb: int) -> Path:
    """A valid .docx whose body holds `mb` MB of spaces (~1000-fold deflated: 300 MB is ~0.3 MB)."""
    def padded(xml: bytes, stream) -> None:
        head, tail = xml.split(b"<w:body>")
        stream.write(head + b"<w:body>")
        block = b" " * (1 << 20)
        for _ in range(mb):
            stream.write(block)
        stream.write(tail)

    return rewrite_docx(make_docx(tmp_path / "plain.docx"), tmp_path / "bomb.docx", padded)
