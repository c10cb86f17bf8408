"""Reading speed of spreadsheets and zip archives (issue 14; scans: benches/formats_ocr.py, .doc and OFD:
benches/formats_office.py).

    .venv/bin/python -m benches.formats_tables [--rounds 5] [--out benches/results/formats-tables.json]

- xlsx: a 任务分工表 workbook of 500 rows (the corpus plan's ten task rows, repeated with their row number)
  written with openpyxl, read by `ingest.readers.read_file` (calamine, the zip check, rows and records).
- zip: the five corpus/ documents in one archive, read by `ingest.pipeline.prepare_documents` as an upload is
  (unpacked after the bomb check, each member parsed in the sandbox, chunked).
Files per second and rows (or members) per second, best of `--rounds`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from benches.common import ROOT, machine_info

TASKS = [("实施学校治理现代化工程", "基教股", "人事股、计财股"), ("实施平安校园保障工程", "法规安全股", "各股室"),
         ("实施特色创新课程构建工程", "教研室", "基教股"), ("实施减负增效提质工程", "基教股", "教研室"),
         ("实施教育信息化升级工程", "远教站", "基教股、人事股")]  # from corpus/renhuai-brand-schools-2017.txt
ROWS = 500


def write_workbook(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "任务分工"
    sheet.append(["序号", "具体任务", "牵头单位", "配合单位", "完成时限"])
    for i in range(ROWS):
        task, lead, assist = TASKS[i % len(TASKS)]
        sheet.append([i + 1, f"{task}(第{i + 1}项)", lead, assist, "2018年12月底前"])
    wb.save(path)
    return path


def write_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in sorted((ROOT / "corpus").glob("*.txt")):
            archive.write(f, f"附件/{f.name}")
    return path


def best(rounds: int, run) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "formats-tables.json")
    args = p.parse_args()

    from ingest.chunking import ChunkSettings
    from ingest.pipeline import prepare_documents
    from ingest.readers import read_file

    result = {"machine": machine_info(), "command": "python -m benches.formats_tables " + " ".join(sys.argv[1:])}
    with tempfile.TemporaryDirectory() as tmp:
        book = write_workbook(Path(tmp) / "任务分工表.xlsx")
        rows = read_file(book).text.count("\n")
        seconds = best(args.rounds, lambda: read_file(book))
        result["xlsx"] = {"rows": ROWS, "lines_read": rows, "kb": round(book.stat().st_size / 1024),
                          "seconds": round(seconds, 3), "files_per_s": round(1 / seconds, 1),
                          "rows_per_s": round(ROWS / seconds)}
        archive = write_zip(Path(tmp) / "附件.zip")
        report = prepare_documents([archive], ChunkSettings())
        assert report.ok and len(report.documents) == 5, report.errors
        seconds = best(args.rounds, lambda: prepare_documents([archive], ChunkSettings()))
        result["zip"] = {"members": 5, "kb": round(archive.stat().st_size / 1024), "seconds": round(seconds, 3),
                         "archives_per_s": round(1 / seconds, 2), "members_per_s": round(5 / seconds, 1)}
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
