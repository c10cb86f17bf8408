"""Server-sent events for /api/ask and the OpenAI-compatible /v1/chat/completions.

Answers are extractive and composed in one go, so streaming sends the finished text in small pieces:
runs of a few CJK characters, whole Latin words, whole citation markers such as [2].
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

from policyqa.service import AskResult

TOKEN = re.compile(r"\[\d+\]|[A-Za-z0-9][\w'’.,:;%/-]*\s*|\s+|.", re.S | re.ASCII)
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def pieces(text: str, size: int = 4) -> list[str]:
    """`text` split into small pieces that join back to it exactly."""
    out: list[str] = []
    buf = ""
    for tok in TOKEN.findall(text):
        if len(tok) > 1 and (tok[0] == "[" or tok[0].isascii() and tok[0].isalnum()):
            if buf:
                out.append(buf)
                buf = ""
            out.append(tok)
            continue
        buf += tok
        if len(buf) >= size:
            out.append(buf)
            buf = ""
    if buf:
        out.append(buf)
    return out


def sse(event: str | None, data) -> str:
    """One event; data is JSON on a single line (json.dumps escapes newlines inside strings)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def ask_events(result: AskResult, log_id: str | None = None) -> Iterator[str]:
    """/api/ask as events: citations, then delta pieces of the answer, then done (with the log id that
    feedback links to)."""
    body = result.to_dict()
    yield sse("citations", body["citations"])
    for piece in pieces(body["answer"]):
        yield sse("delta", {"text": piece})
    yield sse("done", {"refused": body["refused"], "latency_ms": body["latency_ms"], "approved": body["approved"],
                       "log_id": log_id, "resolved_question": body["resolved_question"]})


# -- OpenAI-compatible ------------------------------------------------------------------------------

MODEL_ID = "policyqa"


def sources_text(body: dict) -> str:
    """The numbered citations under the answer: title, 文号 and clause path of each; for a law, its status
    and version date, and the newer version when the index holds one."""
    if not body["citations"]:
        return ""
    lines = ["See also:" if body["refused"] else "Sources:"]
    for c in body["citations"]:
        number = f" ({c['doc_number']})" if c["doc_number"] else ""
        version = ""
        if c.get("status") or c.get("version_date"):
            version = " [" + ", ".join(filter(None, (c.get("status"), c.get("version_date") and
                                                     f"version of {c['version_date']}"))) + "]"
        newer = c.get("newer_version")
        if newer:
            version += f" (newer version: {newer['version_date']})"
        lines.append(f"[{c['n']}] {c['doc_title']}{number}{version} — {c['clause_path']}")
    return "\n\n" + "\n".join(lines)


def rough_tokens(text: str) -> int:
    """A token estimate for `usage`: one per CJK character, one per other word."""
    return len(re.findall(r"[\u3400-\u9fff]|[A-Za-z0-9]+", text))


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


def chat_completion(result: AskResult, question: str, log_id: str | None = None) -> dict:
    body = result.to_dict()
    content = body["answer"] + sources_text(body)
    prompt, completion = rough_tokens(question), rough_tokens(content)
    return {
        "id": completion_id(), "object": "chat.completion", "created": int(time.time()), "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
        "citations": body["citations"], "refused": body["refused"], "latency_ms": body["latency_ms"],
        "resolved_question": body["resolved_question"],
        "approved": body["approved"], "log_id": log_id,
    }


def chat_completion_chunks(result: AskResult, log_id: str | None = None) -> Iterator[str]:
    """chat.completion.chunk events: the role (with the citations), content pieces, the sources, a final
    chunk with finish_reason "stop" (with the citations again), then [DONE]."""
    body = result.to_dict()
    base = {"id": completion_id(), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": MODEL_ID}

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        return sse(None, base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                              "logprobs": None}]} | extra)

    yield chunk({"role": "assistant", "content": ""}, citations=body["citations"])
    for piece in pieces(body["answer"]):
        yield chunk({"content": piece})
    sources = sources_text(body)
    if sources:
        yield chunk({"content": sources})
    yield chunk({}, "stop", citations=body["citations"], refused=body["refused"],
                latency_ms=body["latency_ms"], approved=body["approved"], log_id=log_id)
    yield sse(None, "[DONE]")
