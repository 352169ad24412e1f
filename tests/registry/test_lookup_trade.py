"""The lookup's trade section comes from the supply-chain graph, after entity resolution.

End to end: the registry list and the investigation case, synthetic bills of lading for a
registry plant through the trade-records ingest, entity resolution, a graph build; then the
lookup (library, CLI, API and page) shows the tonnage a DuckDB query over the Parquet gives.
"""

import json
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.registry.support import synthetic_bills, write
from tidetrace.cli import app as cli_app
from tidetrace.graph.build import build_graph
from tidetrace.model import model
from tidetrace.registry.lookup import lookup_code
from tidetrace.registry.trade import GraphTrade
from tidetrace.store import DatasetInfo, EntityStore
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

TAIFENG = "estab-cn-2100-02153"


@pytest.fixture
def traded_ws(registry_ws: Workspace, tmp_path: Path) -> Workspace:
    """The registry workspace with synthetic bills ingested, resolved and the graph built."""
    from tidetrace.resolve.run import resolve_workspace
    from tidetrace.shipments.ingest import IngestOptions, ingest_shipments

    bills = write(tmp_path / "bills.csv", synthetic_bills())
    report = ingest_shipments(
        registry_ws, [bills], IngestOptions(dataset="synthetic_bills", layout="generic")
    )
    assert not report.failed
    resolve_workspace(registry_ws)
    build_graph(registry_ws)
    return registry_ws


def _parquet_tonnes(ws: Workspace) -> tuple[int, float]:
    """Bills and tonnes of the Taifeng shipper, straight from the trade-records Parquet."""
    files = str(ws.parquet_dir / "shipments" / "**" / "*.parquet")
    row = duckdb.sql(
        f"""
        SELECT count(*), sum(weight_kg) / 1000 FROM read_parquet('{files}', union_by_name = true)
        WHERE shipper_name ILIKE '%TAIFENG%' AND coalesce(record_status, '') <> 'deleted'
        """
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def test_trade_from_the_graph_matches_the_parquet(traded_ws: Workspace) -> None:
    bills, tonnes = _parquet_tonnes(traded_ws)
    assert (bills, tonnes) == (12, 126.0)
    result = lookup_code(traded_ws.engine, "CN 2100/02153 EC", trade=GraphTrade(traded_ws))
    assert result.facility is not None
    trade = result.trade
    assert trade.available and not trade.stale
    assert trade.shipments == bills
    assert trade.tonnage == tonnes
    assert (trade.first_date, trade.last_date) == ("2023-01-05", "2023-12-05")
    assert [c.name for c in trade.consignees] == ["BLUE HARBOR FOODS LLC", "NORTH SEA IMPORTS INC"]
    assert sum(c.tonnage or 0 for c in trade.consignees) == tonnes
    assert trade.hs_codes == ["030743", "160554"]
    assert trade.graph_version == "v1"
    # The unrelated shipper's bill is not the plant's.
    assert "QINGDAO" not in json.dumps(result.to_dict())
    # Another plant of the list has no trade.
    other = lookup_code(traded_ws.engine, "3700/02001", trade=GraphTrade(traded_ws)).trade
    assert other.available and other.shipments == 0
    assert "no shipments" in other.note


def test_every_surface_shows_the_same_trade(traded_ws: Workspace) -> None:
    _, tonnes = _parquet_tonnes(traded_ws)
    cli = CliRunner().invoke(
        cli_app, ["lookup", "2100/02153", "--json", "--home", str(traded_ws.home)]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["trade"]["tonnage"] == tonnes
    text = CliRunner().invoke(cli_app, ["lookup", "2100/02153", "--home", str(traded_ws.home)])
    assert f"shipments: 12, {tonnes} t" in text.stdout
    with TestClient(create_app(traded_ws)) as client:
        api = client.get("/api/lookup", params={"code": "2100/02153"})
        assert api.status_code == 200
        assert api.json()["trade"]["tonnage"] == tonnes
        assert api.json()["trade"]["shipments"] == 12
        page = client.get("/lookup", params={"code": "2100/02153"})
        assert page.status_code == 200
        assert "12 shipments, 126.0 tonnes" in page.text
        assert "BLUE HARBOR FOODS LLC" in page.text
        assert "160554" in page.text


def test_no_graph_is_said_and_never_built(registry_ws: Workspace) -> None:
    result = lookup_code(registry_ws.engine, "2100/02153", trade=GraphTrade(registry_ws))
    assert not result.trade.available
    assert "tidetrace graph build" in result.trade.note
    # A public request must not start a build.
    assert not (registry_ws.home / "graph" / "CURRENT").exists()


def _shipments(ws: Workspace, shipper: str, consignee: str) -> None:
    items = []
    for n, (kg, day) in enumerate([(12000, "2023-02-01"), (8000, "2023-05-01")]):
        shipment = model.make_entity("Shipment")
        shipment.id = f"test-bol-{n}"
        shipment.add("billOfLading", f"BOL{n}")
        shipment.add("shipper", shipper)
        shipment.add("consignee", consignee)
        shipment.add("weightKg", str(kg))
        shipment.add("arrivalDate", day)
        shipment.add("hsCode", "030743")
        items.append(shipment)
    EntityStore(ws.engine).add_entities(items, DatasetInfo(name="test_trade", title="test"))


def test_store_shipments_reach_the_lookup_through_the_graph(registry_ws: Workspace) -> None:
    _shipments(registry_ws, TAIFENG, "case-walmart")
    build_graph(registry_ws)
    trade = lookup_code(registry_ws.engine, "2100/02153", trade=GraphTrade(registry_ws)).trade
    assert (trade.shipments, trade.tonnage) == (2, 20.0)
    assert (trade.first_date, trade.last_date) == ("2023-02-01", "2023-05-01")
    assert [c.name for c in trade.consignees] == ["Walmart"]
    assert trade.hs_codes == ["030743"]


def test_a_stale_graph_is_said(registry_ws: Workspace, tmp_path: Path) -> None:
    from tidetrace.shipments.ingest import IngestOptions, ingest_shipments

    build_graph(registry_ws)
    bills = write(tmp_path / "bills.csv", synthetic_bills())
    ingest_shipments(registry_ws, [bills], IngestOptions(dataset="late", layout="generic"))
    trade = lookup_code(registry_ws.engine, "2100/02153", trade=GraphTrade(registry_ws)).trade
    assert trade.available and trade.stale
    assert trade.shipments == 0
    assert "predates" in trade.note
