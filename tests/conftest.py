"""Shared fixtures: workspaces on every storage backend, the real data, a PostgreSQL server."""

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import create_database, postgres_server
from tidetrace.workspace import Workspace

SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
BUNDLED_DATA = (Path(__file__).resolve().parents[1] / "data").resolve()
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data beside the repo (../shared/data), else the bundled copy."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    return BUNDLED_DATA


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session (never skipped: CI must run it)."""
    with postgres_server() as url:
        yield url


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh SQLite workspace."""
    monkeypatch.delenv("TIDETRACE_DATABASE_URL", raising=False)
    ws = Workspace.init(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_workspace(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """A fresh workspace on each storage backend: one test body, every backend."""
    if request.param == "postgres":
        base = request.getfixturevalue("postgres_url")
        url = create_database(base, f"tt_{next(_db_counter)}")
        monkeypatch.setenv("TIDETRACE_DATABASE_URL", url)
    else:
        monkeypatch.delenv("TIDETRACE_DATABASE_URL", raising=False)
    ws = Workspace.init(tmp_path / "ws")
    yield ws
    ws.close()
