"""Evidence on the public lookup page, in a real browser: members see it, visitors do not.

A case member signs in (which unlocks their vault keys for the session) and looks up the
plant: the claim from their case is on the page. An anonymous visitor looking up the same
code sees the plant and its public flags, never the claim.
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, serve
from tests.registry.support import CLAIM, PASSWORD
from tidetrace.settings import get_settings
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

pytestmark = pytest.mark.browser


@pytest.fixture
def server(risk_ws: Workspace) -> Iterator[str]:
    settings = dataclasses.replace(get_settings(), cookie_secure=False)
    with serve(create_app(risk_ws, settings=settings)) as url:
        yield url


def test_signed_in_member_sees_the_claim_anonymous_does_not(server: str, tmp_path: Path) -> None:
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            visitor = browser.new_context(locale="en-GB").new_page()
            visitor.goto(f"{server}/lookup?lang=en")
            visitor.get_by_label("Establishment code").fill("2100/02153")
            visitor.get_by_role("button", name="Look up").click()
            visitor.wait_for_selector("#plant-name")
            assert "Listed on a test WRO" in visitor.inner_text("#flags")
            assert CLAIM not in visitor.content()
            assert visitor.locator("#case-evidence").count() == 0
            visitor.screenshot(path=tmp_path / "01-anonymous.png", full_page=True)

            member = browser.new_context(locale="en-GB").new_page()
            member.goto(f"{server}/login")
            member.fill("input[name=username]", "alice")
            member.fill("input[name=password]", PASSWORD)
            member.locator("form button[type=submit]").first.click()
            member.wait_for_load_state()
            member.goto(f"{server}/lookup?lang=en")
            member.get_by_label("Establishment code").fill("CN 2100/02153 EC")
            member.get_by_role("button", name="Look up").click()
            member.wait_for_selector("#case-evidence")
            evidence = member.inner_text("#case-evidence")
            assert CLAIM in evidence
            assert "Dandong plants" in evidence
            assert "1 supporting, 0 contradicting, 1 items" in evidence
            assert "Workers filmed on the processing line" in member.inner_text("#flags")
            member.screenshot(path=tmp_path / "02-member.png", full_page=True)
        finally:
            browser.close()
