"""One module per file format beyond the built-in ones (ingest/readers.py), found by `ingest.readers`.

A format module defines:
    SUFFIXES: tuple[str, ...]      the lower-case suffixes it reads, e.g. (".xlsx", ".xls")
    ZIP_BASED: bool = False        the file is a zip archive: `check_archive` runs before `read`
    def read(path: Path) -> str | Read
                                   the text (tables as " | " rows, pages joined by "\\f"), or a `Read`
                                   saying how it was got (method "ocr" / "converted", details in info);
                                   raises `ReadError` with a one-line message saying what to do.

Modules import their libraries inside `read`, so finding the formats stays cheap. Modules run in the
ingest sandbox's child process (ingest/sandbox.py): memory and time are limited there.
"""
