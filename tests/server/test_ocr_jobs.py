"""An uploaded scan is OCR'd in its job, whose message names the page while it runs (GET /api/jobs/{id})."""

from __future__ import annotations

import re
import time

from uploading import local_client, upload

from benches.scans import ScanWriter, save_pdf


def test_a_scan_upload_reports_its_pages(hashing_app, tmp_path):
    w = ScanWriter()
    for page, text in enumerate(["一、工作目标\n到2025年,全县建成书香校园示范校15所。",
                                 "二、任务分工\n开展师生共读活动由教研室牵头,基教股协助。",
                                 "三、经费保障\n每年安排阅读专项经费80万元。"]):
        if page:
            w.page_break()
        w.text(text)
    scan = save_pdf(w.pages(), tmp_path / "scan.pdf")
    with local_client(hashing_app) as c:
        r = upload(c, "青山县书香校园建设方案.pdf", scan.read_bytes())
        assert r.status_code == 202, r.text
        job_id, seen, deadline = r.json()["job_id"], set(), time.monotonic() + 180
        while (job := c.get(f"/api/jobs/{job_id}").json())["status"] not in ("done", "failed"):
            seen.add(job["message"])
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        assert job["status"] == "done", job
        pages = [m for m in seen if re.fullmatch(r"reading 青山县书香校园建设方案\.pdf: OCR page [123] of 3", m)]
        assert pages, seen  # each page takes a second or more: the poll sees at least one
        docs = {d["doc_id"]: d for d in c.get("/api/documents").json()}
        assert docs["青山县书香校园建设方案"]["n_clauses"] >= 3


def test_a_scan_upload_can_be_cancelled_while_its_pages_are_read(hashing_app, tmp_path):
    w = ScanWriter()
    for page in range(8):
        if page:
            w.page_break()
        w.text(f"第{page + 1}条\n青山县书香校园建设工作第{page + 1}项任务由教研室牵头,基教股协助。")
    scan = save_pdf(w.pages(), tmp_path / "scan.pdf")
    with local_client(hashing_app) as c:
        job_id = upload(c, "青山县书香校园长文件.pdf", scan.read_bytes()).json()["job_id"]
        deadline = time.monotonic() + 180
        while "OCR page" not in (job := c.get(f"/api/jobs/{job_id}").json())["message"]:
            assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(0.05)
        r = c.post(f"/api/jobs/{job_id}/cancel")
        assert r.status_code == 202 and r.json()["message"].startswith("cancel requested"), r.text
        while (job := c.get(f"/api/jobs/{job_id}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        assert job["status"] == "cancelled", job
        assert job["message"].startswith("cancelled on request: 青山县书香校园长文件.pdf was not indexed"), job
        assert "青山县书香校园长文件" not in {d["doc_id"] for d in c.get("/api/documents").json()}
        assert c.get("/api/quarantine").json() == []  # discarded, not kept as a failure
        uploads = tmp_path / "data" / "uploads"
        assert not any(p.name.endswith(".pdf") for p in uploads.iterdir()) if uploads.exists() else True
        again = c.post(f"/api/jobs/{job_id}/cancel")
        assert again.status_code == 409 and "is cancelled" in again.json()["detail"]
        assert c.post("/api/jobs/nope/cancel").status_code == 404
