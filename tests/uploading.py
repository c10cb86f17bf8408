"""Uploading over HTTP in tests: a realistic policy document, a multipart body built by hand, job polling."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient
from helpers import DATA

LOCAL = ("127.0.0.1", 50000)  # a TestClient client address on this machine

# A small but realistic policy document (tests/data): cover notice, 一、/(一) headings, a 牵头 line and a
# unique fact.
LABOUR_DOC = (DATA / "qingxi-labour-plan.txt").read_text(encoding="utf-8")
LABOUR_NAME = "青溪县劳动教育实施方案.txt"
LABOUR_ID = "青溪县劳动教育实施方案"
LABOUR_META = {"title": "青溪县中小学劳动教育实施方案", "doc_number": "青教发〔2024〕9号", "issuer": "青溪县教育局",
               "date": "2024-03-06", "doc_type": "实施方案", "source": "test fixture"}
LABOUR_QUESTION = "青溪县到2025年底要建成多少个县级劳动教育实践基地?"


def multipart(filename: str, content: bytes, metadata: str | None = None) -> tuple[bytes, dict]:
    """A multipart body built by hand, so the file name reaches the server byte for byte."""
    boundary = "policyqa-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"]
    if metadata is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
                     f'{metadata}\r\n'.encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def upload(client, filename: str, content: bytes, metadata: dict | str | None = None, **headers):
    meta = json.dumps(metadata, ensure_ascii=False) if isinstance(metadata, dict) else metadata
    body, h = multipart(filename, content, meta)
    return client.post("/api/documents", content=body, headers=h | headers)


def poll(client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def local_client(app) -> TestClient:
    """A client on this machine addressing it by a loopback name, as a local writer without a key must."""
    return TestClient(app, client=LOCAL, base_url="http://127.0.0.1")
