"""What every browser test shares: Debian's Chromium and the app served on loopback.

Never ``playwright install``: the browser is ``/usr/bin/chromium`` from ``make test``.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flag Chromium keeps dialling out on a closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_chromium() -> None:
    """Skip with the install hint when Chromium is missing (``make test`` installs it)."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Chromium is not installed (make apt-test installs it)")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@dataclass
class Served:
    """``tidetrace serve`` in a subprocess, and the file its output goes to."""

    url: str
    port: int
    output: Path

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.output.read_text(errors="replace")


@contextmanager
def serve_command(home: Path, database_url: str, output: Path) -> Iterator[Served]:
    """The real ``tidetrace serve`` on a workspace, in a subprocess; yields where it listens.

    A subprocess rather than :func:`serve`'s thread when a test checks what the server
    logs: pytest attaches capture handlers to every logger, which would switch uvicorn's
    access log back on in-process. Only this test's ``TIDETRACE_*`` settings reach it.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDETRACE_")} | {
        "TIDETRACE_HOME": str(home),
        "TIDETRACE_LOG_LEVEL": "DEBUG",
    }
    if database_url.startswith("postgresql"):
        env["TIDETRACE_DATABASE_URL"] = database_url
    command = [sys.executable, "-c", "from tidetrace.cli import main; main()"]
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(output.read_text()) from None
                    time.sleep(0.1)
            yield Served(f"http://127.0.0.1:{port}", port, output)
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def chromium_page(
    width: int = 1280, height: int = 900, locale: str | None = None
) -> Iterator[tuple[Page, list[str]]]:
    """A page in headless Chromium and the console errors it logs (skips without Chromium)."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale=locale)
            errors: list[str] = []

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    errors.append(message.text)

            page.on("console", on_console)
            yield page, errors
        finally:
            browser.close()


def log_in(page: Page, server: str, user: str, password: str) -> None:
    """Sign in through the login form and wait until it has sent us on."""
    page.goto(f"{server}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
