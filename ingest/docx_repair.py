""".docx packages that Word and WPS open but python-docx refuses, repaired in memory for reading.

What WPS Office (and some other producers) write that python-docx 1.x trips over:
  - relationships to parts that are not in the package: Target="NULL" or "../NULL" (images WPS or an add-in
    lost), "#_top" (a bookmark written as a part), or a header/customXml item never saved. python-docx walks
    every relationship and fails with KeyError "There is no item named 'word/NULL' in the archive";
    Word ignores them. Here they become external, so nothing looks for them (python-docx issues 797, 1105,
    1351).
  - the main part typed as a template or macro-enabled document (.dotx/.docm/.dotm saved as .docx), or left
    to the "xml" default (application/xml): "file is not a Word file, content type is ...". Retyped as a
    document: the XML is the same WordprocessingML.
  - a part with no content type at all (an extension missing from [Content_Types].xml): typed as binary.
Opening is tried as is first; the repair runs only when that fails. `body_blocks` also walks what python-docx's
paragraph/table split misses: content controls (w:sdt) and custom XML around body paragraphs, and XML comments
or processing instructions in the body (WPS 12 writes them; their lxml tag is not a string).

The XML is parsed with lxml without entity resolution or network access, as python-docx does.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
OFFICE_DOCUMENT = "/officeDocument"  # the end of the main part's relationship type (transitional or strict)
WML_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def parse(data: bytes):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(data, parser)


def open_document(path: Path):
    """python-docx's Document for `path`, repairing the package in memory if it will not open as is. Raises
    the first error when the repair does not help (the caller words it)."""
    import docx

    try:
        return docx.Document(str(path))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - python-docx raises several kinds for a broken package
        first = exc
    try:
        repaired = repair(path)
        if repaired is not None:
            return docx.Document(repaired)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - not a package we can mend: the first error says what is wrong
        pass
    raise first


def repair(path: Path) -> io.BytesIO | None:
    """The package with dangling relationships made external and content types mended; None when there is
    nothing to mend. Sizes were checked before (ingest.readers.check_archive)."""
    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    names = {name.lower(): name for name in entries}
    changed: dict[str, bytes] = {}
    main_part = None
    for rels_name in [n for n in entries if n.lower().endswith(".rels")]:
        rels = parse(entries[rels_name])
        source_dir = posixpath.dirname(posixpath.dirname(rels_name))  # word/_rels/document.xml.rels -> word
        dirty = False
        for rel in rels.iter(f"{{{RELS_NS}}}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(source_dir, target))
            if rels_name == "_rels/.rels" and rel.get("Type", "").endswith(OFFICE_DOCUMENT):
                main_part = names.get(part.lower())
            if part.lower() not in names or part.startswith("../"):
                rel.set("TargetMode", "External")
                dirty = True
        if dirty:
            changed[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
    types_name = names.get("[content_types].xml")
    if types_name is not None:
        types = parse(entries[types_name])
        overrides = {o.get("PartName", "").lstrip("/").lower(): o for o in types.iter(f"{{{CT_NS}}}Override")}
        defaults = {d.get("Extension", "").lower() for d in types.iter(f"{{{CT_NS}}}Default")}
        dirty = False
        if main_part is not None:
            override = overrides.get(main_part.lower())
            if override is None:
                override = etree.SubElement(types, f"{{{CT_NS}}}Override", PartName="/" + main_part)
            if override.get("ContentType") != WML_MAIN:
                override.set("ContentType", WML_MAIN)
                dirty = True
        for name in entries:
            extension = posixpath.splitext(name)[1].lstrip(".").lower()
            if name.lower() not in overrides and extension not in defaults and name != types_name:
                if extension:
                    etree.SubElement(types, f"{{{CT_NS}}}Default", Extension=extension,
                                     ContentType="application/octet-stream")
                    defaults.add(extension)
                else:
                    etree.SubElement(types, f"{{{CT_NS}}}Override", PartName="/" + name,
                                     ContentType="application/octet-stream")
                dirty = True
        if dirty:
            changed[types_name] = etree.tostring(types, xml_declaration=True, encoding="UTF-8", standalone=True)
    if not changed:
        return None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, changed.get(name, data))
    out.seek(0)
    return out


def body_blocks(body) -> Iterator:
    """The body's paragraphs (w:p) and tables (w:tbl) in document order, including those inside content
    controls (w:sdt/w:sdtContent) and custom XML (w:customXml); comments and processing instructions skipped."""
    for child in body.iterchildren():
        tag = child.tag
        if not isinstance(tag, str):  # an XML comment or processing instruction
            continue
        if tag in (f"{{{W_NS}}}p", f"{{{W_NS}}}tbl"):
            yield child
        elif tag == f"{{{W_NS}}}sdt":
            for content in child.iterchildren(f"{{{W_NS}}}sdtContent"):
                yield from body_blocks(content)
        elif tag == f"{{{W_NS}}}customXml":
            yield from body_blocks(child)
