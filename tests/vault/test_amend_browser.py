"""An investigator corrects an item's claimed place and time on its page, in a real browser.

The form is filled and sent by Chromium (its CSRF token, every field sent back as the page
filled it); the custody table then shows the change, old value → new.
"""

from pathlib import Path

import pytest

from tests.browser import chromium_page, log_in
from tests.vault import samples
from tests.vault.conftest import PASSWORDS, Vault
from tidetrace.vault import custody, items

pytestmark = pytest.mark.browser


def test_amend_claimed_place_and_time_on_the_item_page(
    vault: Vault, server: str, tmp_path: Path
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="AMEND-BROWSER")
    item = items.add_file(
        vault.ws, vault.alice, vault.keyring, photo, title="Gate", claimed_location="Dandong"
    ).item
    path = f"/cases/{vault.keyring.case_id}/items/{item.id}"
    with chromium_page() as (page, errors):
        log_in(page, server, "alice", PASSWORDS["alice"])

        page.goto(f"{server}{path}")
        assert page.locator("#am-location").input_value() == "Dandong"
        page.locator("#am-location").fill("Donggang, Liaoning")
        page.locator("#am-location-method").fill("street signs matched on Baidu Maps")
        page.locator("#am-time").fill("2023-11-04T02:00+08:00")
        page.locator("#am-reason").fill("geolocation redone")
        page.get_by_role("button", name="Save changes").click()
        page.wait_for_load_state()
        page.screenshot(path=tmp_path / "amended.png", full_page=True)

        assert page.url == f"{server}{path}"
        main = page.inner_text("main")
        assert "Donggang, Liaoning" in main and "street signs matched" in main
        rows = page.locator("table.custody tbody tr", has_text="amend")
        assert rows.count() == 1
        summary = rows.first.locator("td").nth(4).inner_text()
        assert 'claimed_location: "Dandong" → "Donggang, Liaoning"' in summary
        assert 'claimed_time: — → "2023-11-04T02:00+08:00"' in summary
        assert "(why: geolocation redone)" in summary
        assert "alice" in rows.first.inner_text()

        # A time that is not ISO 8601 is refused with the field named.
        page.locator("#am-time").fill("early November")
        page.get_by_role("button", name="Save changes").click()
        page.wait_for_load_state()
        assert "is not an ISO 8601 date or time" in page.inner_text("body")
        assert errors == [] or all("422" in e for e in errors)

    amends = [
        e
        for e in custody.history(vault.ws.engine, vault.keyring, item.id)
        if e.entry.action == "amend"
    ]
    assert len(amends) == 1
    assert set(amends[0].payload["to"]) == {"claimed_location", "location_method", "claimed_time"}
