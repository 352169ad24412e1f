"""Every route declares who may use it, and the declaration holds for every route.

These tests walk the app's routes rather than a list kept by hand, so a route added later
is checked without anyone remembering to add it here.
"""

import re
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.requests import Request

from tidetrace.auth.roles import READERS, WRITERS, Role
from tidetrace.web.app import check_routes, wants_json
from tidetrace.web.deps import WRITE, Allow, allow, iter_routes, route_permission

from .support import LoginFn

# Public now; later issues add /lookup and /report here on purpose.
PUBLIC_PATHS = {
    "/",
    "/login",
    "/healthz",
    # Package-code lookup (issue 4): anyone holding a pack may ask.
    "/lookup",
    "/lookup/image",
    "/api/lookup",
    "/api/lookup/image",
    # Anonymous tip line (issue 9): no login, no record of who reports.
    "/report",
    "/report/status",
    "/report/more",
    "/report/tipline.js",
    "/report/report.css",
    "/report/icon.svg",
    "/report/dummy-id",  # the catch-all keeping strict headers on unknown /report paths
    "/api/report",
    "/api/report/status",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Served without a declaration: static files are not views.
UNDECLARED = {"/static"}
FASTAPI_DEFAULTS = {"/docs/oauth2-redirect", "/redoc"}


def _routes(app: FastAPI) -> list[tuple[str, str, Allow]]:
    """(method, concrete path, declaration) for every method of every declared route."""
    out = []
    for route in iter_routes(app):
        if route.path in UNDECLARED:
            continue
        allowed = route_permission(route)
        assert allowed is not None, f"route {route.path} declares no permission"
        # Path parameters get a dummy value, so every route is actually reached.
        path = re.sub(r"\{[^}]+\}", "dummy-id", route.path_format)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, path, allowed))
    return out


def test_every_route_declares_a_permission(app: FastAPI) -> None:
    seen = set()
    for route in iter_routes(app):
        seen.add(route.path)
        if route.path in UNDECLARED:
            continue
        allowed = route_permission(route)
        assert allowed is not None, f"route {route.path} declares no permission"
        assert allowed.public or allowed.roles
    # FastAPI's own pages would bypass the declarations: they must not exist.
    assert not seen & FASTAPI_DEFAULTS
    assert {"/docs", "/openapi.json"} <= seen
    check_routes(app)


def test_public_routes_are_the_intended_ones(app: FastAPI) -> None:
    public = {path for _method, path, allowed in _routes(app) if allowed.public}
    assert public == PUBLIC_PATHS


def test_a_route_without_declaration_stops_the_app(app: FastAPI) -> None:
    @app.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="/forgotten"):
        check_routes(app)


def test_declaring_twice_is_refused(app: FastAPI) -> None:
    @app.get("/twice", dependencies=[Depends(WRITE), Depends(allow(Role.ADMIN))])
    def twice() -> dict[str, str]:
        return {}

    route = next(r for r in iter_routes(app) if r.path == "/twice")
    with pytest.raises(ValueError, match="declares"):
        route_permission(route)


def test_allow_refuses_the_public_role() -> None:
    with pytest.raises(ValueError, match="allow_public"):
        allow(Role.PUBLIC)
    with pytest.raises(ValueError):
        Allow([])


def test_anonymous_requests_never_reach_non_public_routes(app: FastAPI, client: TestClient) -> None:
    checked = 0
    for method, path, allowed in _routes(app):
        if allowed.public:
            continue
        response = client.request(method, path)
        checked += 1
        if path.startswith(("/api/", "/healthz", "/openapi.json")):
            assert response.status_code == 401, (method, path)
            assert response.json() == {"detail": "log in to see this page"}
        else:
            assert response.status_code == 303, (method, path)
            location = response.headers["location"]
            assert location.startswith("/login?next="), (method, path)
    assert checked >= 8


def test_a_user_without_a_reader_role_gets_403(app: FastAPI, login: LoginFn) -> None:
    public_user = login("public")
    for method, path, allowed in _routes(app):
        if allowed.public or Role.PUBLIC in allowed.roles or method in UNSAFE:
            continue
        response = public_user.request(method, path)
        assert response.status_code == 403, (method, path)


@pytest.mark.parametrize("role", ["analyst", "investigator", "admin"])
def test_roles_get_403_exactly_where_not_admitted(app: FastAPI, login: LoginFn, role: str) -> None:
    client = login(role)
    for method, path, allowed in _routes(app):
        if allowed.public or method in UNSAFE:
            continue
        status = client.request(method, path).status_code
        if Role(role) in allowed.roles:
            assert status != 403, (method, path)
        else:
            assert status == 403, (method, path)


def test_reader_routes_admit_every_reader(app: FastAPI) -> None:
    for _method, path, allowed in _routes(app):
        if path.startswith(("/search", "/entities", "/datasets", "/api/search")):
            assert allowed.roles == READERS, path


def test_shipments_routes_read_for_readers_and_ingest_for_writers(app: FastAPI) -> None:
    found = {}
    for method, path, allowed in _routes(app):
        if path.startswith(("/shipments", "/api/shipments")):
            found[(method, path)] = allowed.roles
    assert found == {
        ("GET", "/api/shipments"): READERS,
        ("GET", "/api/shipments/ingests"): READERS,
        ("POST", "/api/shipments/ingest"): WRITERS,
        ("GET", "/shipments"): READERS,
        ("POST", "/shipments/ingest"): WRITERS,
    }


def test_state_changing_routes_reject_missing_or_wrong_csrf(app: FastAPI, login: LoginFn) -> None:
    unsafe = [(m, p, a) for m, p, a in _routes(app) if m in UNSAFE]
    assert {p for _m, p, _a in unsafe} >= {"/login", "/logout"}
    for method, path, allowed in unsafe:
        role = "admin" if Role.ADMIN in allowed.roles else sorted(allowed.roles)[0].value
        client = login(role)
        for data in ({}, {"csrf_token": "wrong"}, {"csrf_token": ""}):
            response = client.request(method, path, data=data)
            assert response.status_code == 403, (method, path, data)
            assert "CSRF" in response.text
        # The wrong header counts as wrong, too.
        response = client.request(method, path, headers={"X-CSRF-Token": "wrong"})
        assert response.status_code == 403, (method, path)
        # The session survived every refused attempt.
        assert client.get("/api/session").status_code == 200


def test_login_needs_the_double_submit_token(client: TestClient) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    data = {"username": "ana", "password": "x" * 12, "csrf_token": token.group(1)}
    # A forged login from another site has neither the cookie nor the token.
    with TestClient(client.app, follow_redirects=False) as stranger:
        assert stranger.post("/login", data=data).status_code == 403
    # The cookie without the matching field fails too.
    assert client.post("/login", data={**data, "csrf_token": "x" * 43}).status_code == 403
    # Both together reach the password check (which then fails).
    assert client.post("/login", data=data).status_code == 401


class Note(BaseModel):
    """A test-only JSON body."""

    text: str


def test_json_posts_need_the_csrf_header(app: FastAPI, login: LoginFn) -> None:
    @app.post("/api/test-notes", dependencies=[Depends(WRITE)])
    def add_note(note: Note) -> dict[str, Any]:
        return {"saved": note.text}

    check_routes(app)
    investigator = login("investigator")
    token = investigator.get("/api/session").json()["csrf_token"]
    body = {"text": "seen at berth 4"}
    assert investigator.post("/api/test-notes", json=body).status_code == 403
    wrong = investigator.post("/api/test-notes", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    assert wrong.json()["detail"].startswith("missing or wrong CSRF token")
    ok = investigator.post("/api/test-notes", json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200
    assert ok.json() == {"saved": "seen at berth 4"}
    # An analyst may read but not write, token or not.
    analyst = login("analyst")
    analyst_token = analyst.get("/api/session").json()["csrf_token"]
    denied = analyst.post("/api/test-notes", json=body, headers={"X-CSRF-Token": analyst_token})
    assert denied.status_code == 403
    # Another session's token is no good.
    stolen = analyst.post("/api/test-notes", json=body, headers={"X-CSRF-Token": token})
    assert stolen.status_code == 403


def test_wants_json_covers_the_api() -> None:
    def request(path: str) -> Request:
        return Request({"type": "http", "path": path, "query_string": b"", "headers": []})

    assert wants_json(request("/api/search"))
    assert wants_json(request("/healthz"))
    assert not wants_json(request("/search"))
    assert not wants_json(request("/apiary"))
