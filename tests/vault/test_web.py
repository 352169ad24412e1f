"""Vault pages and API: members see their case; nobody else reads it through any route.

Issue 8: a non-member investigator, an analyst and an anonymous visitor cannot read a
case's items through any route. The routes are walked from the app, not listed by hand.
"""

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.vault import samples
from tests.vault.conftest import PASSWORDS, Vault
from tidetrace.settings import get_settings
from tidetrace.vault import claims, custody, items, keys
from tidetrace.web.app import create_app
from tidetrace.web.deps import iter_routes

TITLE = "Gate photo WEBMARKER-41"
CLAIM = "Workers present CLAIMMARKER-77"


@dataclasses.dataclass
class Ids:
    case: str
    item: str
    claim: str


@pytest.fixture
def app(vault: Vault) -> FastAPI:
    settings = dataclasses.replace(get_settings(), cookie_secure=False, max_upload_mb=1)
    return create_app(vault.ws, settings=settings)


@pytest.fixture
def ids(vault: Vault, tmp_path: Path) -> Ids:
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="WEB-SERIAL")
    item = items.add_file(
        vault.ws, vault.alice, vault.keyring, photo, title=TITLE, grade="B2", about=["fac-1"]
    ).item
    claim = claims.add_claim(vault.ws, vault.alice, vault.keyring, CLAIM, about=["fac-1"])
    claims.link(vault.ws, vault.alice, vault.keyring, claim.id, item.id, note="banner seen")
    return Ids(vault.keyring.case_id, item.id, claim.id)


def _login(app: FastAPI, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": name, "password": PASSWORDS[name], "csrf_token": token.group(1)},
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def clients(app: FastAPI) -> Iterator[dict[str, TestClient]]:
    made = {name: _login(app, name) for name in ("alice", "bob", "carol", "dora")}
    made["anonymous"] = TestClient(app, follow_redirects=False)
    yield made
    for client in made.values():
        client.close()


def _vault_routes(app: FastAPI, ids: Ids) -> list[tuple[str, str]]:
    out = []
    for route in iter_routes(app):
        path = str(route.path)
        if not path.startswith(("/cases", "/api/cases")):
            continue
        concrete = (
            path.replace("{case_id}", ids.case)
            .replace("{item_id}", ids.item)
            .replace("{claim_id}", ids.claim)
            .replace("{role}", "working")
            .replace("{member}", "alice")
        )
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, concrete))
    return out


def test_member_sees_the_case(app: FastAPI, ids: Ids, clients: dict[str, TestClient]) -> None:
    alice = clients["alice"]
    cases_page = alice.get("/cases")
    assert cases_page.status_code == 200
    assert "Dandong plants 2023" in cases_page.text
    case_page = alice.get(f"/cases/{ids.case}")
    assert TITLE in case_page.text and CLAIM in case_page.text
    item_page = alice.get(f"/cases/{ids.case}/items/{ids.item}")
    assert item_page.status_code == 200
    assert "B2: usually reliable source; probably true" in item_page.text
    assert "Chain of custody" in item_page.text and "capture" in item_page.text
    assert "EXIF GPS" in item_page.text  # what the working copy lost
    claim_page = alice.get(f"/cases/{ids.case}/claims/{ids.claim}")
    assert (
        CLAIM in claim_page.text and TITLE in claim_page.text and "banner seen" in claim_page.text
    )
    api = alice.get(f"/api/cases/{ids.case}/items/{ids.item}").json()
    assert api["item"]["title"] == TITLE
    assert [c["action"] for c in api["custody"]] == ["capture", "link", "view", "view"]
    assert alice.get("/api/cases").json()["cases"][0]["items"] == 1
    assert alice.get(f"/api/cases/{ids.claim}").status_code == 404


def test_views_and_downloads_are_signed_custody_entries(
    vault: Vault, ids: Ids, clients: dict[str, TestClient]
) -> None:
    alice = clients["alice"]
    download = alice.get(f"/cases/{ids.case}/items/{ids.item}/files/working")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["content-security-policy"]
    assert download.content.startswith(b"\xff\xd8") and b"WEB-SERIAL" not in download.content
    assert alice.get(f"/cases/{ids.case}/items/{ids.item}/files/original").status_code == 422
    alice.get(f"/cases/{ids.case}/items/{ids.item}")
    actions = [
        (e.entry.action, e.entry.actor)
        for e in custody.history(vault.ws.engine, vault.keyring, ids.item)
    ]
    assert actions[-2:] == [("export", "alice"), ("view", "alice")]


def test_grade_form_and_api_need_csrf(
    vault: Vault, ids: Ids, clients: dict[str, TestClient]
) -> None:
    alice = clients["alice"]
    page = alice.get(f"/cases/{ids.case}/items/{ids.item}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    url = f"/cases/{ids.case}/items/{ids.item}/grade"
    assert alice.post(url, data={"grade": "A1"}).status_code == 403
    done = alice.post(
        url, data={"grade": "A1", "reason": "confirmed", "csrf_token": token.group(1)}
    )
    assert done.status_code == 303
    api_url = f"/api/cases/{ids.case}/items/{ids.item}/grade"
    assert alice.post(api_url, json={"grade": "C3"}).status_code == 403
    csrf = alice.get("/api/session").json()["csrf_token"]
    answer = alice.post(api_url, json={"grade": "C3"}, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200 and answer.json()["grade"] == "C3"
    bad = alice.post(api_url, json={"grade": "Z9"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400
    grades = [
        e.payload.get("to")
        for e in custody.history(vault.ws.engine, vault.keyring, ids.item)
        if e.entry.action == "grade"
    ]
    assert grades == ["A1", "C3"]


@pytest.mark.parametrize("who", ["bob", "dora", "carol", "anonymous"])
def test_outsiders_cannot_read_the_case_through_any_route(
    app: FastAPI, ids: Ids, clients: dict[str, TestClient], who: str
) -> None:
    client = clients[who]
    routes = _vault_routes(app, ids)
    assert len(routes) >= 30
    csrf = client.get("/api/session").json()["csrf_token"] if who != "anonymous" else ""
    for method, path in routes:
        kwargs: dict[str, object] = {}
        if method in ("POST", "PATCH", "DELETE"):
            kwargs = (
                {"json": {"grade": "A1"}, "headers": {"X-CSRF-Token": csrf}}
                if path.startswith("/api/")
                else {"data": {"grade": "A1", "csrf_token": csrf}}
            )
        response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        expected = {
            "bob": 404,  # an investigator, not a member: the case does not exist for him
            "dora": 404,  # an admin, not a member: admins hold no case keys either
            "carol": 403,  # an analyst: no case material at all
            "anonymous": 401 if path.startswith("/api/") else 303,
        }[who]
        if who in ("bob", "dora") and path in ("/cases", "/api/cases"):
            # Their own (empty) list of cases; creating one needs a name.
            expected = 200 if method == "GET" else 422
        assert response.status_code == expected, (who, method, path, response.status_code)
        for secret in (TITLE, CLAIM, "Dandong plants", "WEB-SERIAL", "fac-1"):
            assert secret not in response.text, (who, method, path)
    if who in ("bob", "dora"):
        assert client.get("/api/cases").json() == {"cases": []}


def test_locked_session_explains_itself(ids: Ids, clients: dict[str, TestClient]) -> None:
    alice = clients["alice"]
    token = alice.cookies.get("tidetrace_session")
    assert token is not None
    keys.forget_session(token)  # what a server restart does to unlocked keys
    page = alice.get(f"/cases/{ids.case}")
    assert page.status_code == 401
    assert "log out and log in again" in page.text
    assert TITLE not in page.text
    assert alice.get("/api/cases").status_code == 401
