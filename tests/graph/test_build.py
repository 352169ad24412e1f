"""The graph build: trade records from Parquet and the store, incremental rebuilds, resolution."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import update

from tests.graph import support
from tidetrace.graph.build import GraphPaths, build_graph, ensure_graph, graph_is_stale
from tidetrace.graph.flags import load_flag_index
from tidetrace.graph.graphdb import open_graph
from tidetrace.graph.sources import ParquetShipments, party_id
from tidetrace.graph.trace import trace
from tidetrace.store.tables import statement_table
from tidetrace.workspace import Workspace


def _write_month(root: Path, year: int, month: int, rows: list[dict[str, object]]) -> Path:
    """One Hive partition of the generic trade-records layout."""
    folder = root / f"arrival_year={year}" / f"arrival_month={month}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "part-0.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _bill(
    n: int, shipper: str, consignee: str, kg: float, day: str, **extra: object
) -> dict[str, object]:
    row: dict[str, object] = {
        "bill_of_lading": f"MEDU{n:07d}",
        "arrival_date": day,
        "shipper_name": shipper,
        "shipper_country": "CN",
        "consignee_name": consignee,
        "consignee_country": "US",
        "notify_name": extra.pop("notify", None),
        "hs_code": extra.pop("hs", "030743"),
        "weight_kg": kg,
    }
    row.update(extra)
    return row


def test_parquet_partitions_build_incrementally(workspace: Workspace) -> None:
    root = workspace.parquet_dir
    _write_month(
        root,
        2023,
        1,
        [
            _bill(1, "DALIAN HAIQING FOOD CO LTD", "OCEAN BEST IMPORTS INC", 1000, "2023-01-05"),
            _bill(2, "DALIAN HAIQING FOOD CO LTD", "OCEAN BEST IMPORTS INC", 500, "2023-01-20"),
        ],
    )
    _write_month(
        root,
        2023,
        2,
        [
            _bill(
                3,
                "DALIAN HAIQING FOOD CO LTD",
                "SEA STAR LLC",
                700,
                "2023-02-02",
                notify="BIG BOX RETAIL",
            )
        ],
    )
    first = build_graph(workspace)
    assert first.partitions_read == 2
    assert first.observed_edges == 3  # two shipped edges and one notify edge
    assert not graph_is_stale(workspace)
    assert ensure_graph(workspace) is None

    # A new month arrives: only it is read.
    _write_month(
        root, 2023, 3, [_bill(4, "DALIAN HAIQING FOOD CO LTD", "SEA STAR LLC", 300, "2023-03-03")]
    )
    assert graph_is_stale(workspace)
    second = build_graph(workspace)
    assert (second.partitions_read, second.partitions_kept) == (1, 2)

    graph = open_graph(workspace)
    plant = party_id("DALIAN HAIQING FOOD CO LTD", "CN")
    result = trace(graph, load_flag_index(workspace.engine), plant, "downstream")
    kg = {n.name: n.kg for n in result.nodes}
    assert kg == {
        "DALIAN HAIQING FOOD CO LTD": None,
        "OCEAN BEST IMPORTS INC": 1500.0,
        "SEA STAR LLC": 1000.0,
        "BIG BOX RETAIL": 700.0,
    }
    notify = next(e for e in result.edges if e.relation == "notify")
    assert notify.source == party_id("SEA STAR LLC", "US")

    # A month withdrawn (amended file removed) drops out of the graph.
    for path in (root / "arrival_year=2023" / "arrival_month=3").iterdir():
        path.unlink()
    third = build_graph(workspace)
    assert third.partitions_dropped == 1
    result = trace(open_graph(workspace), load_flag_index(workspace.engine), plant, "downstream")
    assert {n.name: n.kg for n in result.nodes}["SEA STAR LLC"] == 700.0
    # Superseded versions are cleaned up, the live one kept.
    versions = sorted(p.name for p in GraphPaths.of(workspace).root.glob("v*"))
    assert len(versions) <= 2 and GraphPaths.of(workspace).current() is not None


def test_parquet_with_party_ids_and_redacted_parties(workspace: Workspace) -> None:
    rows = [
        _bill(
            1,
            "PLANT ONE",
            "TO ORDER",
            100,
            "2023-01-05",
            shipper_id="p-1",
            consignee_id="c-1",
            consignee_status="to_order",
        ),
        _bill(
            2,
            "PLANT ONE",
            "BUYER",
            200,
            "2023-01-06",
            shipper_id="p-1",
            consignee_id="c-2",
            consignee_status="ok",
        ),
    ]
    _write_month(workspace.parquet_dir, 2023, 1, rows)
    result = build_graph(workspace)
    # The TO ORDER consignee is not a party: its bill makes no edge.
    assert result.observed_edges == 1
    graph = open_graph(workspace)
    assert "p-1" in graph.index and "c-2" in graph.index and "c-1" not in graph.index


def test_missing_columns_are_reported(workspace: Workspace) -> None:
    from tidetrace.exc import InputError

    _write_month(workspace.parquet_dir, 2023, 1, [{"foo": 1, "bar": "x"}])
    with pytest.raises(InputError, match="lack columns"):
        build_graph(workspace)


def test_resolution_merges_parties_before_tracing(workspace: Workspace) -> None:
    support.load(workspace)
    # A second record of importer I1 under another id, as a trade-records ingest would make.
    from tidetrace.model import model
    from tidetrace.store.entities import EntityStore

    dup = model.make_entity("Company")
    dup.id = "t-i1-bol"
    dup.add("name", "IRIS IMPORTING INC")
    ship = model.make_entity("Shipment")
    ship.id = "t-bill-dup"
    ship.add("billOfLading", "TBOL9999")
    ship.add("shipper", "t-q")
    ship.add("consignee", "t-i1-bol")
    ship.add("weightKg", "5000")
    ship.add("arrivalDate", "2023-08-01")
    EntityStore(workspace.engine).add_entities([dup, ship], support.DATASET)
    build_graph(workspace)
    assert "t-i1-bol" in open_graph(workspace).index
    # Entity resolution links the two records: canonical ids change in the store.
    with workspace.engine.begin() as conn:
        conn.execute(
            update(statement_table)
            .where(statement_table.c.entity_id == "t-i1-bol")
            .values(canonical_id="t-i1")
        )
    build_graph(workspace, full=True)
    graph = open_graph(workspace)
    assert "t-i1-bol" not in graph.index
    result = trace(graph, load_flag_index(workspace.engine), "t-q", "downstream", max_depth=1)
    i1 = result.node("t-i1")
    assert i1 is not None and i1.kg == 5000.0


def test_self_loops_after_resolution_are_dropped(workspace: Workspace) -> None:
    support.load(workspace)
    with workspace.engine.begin() as conn:
        conn.execute(
            update(statement_table)
            .where(statement_table.c.entity_id == "t-i2")
            .values(canonical_id="t-d")
        )
    result = build_graph(workspace)
    graph = open_graph(workspace)
    assert "t-i2" not in graph.index
    # Ten pairs; I2 → D became a loop on D and is gone, F → I2 became F → D.
    assert result.observed_edges == 9


def test_store_and_parquet_sources_together(any_workspace: Workspace) -> None:
    workspace = any_workspace
    support.load(workspace)
    _write_month(
        workspace.parquet_dir, 2023, 1, [_bill(1, "PLANT ONE", "BUYER", 100, "2023-01-05")]
    )
    build_graph(workspace)
    graph = open_graph(workspace)
    assert "t-p" in graph.index
    assert party_id("PLANT ONE", "CN") in graph.index
    assert isinstance(ParquetShipments(workspace.parquet_dir).partitions()[0].key, str)
    result = trace(graph, load_flag_index(workspace.engine), "t-p", "downstream")
    assert {n.id: n.tier for n in result.nodes}["t-r"] == 3
