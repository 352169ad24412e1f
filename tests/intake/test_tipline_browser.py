"""Issue 9: the tip form in real headless Chromium, JavaScript on and off.

Both ways the report arrives sealed and a recipient reads it; with JavaScript on, the
request itself carries no plaintext (the browser sealed it with the vendored libsodium).
Nothing the server stores or logs holds the browser's IP address or User-Agent.
Drives Debian's Chromium through Playwright; never ``playwright install``.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, sync_playwright
from sqlalchemy import select

from tests.browser import CHROMIUM, CHROMIUM_ARGS, Served, require_chromium, serve_command
from tidetrace.intake import tipline
from tidetrace.store.tables import metadata

from .conftest import Intake, jpeg

VENDOR = (
    Path(__file__).resolve().parents[2]
    / "tidetrace"
    / "web"
    / "static"
    / "vendor"
    / "libsodium-wrappers"
)
SHOTS = Path("/tmp/tidetrace-tipline-shots")


def test_vendored_libsodium_is_the_published_file() -> None:
    expected = {
        "libsodium.js": "9d9731995989ac2d7c73ba4fb6717e43cd2a4a4299c442b710c2d9e5065b14d1",
        "libsodium-wrappers.js": "d015a93315140974698318d94274ff63c6d22530d8b0e3f3770d9bfeadc7eb60",
    }
    for name, digest in expected.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest
    assert "ISC" in (VENDOR / "VENDORED.md").read_text()
    assert "Permission to use, copy, modify" in (VENDOR / "LICENSE").read_text()


@pytest.fixture()
def served(intake: Intake, tmp_path: Path) -> Iterator[Served]:
    """The real ``tidetrace serve`` (uvicorn without access log) on the test workspace."""
    with serve_command(intake.ws.home, intake.ws.database_url, tmp_path / "serve.log") as run:
        yield run


SPY = """() => {
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () {
    const sent = [];
    for (const [name, value] of new FormData(this).entries()) {
      const shown = typeof value === "string" ? value : `FILE:${value.name}:${value.size}`;
      sent.push([name, shown]);
    }
    sessionStorage.setItem("sent", JSON.stringify(sent));
    return submit.call(this);
  };
}"""


def _dump(intake: Intake) -> bytes:
    chunks = []
    with intake.ws.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                chunks += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    files = [p.read_bytes() for p in sorted(intake.ws.home.rglob("*")) if p.is_file()]
    return b"\n".join(chunks + files)


@pytest.mark.browser
def test_tip_form_with_javascript_on_and_off(
    served: Served, intake: Intake, tmp_path: Path
) -> None:
    require_chromium()
    photo = tmp_path / "BROWSERNAMEMARKER.jpg"
    photo.write_bytes(jpeg(comment=b"BROWSERPHOTOMARKER"))
    SHOTS.mkdir(exist_ok=True)
    sent_fields: list[list[str]] = []
    agents: set[str] = set()
    receipts: dict[str, str] = {}
    server = served.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for js in (True, False):
                mode = "js" if js else "nojs"
                context = browser.new_context(
                    java_script_enabled=js, viewport={"width": 420, "height": 900}
                )
                page = context.new_page()
                errors: list[str] = []

                def on_console(message: ConsoleMessage, errors: list[str] = errors) -> None:
                    if message.type == "error":
                        errors.append(message.text)

                page.on("console", on_console)
                response = page.goto(f"{server}/report?lang=ko")
                assert response is not None
                headers = response.headers
                assert headers["referrer-policy"] == "no-referrer"
                assert headers["cache-control"] == "no-store"
                assert "camera=()" in headers["permissions-policy"]
                assert headers["content-security-policy"].startswith("default-src 'none'")
                note = page.locator("[data-seal-note]")
                if js:
                    page.wait_for_function("window.sodium !== undefined")
                    assert "암호화한 뒤 보냅니다" in note.inner_text()
                    agents.add(page.evaluate("navigator.userAgent"))
                else:
                    assert "자바스크립트가 꺼져 있습니다" in note.inner_text()
                page.screenshot(path=SHOTS / f"form-{mode}.png", full_page=True)
                if js:
                    # Record what the form really sends (Chromium's request events leave
                    # out multipart file data); Playwright's evaluate is not bound by CSP.
                    page.evaluate(SPY)
                page.get_by_label("제보 내용").fill(f"BROWSERTEXTMARKER {mode} 단둥 공장")
                page.get_by_label("사진 또는 PDF 파일 (선택)").set_input_files(str(photo))
                page.get_by_role("button", name="보내기").click()
                page.wait_for_selector(".receipt", timeout=30_000)
                receipts[mode] = page.locator(".receipt").inner_text().strip()
                if js:
                    sent_fields.extend(json.loads(page.evaluate("sessionStorage.getItem('sent')")))
                page.screenshot(path=SHOTS / f"receipt-{mode}.png", full_page=True)
                assert errors == [], errors
                context.close()
        finally:
            browser.close()
    # With JavaScript on, nothing readable left the browser: one sealed file, no text.
    names = [name for name, _ in sent_fields]
    assert sorted(names) == ["csrf_token", "form_token", "key_version", "language", "sealed"]
    sealed = dict(sent_fields)["sealed"]
    assert sealed.startswith("FILE:sealed.bin:") and int(sealed.rsplit(":", 1)[1]) > 1000
    assert "BROWSERTEXTMARKER" not in json.dumps(sent_fields)
    for receipt in receipts.values():
        assert re.fullmatch(r"([0-9A-Z]{4}-){4}[0-9A-Z]{4}", receipt)
    # Both arrived sealed and a recipient reads them.
    iris = intake.unlocked["iris"]
    tips = tipline.inbox(intake.ws.engine, iris, intake.factor("iris"))
    assert len(tips) == 2
    texts = {}
    for row in tips:
        tip = tipline.read_tip(intake.ws.engine, iris, intake.factor("iris"), row.id)
        part = tip.parts[0]
        texts[part.text.split()[1]] = part
        assert part.files[0].name == "BROWSERNAMEMARKER.jpg"
        data, mime, _ = tipline.read_tip_file(
            intake.ws, iris, intake.factor("iris"), row.id, 1, 0, 10**6
        )
        assert mime.startswith("image/") and b"BROWSERPHOTOMARKER" not in data
        assert b"EXIF-DESCRIPTION" not in data
    assert set(texts) == {"js", "nojs"}
    assert texts["js"].files[0].stripped  # redrawn in the browser before sealing
    # The server's records and logs hold no marker, IP address or User-Agent.
    stored = _dump(intake)
    logs = served.log()
    assert f"serving {intake.ws.home}" in logs  # the server's own output was captured
    assert b"BROWSERTEXTMARKER" not in stored and b"BROWSERNAMEMARKER" not in stored
    assert "BROWSERTEXTMARKER" not in logs and "/report" not in logs
    for needle in [*agents, "HeadlessChrome", "127.0.0.1:"]:
        assert needle.encode() not in stored, needle
    for needle in [*agents, "HeadlessChrome"]:
        assert needle not in logs, needle
    # The only address in the output is the one it listens on, never a visitor's.
    assert re.findall(r"127\.0\.0\.1:(\d+)", logs) == [str(served.port)]
