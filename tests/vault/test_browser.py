"""An investigator uploads a photo through the case page in a real browser.

Drives Debian's Chromium through Playwright against uvicorn on loopback (``tests/browser``):
the upload form, its CSRF token and the multipart POST are the browser's own.
"""

from pathlib import Path

import pytest

from tests.browser import chromium_page, log_in
from tests.vault import samples
from tests.vault.conftest import PASSWORDS, Vault
from tidetrace.vault import custody, items

pytestmark = pytest.mark.browser


def test_upload_an_image_and_see_its_working_copy_and_custody(
    vault: Vault, server: str, tmp_path: Path
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "IMG_2023_gate.jpg", serial="BROWSER-SERIAL")
    case = vault.keyring.case_id
    with chromium_page() as (page, errors):
        log_in(page, server, "alice", PASSWORDS["alice"])

        page.goto(f"{server}/cases/{case}")
        page.screenshot(path=tmp_path / "case.png", full_page=True)
        page.get_by_label("File", exact=True).set_input_files(photo)
        page.get_by_label("Title").first.fill("Gate of the plant")
        page.locator("#up-about").fill("fac-1")
        page.locator("#up-grade").select_option("B2")
        page.get_by_role("button", name="Upload").click()
        page.wait_for_url(f"{server}/cases/{case}/items/ev-*")
        page.screenshot(path=tmp_path / "item.png", full_page=True)

        assert page.get_by_role("heading", level=1).inner_text() == "Gate of the plant"
        assert "B2: usually reliable source; probably true" in page.inner_text("main")
        files = page.locator("table", has=page.locator("th", has_text="SHA-256"))
        working = files.locator("tr", has=page.locator("th", has_text="working"))
        assert "EXIF GPS" in working.inner_text()  # what the stripped copy lost
        assert working.get_by_role("link", name="download").is_visible()
        original = files.locator("tr", has=page.locator("th", has_text="original"))
        assert "IMG_2023_gate.jpg" in original.inner_text()
        custody_rows = page.locator("table.custody tbody tr")
        actions = [
            custody_rows.nth(i).locator("td").nth(3).inner_text()
            for i in range(custody_rows.count())
        ]
        assert actions[:2] == ["capture", "view"]
        assert "alice" in custody_rows.first.inner_text()
        assert errors == []

    item_id = page.url.rsplit("/", 1)[1]
    item = items.get_item(vault.ws.engine, vault.keyring, item_id)
    working_bytes = b"".join(items.read_file(vault.ws, vault.keyring, item, "working"))
    assert b"BROWSER-SERIAL" not in working_bytes
    entries = custody.history(vault.ws.engine, vault.keyring, item_id)
    assert [e.entry.actor for e in entries] == ["alice", "alice"]
