"""Day one with the law library: `policyqa serve --ingest` over corpus/ (the laws of the education scope due, as
on a fresh install) imports them in the background; meanwhile an upload is indexed and answered, and a Ctrl-C
stops the server in seconds, the next start resuming the import.

    .venv/bin/python -m benches.day_one [--data /tmp/day-one] [--out benches/results/day-one.json]

Steps, timed: start; 30 s into the import, upload a small document and wait for its job; ask its question;
SIGINT the server, time its exit, read the job journal; start again and read the resumed job's progress.
The data folder starts with the index of corpus/ copied from data/ when there is one (else the start ingests it)
and no embedding cache, so the import embeds for real.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benches.common import ROOT, log, machine_info

UPLOAD = ("qingxi-after-school.txt", "青溪县课后服务实施办法\n一、课后服务由学校统筹安排,每天结束时间不早于下午5点30分。\n"
          "二、课后服务经费由县财政按每生每学期200元标准补助。\n")
QUESTION = "青溪县课后服务每生每学期补助多少钱?"


def start(data: Path, port: int, log_file) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env.update(POLICYQA_DATA_DIR=str(data), POLICYQA_CORPUS_DIR=str(ROOT / "corpus"),
               POLICYQA_LAWS_AT_START="education", POLICYQA_PORT=str(port))
    return subprocess.Popen([sys.executable, "-m", "policyqa.cli", "serve", "--ingest"], cwd=ROOT, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT)


def health(url: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url + "/health", timeout=2)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"no /health within {timeout:.0f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path("/tmp/policyqa-day-one"))
    p.add_argument("--port", type=int, default=8769)
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "day-one.json")
    args = p.parse_args()
    shutil.rmtree(args.data, ignore_errors=True)
    args.data.mkdir(parents=True)
    for name in ("index", "answer_sentences"):
        if (ROOT / "data" / name).is_dir():
            shutil.copytree(ROOT / "data" / name, args.data / name)
    url = f"http://127.0.0.1:{args.port}"
    result = {"machine": machine_info(), "command": "python -m benches.day_one " + " ".join(sys.argv[1:])}
    with open(args.data / "server.log", "ab") as server_log:
        server = start(args.data, args.port, server_log)
        try:
            result["first_start"] = health(url).get("laws_import")
            log(f"started; laws import: {result['first_start']}")
            time.sleep(30)
            sent = time.monotonic()
            job = httpx.post(url + "/api/documents", files={"file": (UPLOAD[0], UPLOAD[1].encode())}).json()["job_id"]
            while (done := httpx.get(f"{url}/api/jobs/{job}").json())["status"] in ("queued", "running"):
                time.sleep(0.2)
            laws = httpx.get(url + "/health").json().get("laws_import")
            answer = httpx.post(url + "/api/ask", json={"question": QUESTION}, timeout=60).json()
            result["upload"] = {"seconds": round(time.monotonic() - sent, 2), "status": done["status"],
                                "message": done["message"], "laws_import_then": laws,
                                "answer": answer["answer"], "cited": [c["doc_id"] for c in answer["citations"]]}
            log(f"upload: {result['upload']}")
            stopping = time.monotonic()
            server.send_signal(signal.SIGINT)
            server.wait(120)
            with sqlite3.connect(args.data / "jobs.db") as db:
                unfinished = db.execute("SELECT id, kind, status FROM jobs WHERE finished_at IS NULL").fetchall()
            result["stop"] = {"seconds": round(time.monotonic() - stopping, 2), "returncode": server.returncode,
                              "unfinished_jobs": unfinished}
            log(f"stop: {result['stop']}")
            server = start(args.data, args.port, server_log)
            health(url)
            time.sleep(10)
            result["second_start"] = httpx.get(url + "/health").json().get("laws_import")
            log(f"second start: {result['second_start']}")
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGINT)
                server.wait(120)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
