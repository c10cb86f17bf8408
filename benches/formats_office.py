"""How fast old Word files are converted (LibreOffice headless) and OFD files read, files per second.

    python -m benches.formats_office [--repeat 3] [--wps PATH ...] [--out benches/results/formats-office.json]

Samples are made from the five corpus policies (benches/office_samples.py): each as a Word 97 .doc (saved
by LibreOffice from a .docx) and as an OFD (A4, 16 pt, lines split into several TextObjects). Each file is
read the way the ingest sandbox's child reads it (ingest.readers.read_file, in this process), one after the
other; then the .doc files by two threads at once (two conversions side by side, each with its own profile).
A large .doc (the first policy sixty times, ~270,000 characters) is converted once under the sandbox's default
address-space limit, and the smallest limit LibreOffice converts under is probed. --wps adds real .wps
files (WPS Office's), converted once each.

Figures (results/formats-office.json; 2 CPUs shared with other engineers' test runs, load average ~4.5,
LibreOffice 7.4.7.2 from Debian 12): .doc 0.57 files/s one after the other (1.7-2.3 s a file: a fresh profile,
soffice's start, the conversion, reading the .docx; a bare conversion took 0.8 s on the idle machine), 0.82
files/s with two at once; OFD 74 files/s (627 pages/s, 9-20 ms a file). The ~400-page .doc took 5.4 s under
1024 MB; LibreOffice aborts or writes nothing under 448 MB and converts under 512 MB (hence
office.SOFFICE_MIN_MEMORY_MB). Two real WPS files found in public repositories (a WPS Office 10.1 .wps, the
Word 97 format with WPS streams, and a WPS 12.1 .docx saved as .wps) converted in 2.0 and 2.3 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benches.common import ROOT, log, machine_info, shown, table
from benches.office_samples import Block, policy_blocks, write_doc, write_ofd
from ingest import readers
from ingest.formats import office

POLICIES = sorted((ROOT / "corpus").glob("*.txt"))


def text_blocks(path: Path) -> list[Block]:
    if path.name == "renhuai-brand-schools-2017.txt":
        return policy_blocks(path)  # with its task table native
    lines = [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines()]
    return [("p", line) for line in lines if line]


def timed_reads(paths: list[Path], repeat: int) -> dict:
    """Each file read `repeat` times in turn; the best round and every file's median."""
    rounds, per_file = [], {p: [] for p in paths}
    for _ in range(repeat):
        started = time.perf_counter()
        for path in paths:
            t = time.perf_counter()
            readers.read_file(path)
            per_file[path].append(time.perf_counter() - t)
        rounds.append(time.perf_counter() - started)
    best = min(rounds)
    return {"files": len(paths), "rounds_s": [round(r, 3) for r in rounds],
            "files_per_s": round(len(paths) / best, 2),
            "per_file_median_s": {p.name: round(sorted(v)[len(v) // 2], 3) for p, v in per_file.items()}}


def parallel_reads(paths: list[Path], workers: int = 2) -> dict:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        texts = list(pool.map(lambda p: readers.read_file(p).text, paths * workers))
    wall = time.perf_counter() - started
    return {"workers": workers, "files": len(texts), "wall_s": round(wall, 3),
            "files_per_s": round(len(texts) / wall, 2), "all_read": all(t.strip() for t in texts)}


PROBE = """
import resource, sys, tempfile
from pathlib import Path
from ingest import readers
from ingest.formats import office
limit = int(sys.argv[2]) << 20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
office.SOFFICE_MIN_MEMORY_MB = 0  # try anyway
with tempfile.TemporaryDirectory() as tmp:
    try:
        office.convert(Path(sys.argv[1]), "docx", Path(tmp))
        print("ok")
    except readers.ReadError as exc:
        print("failed:", exc)
"""


def memory_probe(doc: Path, limits_mb: tuple[int, ...]) -> dict:
    """Whether the conversion succeeds under each address-space limit (as the sandbox sets it)."""
    out = {}
    for mb in limits_mb:
        done = subprocess.run([sys.executable, "-c", PROBE, str(doc), str(mb)], capture_output=True, text=True,
                              cwd=ROOT, timeout=300)
        out[str(mb)] = (done.stdout.strip() or done.stderr.strip().splitlines()[-1])[:160]
    return out


def large_conversion(doc: Path, memory_mb: int = 1024) -> dict:
    child = (f"import resource, time\nfrom pathlib import Path\nfrom ingest import readers\n"
             f"resource.setrlimit(resource.RLIMIT_AS, ({memory_mb} << 20, {memory_mb} << 20))\n"
             f"t = time.perf_counter(); text = readers.read_file(Path({str(doc)!r})).text\n"
             f"print(len(text), round(time.perf_counter() - t, 2))")
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        return {"memory_mb": memory_mb, "error": done.stderr.strip().splitlines()[-1][:200]}
    chars, seconds = done.stdout.split()
    return {"memory_mb": memory_mb, "size_mb": round(doc.stat().st_size / 1e6, 2), "chars": int(chars),
            "seconds": float(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wps", type=Path, nargs="*", default=[], help="real .wps files to convert once each")
    parser.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "formats-office.json")
    args = parser.parse_args()
    soffice = office.find_soffice()
    if soffice is None:
        sys.exit("LibreOffice is not installed (Debian: libreoffice-writer-nogui)")
    result = {"machine": machine_info(), "converter": office.soffice_version(soffice),
              "address_space_limit_mb": office.address_space_mb()}
    with tempfile.TemporaryDirectory(prefix="bench-office-") as tmp:
        folder = Path(tmp)
        log("writing samples ...")
        docs, ofds = [], []
        for policy in POLICIES:
            blocks = text_blocks(policy)
            docs.append(write_doc(folder / f"{policy.stem}.doc", blocks))
            ofds.append(write_ofd(folder / f"{policy.stem}.ofd", blocks))
        chars = {p.stem: len(readers.read_file(p).text) for p in docs}
        pages = {p.stem: readers.read_file(p).text.count(readers.PAGE_BREAK) + 1 for p in ofds}
        result["samples"] = {"policies": [shown(p) for p in POLICIES], "doc_kb": {p.stem: round(p.stat().st_size / 1e3)
                             for p in docs}, "doc_chars": chars, "ofd_pages": pages,
                             "ofd_kb": {p.stem: round(p.stat().st_size / 1e3) for p in ofds}}
        log("reading .doc ...")
        result["doc"] = timed_reads(docs, args.repeat)
        result["doc_two_at_once"] = parallel_reads(docs)
        log("reading .ofd ...")
        result["ofd"] = timed_reads(ofds, args.repeat)
        result["ofd"]["pages_per_s"] = round(sum(pages.values()) / min(result["ofd"]["rounds_s"]), 1)
        log("a large .doc ...")
        large = write_doc(folder / "large.doc", text_blocks(POLICIES[0]) * 60)
        result["large_doc"] = large_conversion(large)
        log("memory probe ...")
        result["memory_probe"] = memory_probe(docs[0], (384, 448, 512, 768))
        if args.wps:
            result["real_wps"] = {}
            for path in args.wps:
                t = time.perf_counter()
                try:
                    got = readers.read_file(path)
                    result["real_wps"][path.name] = {"seconds": round(time.perf_counter() - t, 2),
                                                     "chars": len(got.text), "method": got.method, **got.info}
                except readers.ReadError as exc:
                    result["real_wps"][path.name] = {"error": str(exc)}
    result["rusage_children_max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(table(["format", "files", "files/s (best of rounds)", "rounds (s)"], [
        [".doc (LibreOffice)", result["doc"]["files"], result["doc"]["files_per_s"], result["doc"]["rounds_s"]],
        [".doc, 2 at once", result["doc_two_at_once"]["files"], result["doc_two_at_once"]["files_per_s"],
         [result["doc_two_at_once"]["wall_s"]]],
        [".ofd", result["ofd"]["files"], result["ofd"]["files_per_s"], result["ofd"]["rounds_s"]],
    ]))
    print(f"OFD pages/s: {result['ofd']['pages_per_s']}; large .doc: {result['large_doc']}")
    print(f"memory probe (MB -> result): {result['memory_probe']}")
    print(f"load average: {result['machine']['load_average']}; written to {shown(args.out)}")


if __name__ == "__main__":
    main()
