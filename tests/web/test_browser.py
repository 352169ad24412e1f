"""A person's path through the app in a real browser: log in, search, read, log out.

Drives Debian's Chromium (``/usr/bin/chromium``) through Playwright against uvicorn on a
free loopback port. Never ``playwright install``: the browser comes from the system.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.browser import chromium_page, serve

from .support import PASSWORD, UN_SC, USERS

pytestmark = pytest.mark.browser


@pytest.fixture()
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a background thread; yields its base URL."""
    with serve(app) as url:
        yield url


def test_login_search_entity_logout(server: str, tmp_path: Path) -> None:
    with chromium_page() as (page, errors):
        # A reader page sends an anonymous visitor to the login form, and back after.
        page.goto(f"{server}/search")
        assert "/login?next=" in page.url
        page.screenshot(path=tmp_path / "01-login.png", full_page=True)
        page.get_by_label("User name").fill(USERS["analyst"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{server}/search")

        # Search a sanctioned vessel by IMO number and open it.
        page.get_by_label("Name or identifier").fill("IMO8660313")
        page.get_by_role("main").get_by_role("button", name="Search").click()
        page.wait_for_url("**/search?q=IMO8660313*")
        page.screenshot(path=tmp_path / "02-search.png", full_page=True)
        page.get_by_role("link", name="Chon Ma San").click()
        page.wait_for_url("**/entities/**")

        # The entity page: badge, provenance table, related sanction.
        assert page.get_by_role("heading", level=1).inner_text() == "Chon Ma San"
        assert page.locator(".badge.topic-sanction").inner_text() == "Sanctioned"
        table = page.locator("table.provenance")
        assert table.is_visible()
        imo_row = table.locator("tr", has=page.locator("th", has_text="IMO Number"))
        assert "IMO8660313" in imo_row.inner_text()
        assert UN_SC.name in imo_row.inner_text()
        assert page.get_by_role("link", name="DPRK resolution 2397").is_visible()
        page.screenshot(path=tmp_path / "03-entity.png", full_page=True)

        # The stylesheet loaded (CSP allows 'self') and nothing complained.
        assert page.evaluate("document.styleSheets.length") >= 1
        assert errors == []

        # Names in Chinese and Korean render (fonts-noto-cjk), as do the datasets.
        page.goto(f"{server}/search?q=%E4%B8%B9%E4%B8%9C")
        page.get_by_role("link", name="丹东海产加工厂").click()
        assert page.get_by_role("heading", name="Observations").is_visible()
        page.screenshot(path=tmp_path / "04-facility.png", full_page=True)
        page.goto(f"{server}/datasets")
        assert page.get_by_role("cell", name=UN_SC.title).is_visible()
        page.screenshot(path=tmp_path / "05-datasets.png", full_page=True)

        # Log out through the form; the session is gone.
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{server}/login")
        page.goto(f"{server}/datasets")
        assert "/login?next=" in page.url
        page.screenshot(path=tmp_path / "06-logged-out.png", full_page=True)
