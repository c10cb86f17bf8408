"""Who may write, where the server may listen, per-client limits, and the headers every response carries.

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
from urllib.parse import urlsplit

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
RATE_LIMITED_PREFIXES = ("/api/", "/v1/")
QUESTION_PATHS = frozenset({"/api/ask", "/api/search", "/v1/chat/completions"})  # the model's work


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


def key_matches(presented: str, expected: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented.encode(), expected.encode())


def host_of(authority: str | None) -> str | None:
    """The host name of a Host header value or a URL ('127.0.0.1:8000', 'http://[::1]:3000'), or None."""
    if not authority:
        return None
    try:
        return urlsplit(authority if "//" in authority else "//" + authority).hostname
    except ValueError:  # e.g. an unclosed '[' in an IPv6 literal
        return None


def local_write_refusal(client: str | None, headers) -> str | None:
    """Why a write without an API key is refused, or None when it may go ahead.

    Without a key the write endpoints trust this machine. A loopback client is not enough for that: a web
    page of any site open in a browser here sends its requests from 127.0.0.1 too (Origin and Sec-Fetch-Site
    name the site), and a DNS-rebinding name reaches 127.0.0.1 under a foreign Host.
    """
    fix = ("set POLICYQA_API_KEY on the server and send it as `Authorization: Bearer <key>`, or write from "
           "this machine (e.g. curl http://127.0.0.1:<port>/...) rather than from a web page of another site")
    if not is_loopback(client):
        return f"write endpoints are open to this machine only while no API key is set; {fix}"
    host = headers.get("host")
    if not is_loopback(host_of(host)):
        return f"the request is addressed to '{host}', not to a loopback name such as 127.0.0.1; {fix}"
    origin = headers.get("origin")
    if origin is not None and not is_loopback(host_of(origin)):  # 'null' too: sandboxed or file pages
        return f"writes from a web page of origin '{origin}' need the API key; {fix}"
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return f"writes from a page of another site need the API key; {fix}"
    return None


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

    def refund(self, key: str) -> None:
        """Give back a token taken for a request that was never served (its body did not arrive)."""
        with self._lock:
            if key in self._buckets:
                tokens, last = self._buckets[key]
                self._buckets[key] = (min(self.capacity, tokens + 1.0), last)

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


# -- request bodies -------------------------------------------------------------------------------


def is_json(content_type: str) -> bool:
    """The media types FastAPI decodes as JSON: application/json and application/*+json."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def lone_surrogate_at(value) -> tuple[list, str] | None:
    """Where a decoded JSON value holds a string (or key) with a lone surrogate, and that code point."""
    stack = [([], value)]
    while stack:  # not recursive: JSON nests as deep as the decoder allows
        loc, item = stack.pop()
        if isinstance(item, str):
            bad = next((c for c in item if "\ud800" <= c <= "\udfff"), None)
            if bad is not None:
                return loc, f"\\u{ord(bad):04x}"
        elif isinstance(item, dict):
            for key, child in item.items():
                where = loc + [key.encode("utf-8", "backslashreplace").decode()]  # printable in the answer
                stack += [(where, key), (where, child)]
        elif isinstance(item, list):
            stack += [(loc + [i], child) for i, child in enumerate(item)]
    return None


def body_text_problem(body: bytes, content_type: str) -> tuple[list, str] | None:
    """Why a request body (anything but a multipart upload) is refused, with where in it; None when fine.

    The one decoding rule: bodies are UTF-8, and the strings of a JSON body are Unicode text. An escaped lone
    surrogate ("\\ud800" without its pair) decodes to a str that cannot be encoded again, so it failed
    wherever the text went next (the log, the model, the error message echoing it) with a 500.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], (f"the request body is not UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start}); "
                    "send text encoded as UTF-8")
    if not is_json(content_type) or "\\u" not in text:  # only escapes can make a surrogate now
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None  # malformed JSON: the app answers that itself
    found = lone_surrogate_at(value)
    if found is None:
        return None
    loc, code = found
    return loc, (f"the JSON string holds a lone surrogate {code} (half of a UTF-16 pair), which is not text; "
                 "send characters as UTF-8, or escape them as a complete pair such as \\ud83d\\ude00")


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when the client went away first. OverflowError over `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise OverflowError(size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then waits for a disconnect as usual."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again


class LimitsMiddleware:
    """Per client IP: a rate limit on /api and /v1 (429 + Retry-After), at most `max_concurrent` questions
    answered at once (429 + Retry-After: 1), request bodies within a size limit (413) and a time limit (408),
    and the text decoding rule of `body_text_problem` (422; /v1: 400 in OpenAI's shape).

    `body_limit(scope)` gives the largest body allowed for a request, in bytes, and the setting that sets it.
    Every body but a multipart upload is small (POLICYQA_MAX_REQUEST_KB) and is read here before the app
    runs, so it must arrive whole within `body_timeout` seconds; an upload streams through to the app, and
    each piece of it must arrive within that time. A request whose body never arrived gets its rate-limit
    token back: a stalled client must not use up its allowance.
    """

    def __init__(self, app: ASGIApp, per_minute: int, body_limit, max_concurrent: int = 0,
                 body_timeout: float = 10.0) -> None:
        self.app = app
        self.bucket = TokenBucket(per_minute) if per_minute > 0 else None
        self.body_limit = body_limit
        self.max_concurrent = max_concurrent
        self.body_timeout = body_timeout
        self.too_slow = (f"the request body did not arrive within {body_timeout:g} s "
                         "(POLICYQA_BODY_TIMEOUT_S); send the whole body at once")
        self.in_flight: dict[str, int] = {}  # client -> questions being answered (touched on the event loop)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method")
        client = (scope.get("client") or ("unknown", 0))[0]
        question = self.max_concurrent > 0 and method == "POST" and path in QUESTION_PATHS
        if question and self.in_flight.get(client, 0) >= self.max_concurrent:
            message = (f"{self.max_concurrent} questions of this client are being answered already "
                       "(POLICYQA_MAX_CONCURRENT_PER_CLIENT); wait for an answer, then ask the next")
            await send_json(send, 429, error_body(path, 429, message, "rate_limit_exceeded"),
                            [(b"retry-after", b"1")])
            return
        charged = self.bucket is not None and path.startswith(RATE_LIMITED_PREFIXES) and method != "OPTIONS"
        if charged:
            wait = self.bucket.take(client)
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                body = error_body(path, 429, f"too many requests; retry in {retry} s", "rate_limit_exceeded")
                await send_json(send, 429, body, [(b"retry-after", retry.encode())])
                return
        if question:  # the slot is held until the response, streamed or not, has been sent
            self.in_flight[client] = self.in_flight.get(client, 0) + 1
        try:
            arrived = await self.handle(scope, receive, send)
        finally:
            if question:
                self.in_flight[client] -= 1
                if not self.in_flight[client]:
                    del self.in_flight[client]
        if charged and not arrived:
            self.bucket.refund(client)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Check the body and pass the request on; False when the body never arrived (stalled, gone)."""
        path = scope.get("path", "")
        limit, setting = self.body_limit(scope)
        too_large = f"request body over the {limit // 1024} KB limit ({setting})"
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                body = error_body(path, 400, "bad Content-Length", "invalid_request_error")
                await send_json(send, 400, body)
                return True
            if declared > limit:
                await send_json(send, 413, error_body(path, 413, too_large, "request_too_large"))
                return True
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if content_type.lower().startswith("multipart/"):
            return await self.stream(scope, receive, send, limit, too_large)
        try:
            with anyio.fail_after(self.body_timeout):
                body = await read_body(receive, limit)
        except TimeoutError:
            await send_json(send, 408, error_body(path, 408, self.too_slow, "timeout"),
                            [(b"connection", b"close")])  # the rest of the body may still come: do not wait
            return False
        except OverflowError:
            await send_json(send, 413, error_body(path, 413, too_large, "request_too_large"))
            return True
        if body is None:
            return False
        problem = body_text_problem(body, content_type)
        if problem is not None:
            loc, message = problem
            if path.startswith("/v1/"):
                where = ".".join(map(str, ["body", *loc]))
                body = error_body(path, 400, f"{where}: {message}", "invalid_request_error")
                await send_json(send, 400, body)
            else:  # the shape of FastAPI's own validation errors
                await send_json(send, 422, {"detail": [{"type": "unicode_error", "loc": ["body", *loc],
                                                        "msg": message}]})
            return True
        await self.app(scope, replay(body, receive), send)
        return True

    async def stream(self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: str) -> bool:
        """An upload: counted and timed piece by piece as the app reads it."""
        path = scope.get("path", "")
        received = 0
        body_done = started = stalled = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, stalled
            if body_done:  # afterwards the app only listens for a disconnect, which may take any time
                return await receive()
            try:
                with anyio.fail_after(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                stalled = True
                raise HTTPException(408, self.too_slow, headers={"Connection": "close"}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, too_large)
                body_done = not message.get("more_body", False)
            else:
                stalled = True  # gone before the body was complete
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:  # raised while reading the body outside a route's error handling
            if exc.status_code not in (408, 413) or started:
                raise
            kind = "timeout" if exc.status_code == 408 else "request_too_large"
            await send_json(send, exc.status_code, error_body(path, exc.status_code, str(exc.detail), kind),
                            [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()])
        return not stalled


# -- response headers -----------------------------------------------------------------------------

BASE_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
# The chat page, the admin console (/admin) and their files: scripts, styles and API calls from this server
# only (index.html and admin.html have no inline script or style; app.js sizes the textarea through CSSOM,
# which style-src does not cover); the favicon is a data: URL.
WIDGET_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; base-uri 'none'; form-action 'self'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"  # JSON: nothing to run, nowhere to be framed


def security_headers(path: str, docs_paths: frozenset[str]) -> list[tuple[bytes, bytes]]:
    """The headers a response to `path` carries (besides its own)."""
    if path == "/":
        # embed.js shows this page in an iframe on other sites (that is its purpose), so it has no
        # X-Frame-Options or frame-ancestors; all a framing page could make a visitor do is ask or rate.
        return [*BASE_HEADERS, (b"content-security-policy", WIDGET_CSP.encode())]
    headers = [*BASE_HEADERS, (b"x-frame-options", b"DENY")]
    if path.startswith("/static/") or path == "/admin":  # the admin console: the widget's rules, never framed
        return [*headers, (b"content-security-policy", f"{WIDGET_CSP}; frame-ancestors 'none'".encode())]
    if path in docs_paths:
        # /docs (Swagger UI) and /redoc load their scripts and CSS from cdn.jsdelivr.net and start from an
        # inline script that FastAPI's template writes: no CSP there rather than one tied to that template.
        return headers
    return [*headers, (b"content-security-policy", API_CSP.encode())]


class SecurityHeadersMiddleware:
    """Adds `security_headers` to every response of the app (a 500 comes from Starlette's
    ServerErrorMiddleware, which sits outside every middleware an app adds, and goes without them)."""

    def __init__(self, app: ASGIApp, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""), self.docs_paths)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message = {**message, "headers": headers + [h for h in extra if h[0] not in present]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
