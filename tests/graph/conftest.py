"""Fixtures for the graph tests: the hand-built graph, built once per module."""

from collections.abc import Iterator
from datetime import date

import pytest

from tests.graph import support
from tidetrace.graph.build import build_graph
from tidetrace.graph.flags import FlagIndex, add_flag, load_flag_index
from tidetrace.graph.graphdb import LoadedGraph, open_graph
from tidetrace.workspace import Workspace


@pytest.fixture(scope="module")
def graph_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace holding the hand-built graph, built, with plant P flagged from 2023."""
    home = tmp_path_factory.mktemp("graph")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TIDETRACE_DATABASE_URL", raising=False)
        ws = Workspace.init(home / "ws")
    support.load(ws)
    add_flag(
        ws.engine,
        "t-p",
        "North Korean workers filmed on the processing line",
        evidence=["vault:1"],
        since=date(2023, 1, 1),
        actor="tester",
    )
    build_graph(ws, actor="tester")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def graph(graph_ws: Workspace) -> LoadedGraph:
    """The built hand-built graph."""
    return open_graph(graph_ws)


@pytest.fixture(scope="module")
def flags(graph_ws: Workspace) -> FlagIndex:
    """Standing flags of the hand-built graph (P only)."""
    return load_flag_index(graph_ws.engine)
