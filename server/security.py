"""Who may write, where the server may listen, and per-client limits (request size, request rate).

The limits live in one pure ASGI middleware, so they also hold for streamed responses and for request
bodies sent without a Content-Length.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import threading
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
RATE_LIMITED_PREFIXES = ("/api/", "/v1/")


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost; False for anything else, names included."""
    if not host:
        return False
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        addr = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return (mapped or addr).is_loopback


def bind_error(host: str, api_key: str) -> str | None:
    """Why the server must not listen on `host`, or None when it may."""
    if is_loopback(host) or api_key:
        return None
    return (f"refusing to listen on {host}: it is not a loopback address and no API key is set, so "
            "anyone who can reach it could upload or delete documents. Set POLICYQA_API_KEY (write "
            "endpoints then need `Authorization: Bearer <key>` or `X-API-Key: <key>`), or listen on "
            "127.0.0.1 behind a reverse proxy.")


def presented_key(headers) -> str:
    """The key from `Authorization: Bearer KEY` or `X-API-Key: KEY` ('' when neither is there)."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("x-api-key", "").strip()


def key_matches(presented: str, expected: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented.encode(), expected.encode())


class TokenBucket:
    """In-memory token buckets keyed by client: `capacity` requests at once, refilled at capacity/minute."""

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last update)
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token: 0.0 when allowed, else the seconds to wait until one is available."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > self.max_clients:
                self._forget_full(now)
            return wait

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled completely: they hold nothing a new bucket would not."""
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for k in full:
            del self._buckets[k]


async def send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *headers]})
    await send({"type": "http.response.body", "body": data})


def error_body(path: str, status: int, message: str, kind: str) -> dict:
    """FastAPI's {"detail": ...}, or OpenAI's {"error": {...}} under /v1/."""
    if path.startswith("/v1/"):
        return {"error": {"message": message, "type": kind, "code": status, "param": None}}
    return {"detail": message}


class LimitsMiddleware:
    """Per-client rate limit (429 + Retry-After) on /api and /v1, and request body size limits (413).

    `body_limit(scope)` gives the largest body allowed for a request, in bytes, and the setting that sets it.
    """

    def __init__(self, app: ASGIApp, per_minute: int, body_limit) -> None:
        self.app = app
        self.bucket = TokenBucket(per_minute) if per_minute > 0 else None
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if self.bucket and path.startswith(RATE_LIMITED_PREFIXES) and scope.get("method") != "OPTIONS":
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.bucket.take(client)
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                body = error_body(path, 429, f"too many requests; retry in {retry} s", "rate_limit_exceeded")
                await send_json(send, 429, body, [(b"retry-after", retry.encode())])
                return
        limit, setting = self.body_limit(scope)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_large = f"request body over the {limit // 1024} KB limit ({setting})"
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                body = error_body(path, 400, "bad Content-Length", "invalid_request_error")
                await send_json(send, 400, body)
                return
            if declared > limit:
                await send_json(send, 413, error_body(path, 413, too_large, "request_too_large"))
                return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, too_large)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:  # raised while reading the body outside a route's error handling
            if exc.status_code != 413 or started:
                raise
            await send_json(send, 413, error_body(path, 413, too_large, "request_too_large"))
