"""Logging in and out: passwords, cookies, session expiry, redirects."""

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from tidetrace.settings import Settings
from tidetrace.store.tables import session_table
from tidetrace.web.app import create_app
from tidetrace.web.auth import LOGIN_FAILED, safe_next
from tidetrace.web.csrf import FORM_COOKIE
from tidetrace.web.deps import SESSION_COOKIE
from tidetrace.workspace import Workspace

from .support import PASSWORD, USERS, form_token, login_client


def _post_login(client: TestClient, name: str, password: str, next_path: str = "/") -> Response:
    page = client.get("/login")
    data = {
        "username": name,
        "password": password,
        "next": next_path,
        "csrf_token": form_token(page.text),
    }
    response: Response = client.post("/login", data=data)
    return response


def _session_cookie(set_cookie: list[str]) -> SimpleCookie:
    for header in set_cookie:
        if header.startswith(f"{SESSION_COOKIE}="):
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            return cookie
    raise AssertionError(f"no session cookie in {set_cookie}")


def test_login_with_the_right_password(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.text
    assert '<label for="password">' in page.text
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "next": "/search?q=chon",
            "csrf_token": form_token(page.text),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/search?q=chon"
    assert client.get("/search?q=chon").status_code == 200
    home = client.get("/")
    assert "ana" in home.text
    assert "analyst" in home.text


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    wrong = client.post(
        "/login",
        data={
            "username": "ana",
            "password": "not the password",
            "csrf_token": form_token(client.get("/login").text),
        },
    )
    unknown = client.post(
        "/login",
        data={
            "username": "nobody-here",
            "password": "not the password",
            "csrf_token": form_token(client.get("/login").text),
        },
    )
    assert wrong.status_code == unknown.status_code == 401
    assert LOGIN_FAILED in wrong.text
    assert LOGIN_FAILED in unknown.text
    assert SESSION_COOKIE not in client.cookies
    # The name typed is kept (escaped), the password never comes back.
    assert 'value="nobody-here"' in unknown.text
    assert "not the password" not in unknown.text


def test_empty_form_is_a_failed_login_not_an_error(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"csrf_token": form_token(page.text)})
    assert response.status_code == 401
    assert LOGIN_FAILED in response.text


def test_session_cookie_flags(client: TestClient, settings: Settings) -> None:
    page = client.get("/login")
    form_cookie = page.headers["set-cookie"]
    assert "HttpOnly" in form_cookie
    assert "SameSite=strict" in form_cookie
    response = client.post(
        "/login",
        data={"username": "ana", "password": PASSWORD, "csrf_token": form_token(page.text)},
    )
    cookie = _session_cookie(response.headers.get_list("set-cookie"))[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    assert int(cookie["max-age"]) == settings.session_hours * 3600


def test_secure_flag_when_configured(ws: Workspace, settings: Settings) -> None:
    app = create_app(ws, settings=dataclasses.replace(settings, cookie_secure=True))
    # Secure cookies only travel over https, as they should.
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        page = client.get("/login")
        assert "Secure" in page.headers["set-cookie"]
        response = client.post(
            "/login",
            data={"username": "ana", "password": PASSWORD, "csrf_token": form_token(page.text)},
        )
    assert response.status_code == 303
    cookie = _session_cookie(response.headers.get_list("set-cookie"))[SESSION_COOKIE]
    assert cookie["secure"] is True


def test_logout_ends_the_session(app: FastAPI) -> None:
    client = login_client(app, USERS["analyst"])
    token = client.cookies[SESSION_COOKIE]
    page = client.get("/search")
    response = client.post("/logout", data={"csrf_token": form_token(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert SESSION_COOKIE not in client.cookies
    # The old cookie value is dead on the server, not only forgotten by the browser.
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: token}) as replay:
        assert replay.get("/search").status_code == 303
        assert replay.get("/api/datasets").status_code == 401


def test_expired_session_is_refused(app: FastAPI, ws: Workspace) -> None:
    client = login_client(app, USERS["investigator"])
    assert client.get("/datasets").status_code == 200
    # Sessions are stored as the SHA-256 of the cookie value (tidetrace.auth.users).
    token_hash = hashlib.sha256(client.cookies[SESSION_COOKIE].encode()).hexdigest()
    with ws.engine.begin() as conn:
        conn.execute(
            update(session_table)
            .where(session_table.c.token_hash == token_hash)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    response = client.get("/datasets")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdatasets"
    assert client.get("/api/datasets").status_code == 401


def test_logging_in_again_replaces_the_session(app: FastAPI) -> None:
    client = login_client(app, USERS["analyst"])
    first = client.cookies[SESSION_COOKIE]
    # A logged-in user asking for the form is sent on rather than shown it.
    page = client.get("/login?next=/datasets")
    assert page.status_code == 303
    assert page.headers["location"] == "/datasets"
    # Posting a login while holding a session cookie starts a new session, ends the old.
    token = "t" * 43
    cookies = {SESSION_COOKIE: first, FORM_COOKIE: token}
    with TestClient(app, follow_redirects=False, cookies=cookies) as again:
        response = again.post(
            "/login", data={"username": "ana", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303
        new = _session_cookie(response.headers.get_list("set-cookie"))[SESSION_COOKIE]
        assert new.value != first
    with TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: first}) as old:
        assert old.get("/api/session").status_code == 401


def test_login_redirect_keeps_the_page_asked_for(client: TestClient) -> None:
    response = client.get("/search?q=chon&schema=Vessel")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsearch%3Fq%3Dchon%26schema%3DVessel"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/search?q=chon&amp;schema=Vessel"' in page.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/entities/x", "/entities/x"),
        ("/search?q=a", "/search?q=a"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_next_is_never_an_open_redirect(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_login_does_not_redirect_off_site(client: TestClient) -> None:
    response = _post_login(client, "ana", PASSWORD, next_path="//evil.example/path")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
