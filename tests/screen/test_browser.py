"""In a real browser: the entity's downstream tab draws the Sankey (and the network view);
the screening page takes an upload and offers the report.

Drives Debian's Chromium (``/usr/bin/chromium``) through Playwright against uvicorn on a
free loopback port. Never ``playwright install``: the browser comes from the system.
Screenshots are left in the test's temporary directory.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, serve
from tests.screen.conftest import PASSWORD, USERS

pytestmark = pytest.mark.browser


@pytest.fixture()
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a background thread; yields its base URL."""
    with serve(app) as url:
        yield url


@pytest.fixture()
def page(server: str) -> Iterator[tuple[Any, list[str]]]:
    """A logged-in analyst's browser page, and the console errors it collects."""
    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(f"{server}/login")
            tab.get_by_label("User name").fill(USERS["analyst"])
            tab.get_by_label("Password").fill(PASSWORD)
            tab.get_by_role("button", name="Log in").click()
            tab.wait_for_url(f"{server}/")
            yield tab, errors
        finally:
            browser.close()


def test_downstream_tab_draws_the_sankey(
    page: tuple[Any, list[str]], server: str, tmp_path: Path
) -> None:
    tab, errors = page
    tab.goto(f"{server}/entities/t-p")
    tab.get_by_role("link", name="Downstream").click()
    tab.wait_for_url("**/trace/downstream/t-p")
    tab.wait_for_selector("#tidetrace-graph[data-rendered='true']")
    # The Sankey: one rectangle per entity drawn, links with widths in tonnes.
    nodes = tab.locator("svg.tt-sankey g.tt-node")
    assert nodes.count() >= 6
    labels = tab.locator("svg.tt-sankey text").all_text_contents()
    assert any(label.startswith("⚑ Pyongsan Seafood Plant") for label in labels)
    assert any("Rainbow Grocery" in label and "40.0 t" in label for label in labels)
    # Every trade link but the D → I1 cycle; the shipments before P's flag date apart, in
    # grey (P → C had none); the documents' links dashed.
    assert tab.locator("svg.tt-sankey path.tt-link.tt-observed:not(.tt-before)").count() == 7
    assert tab.locator("svg.tt-sankey path.tt-link.tt-before").count() == 6
    assert tab.locator("svg.tt-sankey path.tt-link.tt-asserted").count() >= 1
    tab.screenshot(path=tmp_path / "01-sankey.png", full_page=True)
    # The network view.
    tab.get_by_role("button", name="Network").click()
    assert tab.locator("svg.tt-network").is_visible()
    assert tab.locator("svg.tt-network g.tt-node").count() == nodes.count()
    tab.screenshot(path=tmp_path / "02-network.png", full_page=True)
    # The table beside the picture, and the filter narrows the window.
    assert tab.get_by_role("cell", name="40,000").first.is_visible()
    tab.get_by_label("Until").fill("2022-12-31")
    tab.get_by_role("button", name="Trace").click()
    tab.wait_for_url("**until=2022-12-31**")
    tab.wait_for_selector("#tidetrace-graph[data-rendered='true']")
    assert "Rainbow Grocery" not in tab.locator("main").inner_text()
    tab.screenshot(path=tmp_path / "03-before-flag.png", full_page=True)
    assert errors == []


def test_screening_upload_and_report(
    page: tuple[Any, list[str]], server: str, tmp_path: Path
) -> None:
    tab, errors = page
    upload = tmp_path / "suppliers.csv"
    upload.write_text(
        "ref,name,country\nS-1,大连海青食品有限公司,CN\nS-2,조선련봉총회사,KP\n"
        "S-3,Rainbow Grocery,US\nS-4,Nobody In Particular Ltd,GB\n",
        encoding="utf-8",
    )
    tab.goto(f"{server}/screen")
    tab.get_by_label("Supplier list (CSV)").set_input_files(str(upload))
    tab.get_by_role("button", name="Screen").click()
    tab.wait_for_selector("table.screen-results")
    rows = tab.locator("table.screen-results tbody tr")
    assert rows.count() == 4
    text = tab.locator("table.screen-results").inner_text()
    assert "Dalian Haiqing Food" in text
    assert "KOREA RYONBONG GENERAL CORPORATION" in text
    assert "flagged" in text and "exposed" in text and "no-match" in text
    tab.screenshot(path=tmp_path / "04-screening.png", full_page=True)
    with tab.expect_download() as info:
        tab.get_by_role("link", name="CSV").click()
    download = info.value
    saved = tmp_path / "report.csv"
    download.save_as(saved)
    content = saved.read_text(encoding="utf-8-sig")
    assert "조선련봉총회사" in content
    assert "大连海青食品有限公司" in content
    assert errors == []
