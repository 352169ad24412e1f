"""In a real browser: an investigator searches bills of lading and ingests a file.

Drives Debian's Chromium (``/usr/bin/chromium``) through Playwright against uvicorn on a
free loopback port. Never ``playwright install``: the browser comes from the system.
Screenshots are left in the test's temporary directory.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium_page, log_in, serve
from tests.shipments.support import ingest
from tidetrace.settings import Settings
from tidetrace.web.app import create_app

from .shipments_data import IMPORTER, trade_workspace, write_bills
from .support import PASSWORD, USERS

pytestmark = pytest.mark.browser


@pytest.fixture()
def server(tmp_path: Path, settings: Settings) -> Iterator[str]:
    """The app over a workspace with the known bills, served on loopback."""
    ws = trade_workspace(tmp_path / "ws")
    ingest(ws, [write_bills(tmp_path / "bills.csv")], dataset="bills")
    try:
        with serve(create_app(ws, settings=settings)) as url:
            yield url
    finally:
        ws.close()


def test_search_bills_then_ingest_a_file(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of two bills, so five known bills make three pages (the server runs in-process).
    monkeypatch.setattr("tidetrace.web.routes.shipments.PAGE_LIMIT", 2)
    with chromium_page() as (page, errors):
        log_in(page, server, USERS["investigator"], PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Shipments").click()
        page.wait_for_url(f"{server}/shipments")

        # Shipper and HS prefix: the plant's squid, not its canned crab.
        page.get_by_label("Shipper").fill("hai xiang")
        page.get_by_label("HS code prefix").fill("0307")
        page.get_by_role("button", name="Search bills").click()
        page.wait_for_url("**/shipments?shipper=hai+xiang&**hs=0307**")
        assert page.get_by_role("heading", name="1 bill match").is_visible()
        rows = page.locator("table.shipments tbody tr")
        assert rows.count() == 1
        text = rows.first.inner_text()
        for expected in ("2023-02-01", "MAEU1", "DANDONG HAI XIANG FOOD CO LTD", IMPORTER):
            assert expected in text
        assert "030743" in text and "12,000" in text and "CNDLC → USLAX" in text
        page.screenshot(path=tmp_path / "01-search.png", full_page=True)

        # Without the HS prefix, the canned crab shipped "TO ORDER" shows too, first.
        page.get_by_label("HS code prefix").fill("")
        page.get_by_role("button", name="Search bills").click()
        page.wait_for_url(lambda url: "hs=&" in url or url.endswith("hs="))
        assert page.get_by_role("heading", name="2 bills match").is_visible()
        assert rows.count() == 2
        assert "MAEU3" in rows.first.inner_text()
        assert rows.first.locator(".party.unnamed").inner_text() == "[to_order]"
        csv_link = page.get_by_role("link", name="CSV")
        href = csv_link.get_attribute("href")
        assert href is not None and href.startswith("/api/shipments?shipper=hai+xiang")
        assert "format=csv" in href

        # Seafood only: four bills, two a page; Next and Previous walk them.
        page.get_by_label("Shipper").fill("")
        page.get_by_label("Seafood only").check()
        page.get_by_role("button", name="Search bills").click()
        page.wait_for_url("**seafood=true**")
        assert page.get_by_role("heading", name="4 bills match").is_visible()
        assert page.locator("#page-range").inner_text().startswith("Bills 1–2")
        first_page = [rows.nth(i).locator("th code").inner_text() for i in range(rows.count())]
        page.get_by_role("link", name="Next 2 →").click()
        page.wait_for_url("**offset=2**")
        assert page.locator("#page-range").inner_text().startswith("Bills 3–4")
        second_page = [rows.nth(i).locator("th code").inner_text() for i in range(rows.count())]
        assert len(first_page) == len(second_page) == 2
        assert not set(first_page) & set(second_page)
        assert page.get_by_role("link", name="Next 2 →").count() == 0
        page.get_by_role("link", name="← Previous 2").click()
        page.wait_for_url("**offset=0**")
        assert rows.first.locator("th code").inner_text() == first_page[0]

        # The upload form: a small file into a new dataset, and its summary.
        upload = write_bills(
            tmp_path / "small.csv",
            [["BRW1", "2023-08-01", "YALU RIVER AQUATIC CO LTD", IMPORTER, "0307.43", "900",
              "KG", "DANDONG", "SEATTLE"]],
        )  # fmt: skip
        page.get_by_label("Files", exact=True).set_input_files(upload)
        page.get_by_label("Dataset", exact=True).fill("browser_uploads")
        page.get_by_role("button", name="Ingest", exact=True).click()
        page.wait_for_url(f"{server}/shipments/ingest")
        assert page.get_by_role("heading", name="Ingested into browser_uploads").is_visible()
        summary = page.locator("table.ingest-sources tbody tr")
        assert summary.count() == 1
        assert "small.csv" in summary.first.inner_text()
        assert "ingested" in summary.first.inner_text()
        assert "generic (detected)" in summary.first.inner_text()
        page.screenshot(path=tmp_path / "02-ingested.png", full_page=True)

        # The new bill is searchable at once.
        page.get_by_label("Shipper").fill("yalu river")
        page.get_by_role("button", name="Search bills").click()
        page.wait_for_url("**shipper=yalu+river**")
        assert page.get_by_role("heading", name="1 bill match").is_visible()
        assert "BRW1" in page.locator("table.shipments tbody tr").first.inner_text()

        assert page.evaluate("document.styleSheets.length") >= 1
        assert errors == []
