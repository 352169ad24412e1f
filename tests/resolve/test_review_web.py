"""The web review page: who may use it, what it shows, one answer, bulk, and a real browser."""

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, serve
from tests.resolve.conftest import add_entities
from tests.web.support import PASSWORD, login_client
from tidetrace.auth.users import add_user
from tidetrace.resolve.judgements import Judgement, Resolver
from tidetrace.resolve.run import resolve_workspace
from tidetrace.settings import get_settings
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

ENTITIES = [
    {"id": "reg-haiqing", "schema": "Company", "name": "大连海青食品有限公司", "country": "cn"},
    {"id": "eu-haiqing", "schema": "Company", "name": "Dalian Haiqing Food Co., Ltd."},
    {"id": "reg-haiqing2", "schema": "Company", "name": "大连海清食品有限公司", "country": "cn"},
    {"id": "generic-1", "schema": "Company", "name": "丹东食品有限公司"},
    {"id": "generic-2", "schema": "Company", "name": "丹东水产品有限公司"},
    {"id": "generic-3", "schema": "Company", "name": "丹东海产品有限公司"},
    {"id": "reg-taifeng", "schema": "Company", "name": "丹东泰丰食品有限公司"},
    {"id": "reg-taifeng2", "schema": "Company", "name": "丹东泰峰食品有限公司"},
    {
        "id": "eu-haiqing-branch",
        "schema": "Company",
        "name": "Dalian Haiqing Food Co., Ltd. Branch",
    },
]


@pytest.fixture
def app(workspace: Workspace) -> FastAPI:
    add_entities(workspace, ENTITIES)
    add_user(workspace.engine, "ivan", "investigator", PASSWORD)
    add_user(workspace.engine, "ana", "analyst", PASSWORD)
    resolve_workspace(workspace, actor="test")
    settings = dataclasses.replace(get_settings(), cookie_secure=False)
    return create_app(workspace, settings=settings)


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_investigators_only(app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as anonymous:
        assert anonymous.get("/review").status_code == 303
        assert anonymous.get("/api/review").status_code == 401
    analyst = login_client(app, "ana")
    assert analyst.get("/review").status_code == 403
    assert analyst.get("/api/review").status_code == 403
    analyst.close()


def test_page_shows_both_sides_with_provenance_and_explanation(app: FastAPI) -> None:
    client = login_client(app, "ivan")
    page = client.get("/review")
    assert page.status_code == 200
    html = page.text
    assert "大连海清食品有限公司" in html or "丹东" in html
    assert 'class="side"' in html and html.count('class="provenance"') == 2
    assert "resolve_test" in html  # the dataset of each value
    assert "Why this score" in html and "place_match" in html
    assert 'data-key="y"' in html and "/static/review.js" in html
    data = client.get("/api/review").json()
    assert data["open_count"] >= 2
    assert data["item"]["explanation"]["features"]
    client.close()


def test_one_answer_then_bulk(app: FastAPI, workspace: Workspace) -> None:
    client = login_client(app, "ivan")
    before = client.get("/api/review").json()
    item = before["item"]
    token = csrf(client.get("/review").text)
    response = client.post(
        "/review/judge",
        data={
            "csrf_token": token,
            "left": item["left"],
            "right": item["right"],
            "judgement": "negative",
            "note": "other firm",
        },
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/review?")
    edge = Resolver(workspace.engine).edges(item["left"])[-1]
    assert (edge.judgement, edge.actor, edge.note) == (Judgement.NEGATIVE, "ivan", "other firm")
    after = client.get("/api/review").json()
    # One answer settles its pair, and any other that the clusters now answer.
    assert 0 < after["open_count"] < before["open_count"]
    pairs = [row["key"] for row in after["queue"]]
    page = client.post(
        "/review/bulk",
        data={"csrf_token": token, "judgement": "unsure", "pair": [*pairs, "not-a-pair"]},
    )
    assert page.status_code == 200
    assert f"{len(pairs)} pair(s) marked unsure" in page.text
    assert "not a pair" in page.text
    assert client.get("/api/review").json()["open_count"] == 0
    # Without the CSRF token nothing is judged.
    assert (
        client.post(
            "/review/judge", data={"left": "a", "right": "b", "judgement": "unsure"}
        ).status_code
        == 403
    )
    client.close()


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.mark.browser
def test_review_in_a_browser_with_keys_and_bulk(
    server: str, workspace: Workspace, tmp_path: Path
) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{server}/review")
            page.get_by_label("User name").fill("ivan")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            skip = page.get_by_role("link", name="Skip", exact=True)
            if skip.count():
                # Investigators may be offered a second factor first (for testimonies).
                skip.click()
                page.wait_for_load_state()
            if not page.url.endswith("/review"):
                page.goto(f"{server}/review")
            open_before = int(page.locator("#open-count").inner_text())
            assert page.locator(".side").count() == 2
            page.screenshot(path=tmp_path / "review.png", full_page=True)
            # Typing in the note field must not answer; the key "u" outside it does.
            page.get_by_label("Note (optional)").fill("unsure: check the USCC")
            page.locator("h1").click()
            page.keyboard.press("u")
            page.wait_for_url(re.compile(r".*/review\?offset=0&done=.*"))
            assert int(page.locator("#open-count").inner_text()) == open_before - 1
            assert "unsure" in page.locator(".notice").inner_text()
            # "s" skips without answering.
            page.keyboard.press("s")
            page.wait_for_url(re.compile(r".*/review\?offset=1$"))
            assert int(page.locator("#open-count").inner_text()) == open_before - 1
            # Bulk: tick everything, mark different.
            page.locator("#select-all").check()
            page.get_by_role("button", name="Ticked: different").click()
            page.wait_for_load_state()
            assert "marked different" in page.locator(".notice").inner_text()
            # The list started after the skipped pair, which is still open.
            assert page.locator("#open-count").inner_text() == "1"
            assert errors == []
        finally:
            browser.close()
    resolver = Resolver(workspace.engine)
    human = {e.id: e for row in ENTITIES for e in resolver.edges(row["id"]) if e.human}
    assert {e.actor for e in human.values()} == {"ivan"}
    kinds = {e.judgement for e in human.values()}
    assert kinds == {Judgement.UNSURE, Judgement.NEGATIVE}
    unsure = [e for e in human.values() if e.judgement is Judgement.UNSURE]
    assert unsure[0].note == "unsure: check the USCC"
