"""Hostile files fail their own read with one clear message, and the memory they take is a child's: zip
bombs (honest or lying about their sizes), billion laughs, too many entries, escaping paths, a parse that
needs too much memory or time. Normal files read exactly as in-process."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from hostile_files import PLAN, make_docx, rewrite_docx, zip_bomb

from ingest.pipeline import IngestError, UnreadableFile, load_document
from ingest.readers import ReadError, read_text
from ingest.sandbox import ParseLimits, Sandbox


def peak_rss_mb_since_reset() -> float:
    """The process's peak RSS since the last reset_peak_rss() (Linux: VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # "5" resets the peak RSS (VmHWM) to the current RSS


def test_zip_bomb_is_refused_and_the_parent_stays_small(tmp_path):
    bomb = zip_bomb(tmp_path, 300)
    assert bomb.stat().st_size < 2_000_000
    reset_peak_rss()
    before = peak_rss_mb_since_reset()
    with pytest.raises(UnreadableFile) as err:
        load_document(bomb)
    message = str(err.value)
    assert str(bomb) in message and "zip bomb" in message and "word/document.xml" in message
    assert "\n" not in message
    assert peak_rss_mb_since_reset() - before < 100


def test_unpacked_size_limit(tmp_path):
    bomb = zip_bomb(tmp_path, 12)
    with Sandbox(ParseLimits(max_unpacked_mb=5)) as sandbox, pytest.raises(ReadError) as err:
        sandbox.read_text(bomb)
    assert f"{bomb}: unpacks to more than 5 MB (POLICYQA_MAX_UNPACKED_MB)" in str(err.value)


def central_record(data: bytes, name: str) -> int:
    """Where the central directory describes entry `name`."""
    at = data.find(b"PK\x01\x02")
    while data[at + 46:at + 46 + struct.unpack_from("<H", data, at + 28)[0]] != name.encode():
        at = data.find(b"PK\x01\x02", at + 4)
    return at


def test_declared_sizes_that_lie_are_not_believed(tmp_path):
    """The entry says it unpacks to 1,000 bytes and holds 12 MB: zipfile would unpack all 12 MB at once."""
    bomb = zip_bomb(tmp_path, 12)
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as z:
        local = z.getinfo("word/document.xml").header_offset
    struct.pack_into("<I", data, local + 22, 1000)  # uncompressed size in the local header
    struct.pack_into("<I", data, central_record(data, "word/document.xml") + 24, 1000)  # and in the directory
    bomb.write_bytes(bytes(data))
    with zipfile.ZipFile(bomb) as z:
        assert z.getinfo("word/document.xml").file_size == 1000
        assert sum(i.file_size for i in z.infolist()) < 5_000_000
    with pytest.raises(ReadError) as err:
        read_text(bomb, max_unpacked_mb=5)
    assert "unpacks to more than 5 MB" in str(err.value)


def test_billion_laughs_fails_cleanly(tmp_path):
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))

    def laughing(xml: bytes, stream) -> None:
        head, rest = xml.split(b"?>", 1)
        rest = rest.replace("某县课程建设方案".encode(), b"&lol9;")
        stream.write(head + b"?>" + f"<!DOCTYPE w:document [{entities}]>".encode() + rest)

    path = rewrite_docx(make_docx(tmp_path / "plain.docx"), tmp_path / "laughs.docx", laughing)
    reset_peak_rss()
    before = peak_rss_mb_since_reset()
    with pytest.raises(UnreadableFile) as err:
        load_document(path)
    assert f"{path}: not a readable .docx" in str(err.value)
    assert peak_rss_mb_since_reset() - before < 100


def test_html_entities_are_not_expanded(tmp_path):
    """html.parser ignores a DTD's entities: a billion laughs in HTML is just text."""
    path = tmp_path / "laughs.html"
    entities = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    path.write_text(f"<!DOCTYPE html [{entities}]><html><body><p>{'&lol9;'.join(PLAN)}</p></body></html>",
                    encoding="utf-8")
    text = Sandbox().read_text(path)
    assert "&lol9" in text and "lol" * 10 not in text


def test_too_many_entries(tmp_path):
    path = rewrite_docx(make_docx(tmp_path / "plain.docx"), tmp_path / "many.docx", lambda xml, s: s.write(xml),
                        {f"extra/{i}.xml": b"<a/>" for i in range(10_001)})
    with pytest.raises(IngestError) as err:
        load_document(path)
    assert f"{path}: 10" in str(err.value) and "entries in the archive, over the limit of 10000" in str(err.value)


def test_entry_outside_the_archive(tmp_path):
    path = rewrite_docx(make_docx(tmp_path / "plain.docx"), tmp_path / "slip.docx", lambda xml, s: s.write(xml),
                        {"word/../../etc/cron.d/x": b"x"})
    with pytest.raises(IngestError) as err:
        load_document(path)
    assert "outside itself" in str(err.value) and "word/../../etc/cron.d/x" in str(err.value)


def big_html(path: Path, paragraphs: int) -> Path:
    """A page of tiny paragraphs: a few MB of file, ~1 KB of parser memory for each paragraph."""
    path.write_text("<html><body>" + "<p>一、总则</p>" * paragraphs + "</body></html>", encoding="utf-8")
    return path


def test_memory_limit(tmp_path):
    path = big_html(tmp_path / "huge.html", 1_000_000)
    reset_peak_rss()
    before = peak_rss_mb_since_reset()
    with Sandbox(ParseLimits(memory_mb=256)) as sandbox:
        with pytest.raises(ReadError) as err:
            sandbox.read_text(path)
        assert str(err.value).startswith(f"{path}: parsing needed more than 256 MB (POLICYQA_PARSE_MEMORY_MB)")
        assert "\n".join(PLAN) in sandbox.read_text(make_docx(tmp_path / "plain.docx"))  # a new child reads on
    assert peak_rss_mb_since_reset() - before < 100


def test_time_limit(tmp_path):
    path = big_html(tmp_path / "slow.html", 200_000)  # ~12 s to read
    with Sandbox(ParseLimits(timeout_s=2)) as sandbox:
        with pytest.raises(ReadError) as err:
            sandbox.read_text(path)
        assert str(err.value).startswith(f"{path}: parsing took longer than 2 s (POLICYQA_PARSE_TIMEOUT_S)")
        assert "\n".join(PLAN) in sandbox.read_text(make_docx(tmp_path / "plain.docx"))


def test_normal_files_read_as_in_process(tmp_path):
    docx_path = make_docx(tmp_path / "plan.docx")
    html_path = tmp_path / "plan.html"
    html_path.write_text("<html><body><div>" + "".join(f"<p>{line}</p>" for line in PLAN) + "</div></body></html>",
                         encoding="utf-8")
    txt_path = tmp_path / "plan.txt"
    txt_path.write_text("\n".join(PLAN), encoding="utf-8")
    with Sandbox() as sandbox:
        for path in (docx_path, html_path, txt_path):
            assert sandbox.read_text(path) == read_text(path)
        assert sandbox.calls == 2  # plain text is read in-process: decoding expands nothing
