"""The demo builds a workspace from the bundled real data with a working login."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidetrace.auth.users import authenticate
from tidetrace.cli import app
from tidetrace.demo import SYNTHETIC_SHIPMENTS_DATASET, build_demo
from tidetrace.exc import WorkspaceError
from tidetrace.graph.build import graph_is_stale
from tidetrace.shipments.store import ShipmentStore
from tidetrace.store import EntityStore
from tidetrace.workspace import Workspace


@pytest.mark.slow
def test_build_demo(tmp_path: Path) -> None:
    lines: list[str] = []
    info = build_demo(tmp_path / "demo", echo=lines.append)
    ws = Workspace.open(info.home)
    store = EntityStore(ws.engine)
    counts = store.count_by_schema()
    assert len(store.search("dandong taifeng", schema="Facility")) >= 1
    assert counts["Vessel"] > 100
    plants = {h.caption for h in store.search("dandong", schema="Facility")}
    assert "Dandong Taifeng" in plants
    vessels = store.search("chon ma san", schema="Vessel")
    assert vessels
    assert authenticate(ws.engine, info.user, info.password) is not None
    assert any("ofac_sdn" in line for line in lines)
    assert any("SYNTHETIC" in line for line in lines)
    assert counts["Facility"] > 1000
    # A synthetic code looks up to its plant, labelled synthetic.
    code = next(
        s.value
        for s in store.iter_statements("synthetic_registry")
        if s.prop == "approvalCode" and "/" in s.value
    )
    result = CliRunner().invoke(app, ["lookup", code, "--json", "--home", str(info.home)])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["facility"]["synthetic"] is True
    # Synthetic bills of lading are stored, in a dataset named as synthetic, and queryable.
    assert any("SYNTHETIC bills of lading" in line for line in lines)
    stored = ShipmentStore(ws).counts()
    assert set(stored) == {SYNTHETIC_SHIPMENTS_DATASET}
    assert stored[SYNTHETIC_SHIPMENTS_DATASET]["bills"] > 15_000
    result = CliRunner().invoke(
        app, ["shipments", "query", "--seafood", "--limit", "3", "--json", "--home", str(info.home)]
    )
    assert result.exit_code == 0, result.output
    bills = json.loads(result.stdout)
    assert len(bills) == 3
    assert all(bill["dataset"] == SYNTHETIC_SHIPMENTS_DATASET for bill in bills)
    # The graph is built: the case's asserted links are traceable at once.
    assert any(line.strip().startswith("graph v1:") for line in lines)
    assert not graph_is_stale(ws)


def test_demo_never_replaces_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    with pytest.raises(WorkspaceError):
        build_demo(tmp_path / "precious")
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"
