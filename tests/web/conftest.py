"""Fixtures for the web tests: a workspace with users of every role and a small store.

The workspace is built once per session (Argon2 hashing is slow on purpose); each test
gets a fresh app and clients. Tests that change sessions only touch their own.
"""

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tidetrace.auth.users import add_user
from tidetrace.settings import Settings, get_settings
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

from .support import PASSWORD, USERS, LoginFn, login_client, store_entities


@pytest.fixture(scope="session")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace with one user per role and a small store (built once)."""
    home = tmp_path_factory.mktemp("workspace")
    with pytest.MonkeyPatch.context() as mp:
        # Always SQLite in the temp dir, whatever the environment points at.
        mp.delenv("TIDETRACE_DATABASE_URL", raising=False)
        workspace = Workspace.init(home)
    for role, name in USERS.items():
        add_user(workspace.engine, name, role, PASSWORD)
    store_entities(workspace)
    yield workspace
    workspace.close()


@pytest.fixture()
def settings() -> Settings:
    """Settings independent of the environment the tests run in."""
    return dataclasses.replace(
        get_settings(), cookie_secure=False, session_hours=12, max_upload_mb=1
    )


@pytest.fixture()
def app(ws: Workspace, settings: Settings) -> FastAPI:
    """The app under test."""
    return create_app(ws, settings=settings)


@pytest.fixture()
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous client that does not follow redirects."""
    with TestClient(app, follow_redirects=False) as anonymous:
        yield anonymous


@pytest.fixture()
def login(app: FastAPI) -> Iterator[LoginFn]:
    """Log in as the user of a role: ``login("analyst")`` → a logged-in TestClient."""
    clients: list[TestClient] = []

    def _login(role: str) -> TestClient:
        client = login_client(app, USERS[role])
        clients.append(client)
        return client

    yield _login
    for client in clients:
        client.close()


@pytest.fixture()
def analyst(login: LoginFn) -> TestClient:
    """A client logged in as an analyst (a reader)."""
    return login("analyst")
