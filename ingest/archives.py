"""Zip archives of attachments (附件, packed the way sites publish them): each member a document of its own.

An archive is not one document. `members` lists what it holds from its central directory (nothing is
unpacked yet) and refuses a hostile archive as a whole; `unpack` checks it for a zip bomb
(`ingest.readers.check_archive`) and writes the members asked for to paths the caller chose. The pipeline
(ingest/pipeline.py) unpacks into a temporary folder, reads each member there like a file, and keeps the
archive as the Document's source, so a changed archive is read again and a removed one takes its documents
with it.

This runs in the ingesting process, not in the sandbox, so only stored and deflated members are unpacked:
zipfile bounds each read of a deflated stream, but hands a bzip2 or LZMA block its whole output at once.
"""

from __future__ import annotations

import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingest.readers import MAX_ARCHIVE_ENTRIES, READ_BYTES, ReadError, check_archive

ARCHIVE_SUFFIXES = (".zip",)
UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8; without it, the maker's code page
ENCRYPTED_FLAG = 0x1
UNPACKED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# Not documents: the Finder's and Explorer's litter and hidden files, left out without a word.
LITTER = re.compile(r"(^|/)(__MACOSX/|\.)|(^|/)(thumbs\.db|desktop\.ini)$", re.I)


@dataclass(frozen=True)
class Member:
    name: str  # its path inside the archive, decoded as its maker meant it
    info: zipfile.ZipInfo

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower()


def is_archive(path: Path) -> bool:
    return path.suffix.lower() in ARCHIVE_SUFFIXES


def member_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its maker meant it. Without the UTF-8 flag zipfile decodes a name as cp437, the
    old PC code page, but zips made on Chinese Windows (Explorer, WinRAR, 360压缩) wrote GBK there. cp437 maps
    all 256 bytes, so the bytes come back exactly; they are tried as UTF-8 first (Linux and macOS tools that
    leave the flag unset write UTF-8, which GB18030 would misread), then as GB18030, a superset of GBK."""
    name = info.orig_filename  # before zipfile cuts it at a NUL: a NUL is refused, not hidden
    if not info.flag_bits & UTF8_FLAG:
        raw = name.encode("cp437")
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return name.replace("\\", "/")  # some Windows tools write backslashes


def members(path: Path) -> list[Member]:
    """The archive's files (folders and litter left out), or a ReadError naming the archive and the
    entry when it is not an archive to unpack: a name outside it (`../x`, `/etc/x`, `C:\\x`) or with
    control characters, a symbolic link, encryption, a compression other than stored or deflated, too many
    entries. One such entry refuses the whole archive: a folder of attachments zipped has none."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise ReadError(f"{path}: not a readable zip archive ({exc.__class__.__name__}: {exc}); zip the "
                        "attachments again, or send them one by one.") from exc
    if len(infos) > MAX_ARCHIVE_ENTRIES:
        raise ReadError(f"{path}: {len(infos)} entries in the archive, over the limit of {MAX_ARCHIVE_ENTRIES}; "
                        "the file may be a zip bomb: check where it came from, or split the archive.")
    found = []
    for info in infos:
        name = member_name(info)
        where = f"{path}: member {name!r}"
        if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"):
            raise ReadError(f"{where} points outside the archive (an absolute path or '..'); the archive is "
                            "refused, nothing of it was unpacked: check where it came from.")
        if any(unicodedata.category(ch) == "Cc" for ch in name):
            raise ReadError(f"{where} has control characters in its name; the archive is refused, nothing of it "
                            "was unpacked: check where it came from.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ReadError(f"{where} is a symbolic link; the archive is refused, nothing of it was unpacked "
                            "(a link may point anywhere): zip the files themselves.")
        if info.is_dir() or LITTER.search(name):
            continue
        if info.flag_bits & ENCRYPTED_FLAG:
            raise ReadError(f"{where} is encrypted; zip the attachments again without a password.")
        if info.compress_type not in UNPACKED_METHODS:
            raise ReadError(f"{where} is compressed with method {info.compress_type} (only stored and deflate "
                            "are unpacked); zip the attachments again with the standard (deflate) method.")
        found.append(Member(name, info))
    return found


def unpack(path: Path, targets: dict[Member, Path], max_unpacked_mb: float) -> None:
    """Write each member to its target, once the whole archive passed `check_archive` (its unpacked size,
    entry count and per-entry ratio: a zip bomb is refused before anything is written). The targets are
    the caller's: nothing the archive says decides where a byte goes. Each write is still bounded, should
    the archive change in between."""
    check_archive(path, max_unpacked_mb)
    budget = int(max_unpacked_mb * 1e6)
    try:
        with zipfile.ZipFile(path) as archive:
            for member, target in targets.items():
                with archive.open(member.info) as source, open(target, "xb") as out:
                    while chunk := source.read(READ_BYTES):
                        budget -= len(chunk)
                        if budget < 0:
                            raise ReadError(f"{path}: unpacks to more than {max_unpacked_mb:g} MB "
                                            "(POLICYQA_MAX_UNPACKED_MB); check where it came from.")
                        out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ReadError(f"{path}: not a readable zip archive ({exc.__class__.__name__}: {exc}); zip the "
                        "attachments again, or send them one by one.") from exc


def without_member(path: Path, name: str) -> int:
    """Rewrite the archive without the member `name` (and the sidecar a member of that name may have),
    replacing it atomically; returns how many entries are left. Nothing changes if it has no such member."""
    listed = members(path)
    side = str(PurePosixPath(name).with_suffix(".meta.json"))
    gone = [m for m in listed if m.name in (name, side)]
    if not any(m.name == name for m in gone):
        return len(listed)
    kept = [m for m in listed if m not in gone]
    tmp = path.with_name(f".{path.name}.rewrite.tmp")  # hidden: no ingest reads it, should it stay behind
    try:
        with zipfile.ZipFile(path) as old, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as new:
            for m in kept:  # under the decoded name, which zipfile writes as UTF-8 with the flag set
                with old.open(m.info) as source, new.open(m.name, "w") as out:
                    shutil.copyfileobj(source, out, READ_BYTES)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(kept)
