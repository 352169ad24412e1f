"""Fixtures for the screening tests: one workspace with the case, the UN 1718 list, the
hand-built graph (tests/graph/support.py), a finding on plant P, users and an API key."""

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.graph import support
from tidetrace import loaders
from tidetrace.auth.users import add_user
from tidetrace.graph.build import build_graph
from tidetrace.graph.flags import add_flag
from tidetrace.model import model
from tidetrace.screen.apikeys import issue_key
from tidetrace.screen.index import ScreenIndex, drop_cache, get_index
from tidetrace.settings import get_settings
from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

PASSWORD = "correct horse battery staple"
USERS = {"analyst": "sana", "public": "spat", "investigator": "sivan"}


@dataclass
class ScreenWorld:
    """The shared workspace and what was made in it."""

    ws: Workspace
    api_key: str
    public_key: str


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[ScreenWorld]:
    """A workspace with sanctions, the case, the hand-built graph (built) and users."""
    home = tmp_path_factory.mktemp("screen")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TIDETRACE_DATABASE_URL", raising=False)
        ws = Workspace.init(home / "ws")
    loaders.load_un_sc(
        ws, shared_data / "sanctions" / "un_sc_consolidated_2026-02-27.xml", program="DPRK"
    )
    loaders.load_case(ws, shared_data / "investigation")
    support.load(ws)
    plant = model.make_entity("Facility")
    plant.id = "test-reg-2100-02153"
    plant.add("name", "Liaoning Example Aquatic Products Co., Ltd.")
    plant.add("approvalCode", "2100/02153")
    plant.add("country", "cn")
    EntityStore(ws.engine).add_entities([plant], DatasetInfo(name="test_registry", title="test"))
    add_flag(ws.engine, "t-p", "North Korean workers filmed", since=date(2023, 1, 1))
    build_graph(ws)
    for role, name in USERS.items():
        add_user(ws.engine, name, role, PASSWORD)
    key, _ = issue_key(ws.engine, USERS["analyst"], "tests")
    public_key, _ = issue_key(ws.engine, USERS["public"], "tests")
    drop_cache()
    yield ScreenWorld(ws, key, public_key)
    ws.close()


@pytest.fixture(scope="session")
def index(world: ScreenWorld) -> ScreenIndex:
    """The screening index of the shared workspace."""
    return get_index(world.ws)


@pytest.fixture()
def app(world: ScreenWorld) -> FastAPI:
    """The web app over the shared workspace."""
    settings = dataclasses.replace(get_settings(), cookie_secure=False, max_upload_mb=1)
    return create_app(world.ws, settings=settings)


def form_token(html: str) -> str:
    """The csrf_token hidden field of the first form in a page."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found is not None
    return found.group(1)


def login(app: FastAPI, role: str) -> TestClient:
    """A TestClient logged in through the login form as the user of ``role``."""
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": USERS[role], "password": PASSWORD, "csrf_token": form_token(page.text)},
    )
    assert response.status_code == 303, response.text
    return client
