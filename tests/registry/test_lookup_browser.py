"""The public lookup page in a real browser: type a code, then upload a photo of the stamp.

Drives Debian's Chromium through Playwright against uvicorn on a free loopback port.
Never ``playwright install``: the browser comes from the system. Screenshots are left in
the test's temporary directory for a person to look at.
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium_page, serve
from tidetrace.registry.render import Distortion, oval_mark, photograph
from tidetrace.settings import get_settings
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

pytestmark = pytest.mark.browser


@pytest.fixture
def server(registry_ws: Workspace) -> Iterator[str]:
    """The app on the registry workspace, served by uvicorn in a thread; yields its URL."""
    settings = dataclasses.replace(get_settings(), cookie_secure=False)
    app = create_app(registry_ws, settings=settings)
    with serve(app) as url:
        yield url


def test_type_a_code_then_upload_a_photo(server: str, tmp_path: Path) -> None:
    photo = tmp_path / "stamp.jpg"
    photo.write_bytes(
        photograph(oval_mark("2100/02153"), Distortion(angle=-6.0, blur=0.6, quality=75))
    )
    with chromium_page(1100, 900, locale="en-GB") as (page, errors):
        # No login: the page opens for an anonymous visitor.
        page.goto(f"{server}/lookup")
        assert page.url == f"{server}/lookup"
        page.get_by_label("Establishment code").fill("CN 2100/02153 EC")
        page.get_by_role("button", name="Look up").click()
        page.wait_for_selector("#plant-name")
        assert "Dandong Taifeng Foodstuffs Co. Ltd." in page.inner_text("#plant-name")
        assert "丹东泰丰食品有限公司" in page.inner_text("#plant-name")
        assert page.inner_text("#result-code") == "2100/02153"
        assert "Dandong Taifeng" in page.inner_text("#candidates")
        page.screenshot(path=tmp_path / "01-typed-code.png", full_page=True)

        # The same result in Chinese, through the language switcher.
        page.get_by_role("link", name="中文").click()
        page.wait_for_selector("#plant-name")
        assert "这是哪家工厂包装的" in page.inner_text("h1")
        page.screenshot(path=tmp_path / "02-chinese.png", full_page=True)

        # Upload a photo of the stamp.
        page.goto(f"{server}/lookup?lang=en")
        page.set_input_files("#photo", str(photo))
        page.get_by_role("button", name="Read photo").click()
        page.wait_for_selector("#plant-name", timeout=60_000)
        assert "Dandong Taifeng Foodstuffs Co. Ltd." in page.inner_text("#plant-name")
        assert "2100/02153" in page.inner_text("#ocr-candidates")
        page.screenshot(path=tmp_path / "03-photo.png", full_page=True)

        # An unknown code: no plant, a near miss offered.
        page.get_by_label("Establishment code").fill("2100/02154")
        page.get_by_role("button", name="Look up").click()
        page.wait_for_selector("#not-found")
        assert page.get_by_role("link", name="2100/02153").is_visible()
        page.screenshot(path=tmp_path / "04-unknown.png", full_page=True)
        assert errors == []
