"""End to end through the CLI: the investigation case, synthetic bills, one resolution run.

A bill of lading names the investigation's plant "Dalian Haiqing Food" the way filers
write it, among a few thousand synthetic bills (whose invented plants crowd the same
cities and trade words). After ``import case``, ``ingest shipments`` and ``resolve`` the
plant and the party are one canonical entity, and the entity's page shows both names.
"""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidetrace.cli import app
from tidetrace.graph.graphdb import open_graph
from tidetrace.resolve.judgements import Resolver
from tidetrace.resolve.run import iter_party_records
from tidetrace.store.entities import EntityStore
from tidetrace.views import entity_view
from tidetrace.workspace import Workspace

runner = CliRunner()
BILL = (
    "bill_of_lading,arrival_date,shipper_name,shipper_country,consignee_name,"
    "consignee_country,hs_code,weight,weight_unit\n"
    'MEDU0000011,2023-01-05,"DALIAN HAIQING FOODS CO.,LTD",CN,NORTH SEA IMPORTS INC,US,'
    "030743,1000,KG\n"
)


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_case_plant_and_bill_spelling_become_one_entity(
    workspace: Workspace, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tidetrace.shipments.ingest")
    monkeypatch.setenv("TIDETRACE_HOME", str(workspace.home))
    bills = tmp_path / "synth"
    run("synth", "shipments", "--rows", "3000", "--seed", "3", "-o", str(bills))
    (tmp_path / "haiqing.csv").write_text(BILL, encoding="utf-8")
    run("import", "case", str(shared_data / "investigation"))
    files = [*sorted(str(p) for p in bills.glob("*.csv")), str(tmp_path / "haiqing.csv")]
    run("ingest", "shipments", *files)
    run("resolve")

    party, name = next(
        (r.id, r.names[0])
        for r in iter_party_records(workspace)
        if r.names[0].startswith("DALIAN HAIQING")
    )
    resolver = Resolver(workspace.engine)
    canonical = resolver.canonical("case-plant-haiqing")
    assert resolver.canonical(party) == canonical != "case-plant-haiqing"
    members = resolver.clusters().members("case-plant-haiqing")
    assert members >= {"case-plant-haiqing", party}
    merged = EntityStore(workspace.engine).get_entity(canonical)
    assert merged is not None and merged.schema.name == "Facility"
    # The ingest cleaned the filed spelling (DALIAN HAIQING FOODS CO LTD): as stored.
    assert {"Dalian Haiqing Food", name} <= set(merged.get("name"))
    # Its page is titled by the case's name, not by the spelling as filed on the bill.
    assert entity_view(EntityStore(workspace.engine), canonical).caption == "Dalian Haiqing Food"
    # So is its node in the supply-chain graph.
    run("graph", "build")
    graph = open_graph(workspace)
    assert graph.names[graph.node(canonical)] == "Dalian Haiqing Food"
    # Running again changes nothing and still keeps them together.
    assert "0 linked, 0 unlinked" in run("resolve")
    assert Resolver(workspace.engine).canonical(party) == canonical
