"""Old Word and WPS files: .doc (Word 97-2003), .wps (Kingsoft WPS Writer), .dps (WPS Presentation).

LibreOffice headless converts them (`soffice --headless --convert-to`): word-processing files to .docx, read
by `ingest.readers.read_docx` so native tables survive as " | " rows; presentations to PDF, read by
`read_pdf` so each slide is a page. A Kingsoft .wps is the Word 97 binary format with a WPS stream added
(and WPS may save a .docx under the .wps name): LibreOffice recognises both by content. WPS spreadsheets
(.et) are left to the spreadsheet module, which may call `convert` here.

Each conversion runs in a temporary folder of its own with a LibreOffice profile of its own
(-env:UserInstallation), so conversions running side by side, or a profile left locked by a killed one,
never meet. It has a time limit below the ingest sandbox's per-file limit, and runs in a process group of
its own, killed whole when the limit passes or the sandbox child (its parent) dies: LibreOffice's launcher
(oosplash) starts soffice.bin as its own child, which would outlive it.

Memory: the converter inherits the sandbox child's address-space limit (RLIMIT_AS, POLICYQA_PARSE_MEMORY_MB,
per process). It is kept on purpose, not lifted: LibreOffice's importers parse untrusted binary files too,
and a process cannot raise its hard limit anyway. LibreOffice needs about 512 MB of address space to start
(under 448 MB it writes nothing or aborts, benches/results/formats-office.json); 768 MB converted a
270,000-character (~400-page) .doc. Below SOFFICE_MIN_MEMORY_MB the reader says so instead of trying.

Without LibreOffice, a .doc is read by antiword when it is installed (no tables: its text only).
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ingest.readers import CELL_SEP, Read, ReadError, read_docx, read_pdf

SUFFIXES = (".doc", ".wps", ".dps")

# The file converted to, and the LibreOffice export filter, per suffix.
TARGETS = {".doc": "docx", ".wps": "docx", ".dps": "pdf", ".et": "xlsx"}
FILTERS = {"docx": "docx:MS Word 2007 XML", "pdf": "pdf:impress_pdf_Export", "xlsx": "xlsx:Calc MS Excel 2007 XML",
           "doc": "doc:MS Word 97", "ppt": "ppt:MS PowerPoint 97"}  # the last two write samples (benches/)
# The Debian package with the LibreOffice module a suffix needs, and a library of that module.
PACKAGES = {".doc": "libreoffice-writer-nogui", ".wps": "libreoffice-writer-nogui",
            ".dps": "libreoffice-impress-nogui", ".et": "libreoffice-calc-nogui",
            ".fodp": "libreoffice-impress-nogui"}
MODULE_LIBRARIES = {"libreoffice-writer-nogui": "libswlo.so", "libreoffice-impress-nogui": "libsdlo.so",
                    "libreoffice-calc-nogui": "libsclo.so"}

CONVERT_TIMEOUT_S = 90.0  # at most; and at most SANDBOX_SHARE of the sandbox's per-file limit
SANDBOX_SHARE = 0.75  # the rest of the sandbox's time is for reading the converted file
SANDBOX_TIMEOUT_S = 120.0  # ingest.sandbox.ParseLimits' default, when POLICYQA_PARSE_TIMEOUT_S is not set
KILL_AFTER_S = 5  # a converter that ignores SIGTERM is killed this long after it
SOFFICE_MIN_MEMORY_MB = 512
# A zip saved under an old name (a .docx named .wps) is checked as an archive before LibreOffice unpacks it,
# with the setting's default: POLICYQA_MAX_UNPACKED_MB does not reach format modules.
ZIP_LIMIT_MB = 200.0

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .doc, .wps, .et, .dps, encrypted OOXML
PR_SET_PDEATHSIG = 1
TIMED_OUT = (124, 137)  # coreutils' timeout: the command timed out (137: and had to be killed)


def find_soffice() -> str | None:
    """LibreOffice's `soffice` on PATH (Debian: /usr/bin/soffice), else None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.lru_cache(maxsize=4)
def soffice_version(soffice: str) -> str:
    """E.g. "LibreOffice 7.4.7.2" (asked once per process: `soffice --version` takes ~0.1 s)."""
    try:
        out = subprocess.run([soffice, "--version"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return "LibreOffice"
    match = re.search(r"(LibreOffice|OpenOffice)\S*\s+([\d.]+)", out)
    return f"{match.group(1)} {match.group(2)}" if match else "LibreOffice"


def convert_timeout() -> float:
    """Below the sandbox's per-file limit, so a stuck conversion fails with its own message, the sandbox
    child still alive. The child is not told its limit: it reads POLICYQA_PARSE_TIMEOUT_S as the parent did."""
    try:
        sandbox = float(os.environ.get("POLICYQA_PARSE_TIMEOUT_S", SANDBOX_TIMEOUT_S))
    except ValueError:
        sandbox = SANDBOX_TIMEOUT_S
    return max(1.0, min(CONVERT_TIMEOUT_S, SANDBOX_SHARE * sandbox))


def read(path: Path) -> Read:
    suffix = path.suffix.lower()
    check_kind(path)
    soffice = find_soffice()
    if soffice is None:
        if suffix == ".doc" and shutil.which("antiword"):
            return read_antiword(path)
        raise ReadError(f"{path}: reading {suffix} files needs LibreOffice, which is not installed; install it "
                        f"(Debian: apt-get install {PACKAGES[suffix]}) and ingest the file again.")
    target = TARGETS[suffix]
    with tempfile.TemporaryDirectory(prefix="policyqa-convert-") as tmp:
        converted = convert(path, target, Path(tmp), soffice)
        try:
            got = read_docx(converted) if target == "docx" else read_pdf(converted)
        except ReadError as exc:
            raise ReadError(str(exc).replace(str(converted), f"{path} (converted by LibreOffice)")) from exc
    text = got.text if isinstance(got, Read) else got
    if not text.strip():
        raise ReadError(f"{path}: LibreOffice found no text in it (pictures only?); save it as PDF and ingest that.")
    info = {"converter": soffice_version(soffice)}
    if isinstance(got, Read):  # a presentation's slides OCR'd as a PDF
        return Read(text, got.method if got.method != "read" else "converted", {**got.info, **info})
    return Read(text, "converted", info)


def convert(path: Path, target: str, workdir: Path, soffice: str | None = None,
            timeout_s: float | None = None) -> Path:
    """Convert `path` with LibreOffice headless to `target` ("docx", "pdf", "xlsx") inside `workdir` (an
    empty folder the caller removes); returns the converted file, or raises ReadError with one line."""
    suffix = path.suffix.lower()
    soffice = soffice or find_soffice()
    package = PACKAGES.get(suffix, "libreoffice-writer-nogui")
    if soffice is None:
        raise ReadError(f"{path}: reading {suffix} files needs LibreOffice, which is not installed; install it "
                        f"(Debian: apt-get install {package}) and ingest the file again.")
    if not module_installed(soffice, package):
        raise ReadError(f"{path}: reading {suffix} files needs LibreOffice's {package.split('-')[1].title()} "
                        f"module; install it (Debian: apt-get install {package}) and ingest the file again.")
    memory_mb = address_space_mb()
    if memory_mb is not None and memory_mb < SOFFICE_MIN_MEMORY_MB:
        raise ReadError(f"{path}: LibreOffice needs about {SOFFICE_MIN_MEMORY_MB} MB of memory to convert "
                        f"{suffix} files, the parser may use {memory_mb} MB; raise POLICYQA_PARSE_MEMORY_MB.")
    timeout_s = timeout_s or convert_timeout()
    # The file under a plain name of its own: a name starting with "-" or holding a comma is read as an option
    source, outdir = workdir / f"source{suffix}", workdir / "out"
    shutil.copyfile(path, source)
    command = [soffice, f"-env:UserInstallation={(workdir / 'profile').as_uri()}", "--headless", "--invisible",
               "--norestore", "--nologo", "--nodefault", "--nolockcheck", "--nofirststartwizard",
               "--convert-to", FILTERS[target], "--outdir", str(outdir), str(source)]
    if timer := shutil.which("timeout"):
        # coreutils' timeout signals the whole process group (oosplash and soffice.bin) and, with the
        # SIGTERM it gets when its parent dies (die_with_parent), passes that on too
        command = [timer, f"--kill-after={KILL_AFTER_S}", f"{timeout_s:g}", *command]
    try:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
                                 preexec_fn=die_with_parent())
    except OSError as exc:
        raise ReadError(f"{path}: could not start LibreOffice ({exc}); check the installation "
                        f"(Debian: {package}).") from exc
    try:
        output, _ = child.communicate(timeout=timeout_s + KILL_AFTER_S + 5)  # coreutils' timeout acts first
        code = child.returncode
    except subprocess.TimeoutExpired:
        output, code = b"", TIMED_OUT[0]
    if code in TIMED_OUT:
        kill_group(child)
        raise ReadError(f"{path}: LibreOffice took longer than {timeout_s:g} s to convert it; the file may be "
                        "damaged or very large: check it, or re-save it as .docx or PDF.")
    converted = outdir / f"source.{target}"
    if converted.exists() and converted.stat().st_size > 0:
        return converted
    said = output.decode("utf-8", "replace")
    if is_protected(path):
        raise ReadError(f"{path}: the file is password-protected; save a copy without the password and ingest that.")
    if "could not be loaded" in said or "no export filter" in said.lower():
        raise ReadError(f"{path}: LibreOffice cannot open it: the file is damaged or not really a {suffix} file; "
                        "open it in WPS or Word and re-save it as .docx.")
    last = next((line for line in reversed(said.splitlines()) if line.strip() and "javaldx" not in line), "")
    raise ReadError(f"{path}: LibreOffice wrote no {target} (exit code {code}{'; ' + last.strip() if last else ''}); "
                    "open it in WPS or Word and re-save it as .docx.")


# The stream an OLE compound file of each kind holds (its name is in the file's directory, in UTF-16).
STREAMS = {".doc": "WordDocument", ".wps": "WordDocument", ".dps": "PowerPoint Document", ".et": "Workbook"}
# What else bureaus publish under these names, and LibreOffice opens by content: OOXML or OpenDocument (a
# zip), RTF, and Word's HTML / single-file web page (MHT) exports.
OTHER_KINDS = (b"PK\x03\x04", b"{\\rtf", b"<", b"MIME-Version", b"\xef\xbb\xbf<")


def check_kind(path: Path) -> None:
    """Refuse what LibreOffice would import as plain text: an empty file, an OLE file without the stream of
    its kind (a damaged one), bytes that are none of the kinds above. Encrypted files pass: conversion
    says so."""
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(f"{path}: the file is empty; add its content or remove it from the corpus.")
    if data.startswith(CFB_MAGIC):
        stream = STREAMS.get(suffix, "WordDocument")
        if stream.encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            return
        raise ReadError(f"{path}: damaged, or not a {suffix} file (it has no {stream} stream); open it in WPS or "
                        "Word and re-save it as .docx.")
    if data.startswith(b"PK\x03\x04"):
        from ingest.readers import check_archive  # defined after the format modules are found

        check_archive(path, ZIP_LIMIT_MB)
    elif not data.lstrip().startswith(OTHER_KINDS):
        raise ReadError(f"{path}: not a {suffix} file (neither the Office binary format, nor a .docx, RTF or web "
                        "page saved under that name); check the file.")


def module_installed(soffice: str, package: str) -> bool:
    """Whether LibreOffice's module of `package` (Writer, Calc, Impress) is there; True when unsure."""
    library = MODULE_LIBRARIES.get(package)
    program = Path(os.path.realpath(soffice)).parent
    if library is None or not (program / "soffice.bin").exists():
        return True  # not a layout we know (a wrapper script elsewhere): let LibreOffice say
    return (program / library).exists()


def address_space_mb() -> int | None:
    """This process's address-space limit (the sandbox's), in MB; None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft >> 20


def die_with_parent():
    """A preexec_fn: the converter gets SIGTERM when the process that started it dies (the sandbox kills its
    child at the sandbox's time limit), so it never runs on for no one. Linux only; elsewhere None."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:  # in the forked child: libc calls only
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def kill_group(child: subprocess.Popen) -> None:
    """Kill the converter's process group (the launcher, soffice.bin, and coreutils' timeout)."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def is_protected(path: Path) -> bool:
    """Whether an OLE compound file is encrypted: an encrypted OOXML package (its EncryptedPackage stream),
    or a Word 97 binary (.doc, .wps) whose FIB sets fEncrypted. The WordDocument stream is large enough to
    sit in the file's own sectors, so its FIB (magic 0xA5EC) starts at a sector boundary."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if not data.startswith(CFB_MAGIC):
        return False
    if "EncryptedPackage".encode("utf-16-le") in data:
        return True
    sector = 1 << int.from_bytes(data[30:32], "little")
    if sector not in (512, 4096):
        return False
    for offset in range(sector, len(data) - 12, sector):
        if data[offset:offset + 2] == b"\xec\xa5" and 0x65 <= int.from_bytes(data[offset + 2:offset + 4], "little") <= 0x0200:
            return bool(int.from_bytes(data[offset + 10:offset + 12], "little") & 0x0100)
    return False


def read_antiword(path: Path) -> Read:
    """A .doc through antiword (Debian: antiword), when LibreOffice is missing: UTF-8 text, no page breaks;
    its table rows ("|a|b|") become " | " rows."""
    try:
        done = subprocess.run(["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)], capture_output=True,
                              timeout=convert_timeout(), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise ReadError(f"{path}: antiword took longer than {convert_timeout():g} s; check the file, or install "
                        "LibreOffice (Debian: libreoffice-writer-nogui).") from exc
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not done.stdout.strip():
        if is_protected(path) or any("encrypt" in line.lower() for line in said):
            raise ReadError(f"{path}: the file is password-protected; save a copy without the password and "
                            "ingest that.")
        reason = said[-1] if said else f"exit code {done.returncode}"
        raise ReadError(f"{path}: antiword cannot read it ({reason}); install LibreOffice (Debian: "
                        "libreoffice-writer-nogui) or re-save it as .docx.")
    lines = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        stripped = line.strip()
        if len(stripped) > 1 and stripped.startswith("|") and stripped.endswith("|"):
            line = CELL_SEP.join(cell.strip() for cell in stripped[1:-1].split("|"))
        lines.append(line)
    return Read("\n".join(lines), "converted", {"converter": "antiword"})
