"""Read untrusted files in a child process with a memory limit and a time limit.

A hostile file (a zip bomb, a PDF that never ends) then fails its own read with one clear message, and the
memory it takes is the child's, never the server's. The child is `python -m ingest.sandbox`: a fresh
interpreter (no fork of a threaded server) that imports the readers only (no numpy, FAISS or models). It
is started on first use and reads file after file (starting one costs ~0.1 s, hundreds of files would
pay it hundreds of times); after a failure it is killed and the next file gets a new one.

Protocol: one JSON line per request on the child's stdin ({"path": ...}), one JSON line per reply on its
stdout ({"text": ...}, {"error": message} or {"memory": true}), after which an OCR sends one line per page
({"progress": [pages done, pages to OCR]}). The time limit is per file, and per page while pages come:
a 50-page scan takes minutes, each page seconds. OCR also gets more memory (ingest.ocr.OCR_MEMORY_MB).

Stopping: Ctrl-C (or any exception in the parent, a page callback's too) ends the child with the work; a
parent that dies is noticed by its child at the next page, whose line has nowhere to go.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest import ocr
from ingest.readers import Read, ReadError, read_file

ROOT = Path(__file__).resolve().parents[1]
# Decoding text expands nothing (its memory is bounded by the file size limit), so plain text is read in
# the calling process and never waits for a child.
IN_PROCESS = (".txt", ".md")
# Told of each OCR'd page: (the file, pages done, pages to OCR).
PageProgress = Callable[[Path, int, int], None]


@dataclass(frozen=True)
class ParseLimits:
    max_unpacked_mb: float = 200.0  # an archive's unpacked size, and the most text one file may yield
    memory_mb: int = 1024  # address space of the child
    timeout_s: float = 120.0  # per file

    @classmethod
    def from_settings(cls, settings) -> ParseLimits:
        return cls(settings.max_unpacked_mb, settings.parse_memory_mb, settings.parse_timeout_s)


class Sandbox:
    """Reads files in one child process under `limits`; for one caller at a time. Use it as a context
    manager, so the child ends with the work. `on_page` hears of each OCR'd page; if it raises (a cancel),
    the child is ended and the exception goes on."""

    def __init__(self, limits: ParseLimits | None = None, on_page: PageProgress | None = None) -> None:
        self.limits = limits or ParseLimits()
        self.on_page = on_page
        self.calls = 0  # files sent to a child
        self._child: subprocess.Popen | None = None
        self._buffer = bytearray()  # what the child sent past the last line read

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_text(self, path: Path) -> str:
        """The file's text, or ReadError saying what is wrong and what to do."""
        return self.read(path).text

    def read(self, path: Path) -> Read:
        """The file's text and how it was got, or ReadError saying what is wrong and what to do."""
        if path.suffix.lower() in IN_PROCESS:
            return read_file(path, self.limits.max_unpacked_mb)
        self.calls += 1
        child = self._child or self._start()
        pages = 0  # OCR'd pages heard of
        try:
            child.stdin.write(json.dumps({"path": str(path)}).encode() + b"\n")
            while "progress" in (reply := self._reply(child, time.monotonic() + self.limits.timeout_s)):
                pages = reply["progress"][0]
                if self.on_page is not None:
                    self.on_page(path, *reply["progress"])
        except TimeoutError:
            self.close()
            what = f"OCR of page {pages + 1}" if pages else "parsing"
            raise ReadError(f"{path}: {what} took longer than {self.limits.timeout_s:g} s "
                            "(POLICYQA_PARSE_TIMEOUT_S); the file may be damaged or hostile: check it, or raise "
                            "the limit.") from None
        except (EOFError, BrokenPipeError):
            code = self.close()
            raise ReadError(f"{path}: the parser stopped (exit code {code}), perhaps past its memory limit of "
                            f"{self._memory(pages > 0)}; the file may be a zip bomb or damaged: check where it "
                            "came from.") from None
        except BaseException:
            self.close()  # Ctrl-C, or a cancel raised by on_page: the child must not read on for no one
            raise
        if "text" in reply:
            return Read(reply["text"], reply.get("method", "read"), reply.get("info", {}))
        if reply.get("memory"):
            self.close()
            raise ReadError(f"{path}: parsing needed more than {self._memory(reply.get('ocr', False))}; the file "
                            "may be a zip bomb or malformed: check where it came from, or raise the limit.")
        raise ReadError(reply["error"])

    def _memory(self, ocr_loaded: bool) -> str:
        """The child's memory limit, as a person raises it: more once the OCR engine is loaded."""
        if ocr_loaded:
            return (f"{self.limits.memory_mb + ocr.OCR_MEMORY_MB} MB (POLICYQA_PARSE_MEMORY_MB, "
                    f"{self.limits.memory_mb} MB, + {ocr.OCR_MEMORY_MB} MB for OCR)")
        return f"{self.limits.memory_mb} MB (POLICYQA_PARSE_MEMORY_MB)"

    def close(self) -> int | None:
        """End the child, if any; returns its exit code."""
        child, self._child = self._child, None
        self._buffer = bytearray()
        if child is None:
            return None
        child.kill()
        code = child.wait()
        child.stdin.close()
        child.stdout.close()
        return code

    def _start(self) -> subprocess.Popen:
        # The child imports this very code, wherever it is installed or checked out.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox", str(self.limits.memory_mb), str(self.limits.max_unpacked_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
        return self._child

    def _reply(self, child: subprocess.Popen, deadline: float) -> dict:
        """The next line; TimeoutError past the deadline, EOFError if the child died. A read may bring more
        than one line (a page's progress and the reply): the rest waits in the buffer."""
        fd = child.stdout.fileno()
        waiting = select.poll()  # not select.select: a busy server's descriptors may pass its limit of 1024
        waiting.register(fd, select.POLLIN)
        end = self._buffer.find(b"\n")
        while end < 0:  # each chunk searched once: a reply may hold up to max_unpacked_mb of text
            left = deadline - time.monotonic()
            if left <= 0 or not waiting.poll(left * 1000):
                raise TimeoutError
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise EOFError
            if (at := chunk.find(b"\n")) >= 0:
                end = len(self._buffer) + at
            self._buffer += chunk
        line, self._buffer = self._buffer[:end], self._buffer[end + 1:]
        return json.loads(line)


def read_one(path: Path, max_unpacked_mb: float) -> dict:
    """The child's reply for one file."""
    try:
        got = read_file(path, max_unpacked_mb)
    except ReadError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"memory": True, "ocr": ocr.engine_loaded()}
    except Exception as exc:  # noqa: BLE001 - a reader's bug or a library's surprise fails this file only
        return {"error": f"{path}: could not be read ({exc.__class__.__name__}: {exc}); check the file."}
    if len(got.text) > max_unpacked_mb * 1e6:
        return {"error": f"{path}: yields more than {max_unpacked_mb:g} MB of text (POLICYQA_MAX_UNPACKED_MB); "
                         "split the file, or raise the limit."}
    return {"text": got.text, "method": got.method, "info": got.info}


def serve(memory_mb: int, max_unpacked_mb: float) -> None:
    """The child: read the files named on stdin, one at a time, until stdin closes (the parent is gone)."""
    limit, with_ocr = memory_mb << 20, (memory_mb + ocr.OCR_MEMORY_MB) << 20
    # Files are parsed under the soft limit; the OCR engine raises it to the hard one when it loads (and
    # keeps it: its models stay loaded for the next file).
    resource.setrlimit(resource.RLIMIT_AS, (limit, with_ocr))
    ocr.on_engine_load = lambda: resource.setrlimit(resource.RLIMIT_AS, (with_ocr, with_ocr))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which then ends the child
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # a library's print() goes to stderr, not into the replies

    def progress(done: int, total: int) -> None:
        try:
            replies.write(json.dumps({"progress": [done, total]}) + "\n")
            replies.flush()
        except BrokenPipeError:
            os._exit(1)  # the parent is gone (killed, or it gave up on this file): stop OCR'ing for no one

    ocr.on_page = progress
    for line in sys.stdin:
        reply = read_one(Path(json.loads(line)["path"]), max_unpacked_mb)
        replies.write(json.dumps(reply) + "\n")  # ASCII JSON: any str (a lone surrogate too) comes back exactly
        replies.flush()
        if "memory" in reply:
            return  # the parse's garbage may still fill the limit; the parent starts a new child


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]))
