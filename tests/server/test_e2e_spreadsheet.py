"""A 任务分工表 workbook in the widget's document viewer (headless Chromium, as tests/server/test_e2e_widget.py):
its " | " rows are shown as tables, and the cited row is the highlighted one, scrolled into view."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_settings, serve_in_thread
from spreadsheets import workbook

from policyqa import service
from policyqa.service import QAService
from retrieval.embedders import make_embedder
from server.app import create_app

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")


def test_the_viewer_shows_sheets_as_tables_and_highlights_the_cited_row(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    folder = tmp_path / "docs"
    workbook(folder, ".xlsx")
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=folder, embedder="hashing")
    embedder = make_embedder("hashing")
    assert service.ingest(settings, [folder], embedder).report.ok
    with serve_in_thread(create_app(QAService(settings, embedder), settings)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(60_000)
            page.goto(base + "/")
            page.locator("#question").fill("实施教育评价改革工程什么时候完成?")
            page.locator("#question").press("Enter")
            page.locator(".msg.answer .cite-marker").first.click()
            row = page.locator("#viewer table.doc-table tr.highlight")
            row.wait_for()
            assert page.locator("#viewer table.doc-table").count() == 2  # one a sheet
            assert row.count() == 1
            assert [c.strip() for c in row.inner_text().split("\t")] == [
                "8", "实施教育评价改革工程", "督导办公室", "教研室、基教股", "2018年12月底前"]
            assert "任务分工 › 8 实施教育评价改革工程" in page.locator("#viewer-clause").inner_text()
            assert "工作表:实施步骤" in page.locator("#viewer .doc-text").inner_text()  # text between tables
            expect(row).to_be_in_viewport()
        finally:
            browser.close()
