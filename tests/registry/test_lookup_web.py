"""The public lookup page and API: no login, three languages, checked uploads, CSRF."""

import dataclasses
import io
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from tidetrace.registry.render import Distortion, oval_mark, photograph
from tidetrace.settings import get_settings
from tidetrace.web.app import create_app
from tidetrace.web.context import undocumented_fields
from tidetrace.web.deps import iter_routes, route_permission
from tidetrace.web.routes.lookup import STRINGS, LanguageLink, LookupContext, choose_language
from tidetrace.workspace import Workspace

TOKEN = "t" * 43


@pytest.fixture
def app(registry_ws: Workspace) -> FastAPI:
    settings = dataclasses.replace(get_settings(), cookie_secure=False, max_upload_mb=2)
    return create_app(registry_ws, settings=settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as anonymous:
        yield anonymous


def _photo(code: str = "2100/02153") -> bytes:
    return photograph(oval_mark(code), Distortion(angle=3.0, quality=80))


def test_lookup_routes_are_public_and_declared(app: FastAPI) -> None:
    routes = {
        (route.path, method): route_permission(route)
        for route in iter_routes(app)
        for method in getattr(route, "methods", ()) or ()
    }
    for key in (
        ("/lookup", "GET"),
        ("/lookup/image", "POST"),
        ("/api/lookup", "GET"),
        ("/api/lookup/image", "POST"),
    ):
        allowed = routes[key]
        assert allowed is not None
        assert allowed.public
        assert allowed.csrf


def test_page_without_login_shows_the_plant(client: TestClient) -> None:
    response = client.get("/lookup", params={"code": "CN 2100/02153 EC"})
    assert response.status_code == 200
    page = response.text
    assert "Dandong Taifeng Foodstuffs Co. Ltd." in page
    assert "丹东泰丰食品有限公司" in page
    assert "Liaoning" in page
    assert "Possibly the same plant (not confirmed)" in page
    # An anonymous visitor gets no links into the login-only entity pages.
    assert "/entities/" not in page
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("params", "headers", "title"),
    [
        ({"lang": "zh"}, {}, "这是哪家工厂包装的？"),
        ({"lang": "ko"}, {}, "누가 포장했나요?"),
        ({}, {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}, "누가 포장했나요?"),
        ({}, {"Accept-Language": "zh-CN"}, "这是哪家工厂包装的？"),
        ({}, {"Accept-Language": "fr-FR,de"}, "Who packed this?"),
        ({"lang": "xx"}, {"Accept-Language": "zh"}, "这是哪家工厂包装的？"),
    ],
)
def test_languages(
    client: TestClient, params: dict[str, str], headers: dict[str, str], title: str
) -> None:
    page = client.get("/lookup", params={**params, "code": "2100/02153"}, headers=headers)
    assert page.status_code == 200
    assert title in page.text


def test_every_language_has_every_string() -> None:
    keys = set(STRINGS["en"])
    for lang, strings in STRINGS.items():
        assert set(strings) == keys, lang
    assert choose_language(None, "en;q=0.1, zh;q=0.8") == "zh"
    assert choose_language(None, "x" * 10_000) == "en"
    assert undocumented_fields(LookupContext) == []
    assert undocumented_fields(LanguageLink) == []


def test_unknown_code_page(client: TestClient) -> None:
    page = client.get("/lookup", params={"code": "2100/02154"})
    assert page.status_code == 200
    assert "No plant on the lists in this database has the code 2100/02154." in page.text
    assert "2100/02153" in page.text  # did you mean


@pytest.mark.parametrize(
    "code",
    ["<script>alert(1)</script>", "' OR 1=1 --", "2100/02153\x00", "x" * 900, "{{7*7}}"],
)
def test_hostile_codes_on_the_page(client: TestClient, code: str) -> None:
    page = client.get("/lookup", params={"code": code})
    assert page.status_code == 400
    assert "Not a code:" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "49" not in page.text.split("Not a code:")[1][:80]


def test_absurdly_long_query_is_refused_without_echo(client: TestClient) -> None:
    response = client.get("/lookup", params={"code": "A" * 5000})
    assert response.status_code == 422
    assert "A" * 100 not in response.text


def test_api_lookup(client: TestClient) -> None:
    response = client.get("/api/lookup", params={"code": "CHINA 2100/02153 EC"})
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == "2100/02153"
    assert data["facility"]["id"] == "estab-cn-2100-02153"
    unknown = client.get("/api/lookup", params={"code": "2100/02154"}).json()
    assert unknown["facility"] is None
    assert unknown["suggestions"][0]["code"] == "2100/02153"
    bad = client.get("/api/lookup", params={"code": "<b>"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"detail"}


def test_photo_form_reads_the_stamp(client: TestClient) -> None:
    page = client.get("/lookup")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/lookup/image",
        data={"csrf_token": token.group(1), "lang": "en"},
        files={"photo": ("anything.txt", _photo(), "text/plain")},
    )
    assert response.status_code == 200
    assert "Read from the photo" in response.text
    assert "Dandong Taifeng Foodstuffs Co. Ltd." in response.text


def test_photo_post_needs_the_double_submit_token(client: TestClient, app: FastAPI) -> None:
    files = {"photo": ("stamp.jpg", _photo(), "image/jpeg")}
    with TestClient(app) as stranger:
        assert stranger.post("/lookup/image", files=files).status_code == 403
        assert stranger.post("/api/lookup/image", files=files).status_code == 403


def test_api_photo(client: TestClient) -> None:
    client.cookies.set("tidetrace_csrf", TOKEN)
    response = client.post(
        "/api/lookup/image",
        files={"photo": ("stamp.jpg", _photo(), "image/jpeg")},
        headers={"X-CSRF-Token": TOKEN},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["ocr"]["candidates"][0]["code"] == "2100/02153"
    assert data["result"]["facility"]["id"] == "estab-cn-2100-02153"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GIF89a not really", 415),
        (b"<?php echo 1; ?>", 415),
        (b"%PDF-1.4", 415),
        (b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024 + 10), 413),
    ],
)
def test_api_photo_rejects_bad_uploads(client: TestClient, payload: bytes, status: int) -> None:
    client.cookies.set("tidetrace_csrf", TOKEN)
    response = client.post(
        "/api/lookup/image",
        files={"photo": ("stamp.jpg", payload, "image/jpeg")},
        headers={"X-CSRF-Token": TOKEN},
    )
    assert response.status_code == status
    if status != 413:
        # (The app-wide body limit answers 413 before the route, in plain text.)
        assert set(response.json()) == {"detail"}


def test_a_bomb_is_refused(client: TestClient) -> None:
    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, format="PNG")
    client.cookies.set("tidetrace_csrf", TOKEN)
    response = client.post(
        "/api/lookup/image",
        files={"photo": ("x.png", buf.getvalue(), "image/png")},
        headers={"X-CSRF-Token": TOKEN},
    )
    assert response.status_code == 415


def test_nothing_about_the_visitor_is_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        client.get(
            "/lookup",
            params={"code": "2100/02153"},
            headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "visitor-agent"},
        )
        client.get("/api/lookup", params={"code": "2100/02999"})
    logged = caplog.text
    assert "2100/02153" not in logged
    assert "2100/02999" not in logged
    assert "203.0.113.9" not in logged
    assert "visitor-agent" not in logged
