"""OCR throughput and accuracy: scans rendered from the corpus (benches/scans.py) read through the ingest
sandbox as `policyqa ingest` reads them (pdfium renders each page, RapidOCR reads it, one child process).

1. throughput: a --pages-page scanned PDF of the corpus texts; pages per second overall, seconds per page
   (p50, p95; the first page also loads the engine), the child's peak memory and address space;
2. accuracy: the Renhuai plan (corpus/renhuai-brand-schools-2017.txt) scanned, character accuracy of the OCR
   text against the file (1 - edit distance / characters, NFKC, whitespace ignored), confidence per page.

    .venv/bin/python -m benches.formats_ocr --out benches/results/formats-ocr.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benches.common import ROOT, log, machine_info, percentile
from benches.scans import ScanWriter, char_accuracy, save_pdf, scan_of
from ingest.sandbox import Sandbox
from policyqa.settings import Settings

CORPUS = ROOT / "corpus"
RENHUAI = CORPUS / "renhuai-brand-schools-2017.txt"


def child_memory_mb(pid: int) -> dict:
    """Peak resident memory (VmHWM) and peak address space (VmPeak) of the sandbox child."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmHWM", "VmPeak"):
            out[key] = round(int(line.split()[1]) / 1024)
    return out


def timed_read(path: Path) -> dict:
    """Read `path` in a fresh sandbox, timing each OCR'd page."""
    stamps: list[float] = []
    with Sandbox(on_page=lambda _path, done, total: stamps.append(time.perf_counter())) as sandbox:
        pid = sandbox._start().pid
        load = list(os.getloadavg())
        started = time.perf_counter()
        got = sandbox.read(path)
        seconds = time.perf_counter() - started
        memory = child_memory_mb(pid)
    per_page = [b - a for a, b in zip([started, *stamps], stamps, strict=False)]
    return {"pages": len(stamps), "seconds": round(seconds, 1), "pages_per_s": round(len(stamps) / seconds, 3),
            "s_per_page_p50": round(percentile(per_page, 50), 2),
            "s_per_page_p95": round(percentile(per_page, 95), 2),
            "first_page_s": round(per_page[0], 2), "child_memory_mb": memory,
            "load_average_before": load, "load_average_after": list(os.getloadavg()),
            "confidence_min": min(got.info["confidence"]), "text": got.text}


def corpus_scan(pages: int, folder: Path) -> Path:
    """The corpus texts, one after another (again from the first when they run out), as a scanned PDF."""
    writer = ScanWriter()
    texts = [f.read_text(encoding="utf-8") for f in sorted(CORPUS.glob("*.txt"))]
    k = 0
    while writer.page_count <= pages:
        writer.text(texts[k % len(texts)])
        writer.page_break()
        k += 1
    return save_pdf(writer.pages()[:pages], folder / f"corpus-{pages}-pages.pdf")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, default=50, help="pages of the throughput scan")
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "formats-ocr.json")
    args = p.parse_args()
    result: dict = {"machine": machine_info()}
    with tempfile.TemporaryDirectory(prefix="policyqa-ocr-") as tmp:
        folder = Path(tmp)
        log(f"rendering a {args.pages}-page scan of the corpus ...")
        scan = corpus_scan(args.pages, folder)
        log(f"OCR of {scan.name} ({scan.stat().st_size / 1e6:.1f} MB) ...")
        throughput = timed_read(scan)
        throughput.pop("text")
        mb, limit = scan.stat().st_size / 1e6, Settings.model_fields["max_file_mb"].default
        result["throughput"] = {"file": scan.name, "mb": round(mb, 1), "default_max_file_mb": limit,
                                "within_default_max_file_mb": mb <= limit, **throughput}
        log(json.dumps(result["throughput"]))

        log("OCR of the Renhuai plan's scan ...")
        writer = scan_of(RENHUAI.read_text(encoding="utf-8"), folder / "renhuai-scan.pdf")
        renhuai = timed_read(folder / "renhuai-scan.pdf")
        accuracy = char_accuracy(renhuai.pop("text"), RENHUAI.read_text(encoding="utf-8"))
        result["accuracy"] = {"file": "renhuai-brand-schools-2017.txt, scanned",
                              "rendered_pages": writer.page_count,
                              "char_accuracy": round(accuracy, 4), **renhuai}
        log(json.dumps(result["accuracy"]))
    result["machine"]["load_average_end"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
