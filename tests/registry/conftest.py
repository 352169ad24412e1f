"""Fixtures for the registry tests: a workspace with the investigation case and a small list."""

from pathlib import Path

import pytest

from tests.registry.support import TEST_LIST, write
from tidetrace import loaders
from tidetrace.registry.ingest import ingest_registry
from tidetrace.workspace import Workspace


@pytest.fixture
def case_ws(workspace: Workspace, shared_data: Path) -> Workspace:
    """A workspace with the investigation case imported (eight plants without codes)."""
    loaders.load_case(workspace, shared_data / "investigation")
    return workspace


@pytest.fixture
def registry_ws(case_ws: Workspace, tmp_path: Path) -> Workspace:
    """The case plus the test list, ingested as dataset ``test_list``."""
    path = write(tmp_path / "list.csv", TEST_LIST)
    ingest_registry(case_ws, path, "generic", source="test_list", as_of="2024-01-01")
    return case_ws
