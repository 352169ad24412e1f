"""URL capture against local servers: WARC, text, redirects, TLS facts, bad input."""

import gzip
import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vault import samples
from tests.vault.conftest import LocalTsa, Site, Vault
from tidetrace.vault import capture, items
from tidetrace.vault.netguard import AddressGuard
from tidetrace.vault.verify import verify_contents, verify_vault

PAGE = """<!doctype html><html><head><title>Seafood plant hiring notice</title>
<meta charset="utf-8"><script>var tracking = "SCRIPT-TEXT";</script>
<style>p { color: red }</style></head>
<body><h1>Notice</h1><p>조선 근로자 모집 — workers from the DPRK</p>
<p>Posted 2023-11-04</p></body></html>"""


def test_capture_page_as_warc_with_text(vault: Vault, site: Site) -> None:
    site.pages["/post"] = (200, "text/html; charset=utf-8", PAGE.encode(), {"Server": "nginx"})
    site.pages["/old"] = (302, "text/plain", b"moved", {"Location": "/post"})
    result = capture.capture_url(
        vault.ws, vault.alice, vault.keyring, site.base + "/old", about=["facility-x"]
    )
    item = result.item
    meta = item.meta
    assert item.kind == "web_page"
    assert meta.title == "Seafood plant hiring notice"
    assert meta.source_url == site.base + "/old"
    assert meta.capture["final_url"] == site.base + "/post"
    assert meta.capture["redirects"] == [{"url": site.base + "/old", "status": 302}]
    assert meta.capture["server_ip"] == "127.0.0.1"
    assert "nginx" in meta.capture["headers"]["server"]
    assert meta.captured_at and meta.method.startswith("tidetrace URL capture")
    warc = b"".join(items.read_file(vault.ws, vault.keyring, item, "original"))
    records = capture.read_warc_records(warc)
    assert [r["type"] for r in records] == [
        "warcinfo", "response", "request", "response", "request", "metadata",
    ]  # fmt: skip
    assert [r["status"] for r in records if r["type"] == "response"] == ["302", "200"]
    text = b"".join(items.read_file(vault.ws, vault.keyring, item, "text")).decode()
    assert "조선 근로자 모집" in text and "SCRIPT-TEXT" not in text and "color" not in text
    assert verify_vault(vault.ws).ok
    assert verify_contents(vault.ws, vault.keyring) == (2, [])


def test_social_platform_is_recognised() -> None:
    assert capture.platform_of("https://www.douyin.com/video/123") == "Douyin"
    assert capture.platform_of("https://mp.weixin.qq.com/s/abc") == "WeChat"
    assert capture.platform_of("https://b23.tv/xyz") == "Bilibili"
    assert capture.platform_of("https://example.org/") is None


def test_captured_image_gets_a_stripped_working_copy(
    vault: Vault, site: Site, tmp_path: Path
) -> None:
    photo = samples.jpeg_with_gps(tmp_path / "p.jpg", serial="NET-SERIAL")
    site.pages["/p.jpg"] = (200, "image/jpeg", photo.read_bytes(), {})
    item = capture.capture_url(vault.ws, vault.alice, vault.keyring, site.base + "/p.jpg").item
    working = b"".join(items.read_file(vault.ws, vault.keyring, item, "working"))
    assert b"NET-SERIAL" not in working and working.startswith(b"\xff\xd8")


def test_gzip_body_is_kept_raw_in_warc_and_decoded_for_text(vault: Vault, site: Site) -> None:
    site.pages["/z"] = (
        200,
        "text/html",
        gzip.compress(PAGE.encode()),
        {"Content-Encoding": "gzip"},
    )
    item = capture.capture_url(vault.ws, vault.alice, vault.keyring, site.base + "/z").item
    text = b"".join(items.read_file(vault.ws, vault.keyring, item, "text")).decode()
    assert "Posted 2023-11-04" in text


def test_gzip_bomb_response_is_refused(site: Site) -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    site.pages["/bomb"] = (200, "text/html", bomb, {"Content-Encoding": "gzip"})
    with pytest.raises(capture.CaptureError, match="expands beyond"):
        capture.fetch(site.base + "/bomb", max_bytes=8 * 1024 * 1024)


def test_error_status_is_a_warning(vault: Vault, site: Site) -> None:
    result = capture.capture_url(vault.ws, vault.alice, vault.keyring, site.base + "/gone")
    assert "the server answered HTTP 404" in result.warnings


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/y", "javascript:alert(1)", "x"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(capture.CaptureError, match="only http"):
        capture.fetch(url)


def test_unreachable_is_a_clean_error() -> None:
    with pytest.raises(capture.CaptureError):
        capture.fetch("http://127.0.0.1:9/", timeout=2)


@pytest.fixture
def https_site(tsa: LocalTsa, tmp_path: Path) -> Iterator[str]:
    """An HTTPS server for 127.0.0.1 with a certificate from the test CA."""
    d = tsa.directory
    key, csr, crt, ext = (tmp_path / n for n in ("s.key", "s.csr", "s.pem", "s.ext"))
    subprocess.run(
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(d / "ca.pem"), "-CAkey",
         str(d / "ca.key"), "-CAcreateserial", "-out", str(crt), "-days", "30", "-extfile",
         str(ext)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_https_capture_records_tls_facts(vault: Vault, https_site: str, tsa: LocalTsa) -> None:
    with pytest.raises(capture.CaptureError):
        capture.fetch(https_site)  # not a publicly trusted certificate
    item = capture.capture_url(
        vault.ws,
        vault.alice,
        vault.keyring,
        https_site,
        verify=ssl.create_default_context(cafile=str(tsa.ca_file)),
    ).item
    tls = item.meta.capture["tls"]
    assert tls["version"].startswith("TLS")
    assert tls["certificate"]["subject"] == "CN=127.0.0.1"
    assert tls["certificate"]["issuer"] == "CN=tidetrace test root"
    assert len(tls["certificate"]["sha256"]) == 64


def test_guarded_https_capture_checks_the_certificate_against_the_host_name(
    https_site: str, tsa: LocalTsa
) -> None:
    """The connection goes to the checked IP, but TLS still verifies the URL's host name."""
    port = https_site.rstrip("/").rsplit(":", 1)[1]
    context = ssl.create_default_context(cafile=str(tsa.ca_file))
    guard = AddressGuard.from_hosts(["127.0.0.1"], resolver=lambda host, p: ["127.0.0.1"])
    got = capture.fetch(f"https://localhost:{port}/", verify=context, guard=guard)
    assert got.status == 200 and "localhost" in got.facts["tls"]["certificate"]["dns_names"]
    # The certificate names 127.0.0.1 and localhost, not this host: refused, although the
    # connection went to 127.0.0.1 (which the certificate does name).
    with pytest.raises(capture.CaptureError, match=r"certificate|hostname"):
        capture.fetch(f"https://elsewhere.test:{port}/", verify=context, guard=guard)
