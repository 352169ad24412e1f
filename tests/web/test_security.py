"""Hostile input, security headers, body limits, errors without tracebacks, no visitor logs."""

import logging
from collections.abc import Iterator

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tidetrace.web.deps import PUBLIC
from tidetrace.web.middleware import CSP

from .support import LoginFn

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1; DROP TABLE statement; --",
    "%",
    "_",
    "\\",
    "a\x00b",
    "\x1b[31mred",
    "\u202eevil",
    "{{ 7*7 }}",
    "../../etc/passwd",
    "🐟" * 50,
    "IMO8660313\r\nSet-Cookie: x=1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_are_escaped_and_never_500(analyst: TestClient, text: str) -> None:
    page = analyst.get("/search", params={"q": text})
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "49" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    api = analyst.get("/api/search", params={"q": text})
    assert api.status_code in (200, 422)
    schema = analyst.get("/search", params={"q": "x", "schema": text})
    assert schema.status_code == 422
    assert "<script>alert" not in schema.text


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_entity_ids_are_404_not_500(analyst: TestClient, text: str) -> None:
    from urllib.parse import quote

    page = analyst.get("/entities/" + quote(text, safe=""))
    assert page.status_code == 404
    assert "<script>alert" not in page.text
    api = analyst.get("/api/entities/" + quote(text, safe=""))
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/json"


def test_xss_in_query_is_escaped_in_form_and_caption(analyst: TestClient) -> None:
    page = analyst.get("/search", params={"q": '"><script>alert(1)</script>'}).text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert "“&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;”" in page


def test_security_headers_everywhere(client: TestClient, analyst: TestClient) -> None:
    responses = [
        client.get("/"),
        client.get("/login"),
        client.get("/healthz"),
        client.get("/static/tidetrace.css"),
        client.get("/search"),
        client.get("/nowhere"),
        client.get("/api/search?q=x"),
        analyst.get("/search?q=chon"),
        analyst.get("/api/datasets"),
        analyst.get("/entities/nope"),
    ]
    for response in responses:
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", response.url
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["content-security-policy"] == CSP
    assert CSP == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    # Investigation data stays out of caches; the stylesheet may be cached.
    assert analyst.get("/search?q=chon").headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/tidetrace.css").headers.get("cache-control", "")


def test_pages_have_no_inline_script_or_style(analyst: TestClient) -> None:
    for path in ("/", "/search?q=chon", "/datasets", "/docs", "/entities/case-facility-dandong"):
        page = analyst.get(path).text
        assert "<script" not in page, path
        assert "style=" not in page, path
        assert "<style" not in page, path


def test_bodies_over_the_limit_get_413(client: TestClient) -> None:
    # The test settings allow 1 MiB.
    big = "x" * (1024 * 1024 + 10)
    response = client.post("/login", data={"username": big})
    assert response.status_code == 413
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == CSP
    api = client.post("/api/search", content=big.encode())
    assert api.status_code in (405, 413)


def test_chunked_bodies_over_the_limit_get_413_with_headers(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b"x" * (512 * 1024)

    response = client.post(
        "/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unexpected_errors_show_no_traceback(app: FastAPI, login: LoginFn) -> None:
    @app.get("/boom", dependencies=[Depends(PUBLIC)])
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/tidetrace")

    @app.get("/api/boom", dependencies=[Depends(PUBLIC)])
    def api_boom() -> None:
        raise RuntimeError("secret internals at /srv/tidetrace")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom")
        api = client.get("/api/boom")
    assert page.status_code == 500
    assert "secret internals" not in page.text
    assert "Traceback" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert api.status_code == 500
    assert api.json() == {
        "detail": "internal error; the administrator can find it in the server log"
    }


def test_no_query_strings_in_logs(analyst: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        analyst.get("/search", params={"q": "secret-source-name"})
        analyst.get("/entities/nope", params={"q": "secret-source-name"})
        analyst.get("/api/search", params={"q": "x" * 600})
    # httpx logs on the client side of the TestClient; everything else is the server.
    server = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]
    assert not [m for m in server if "secret-source-name" in m or "testclient" in m]
