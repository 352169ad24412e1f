"""Incremental compaction: after new records, amendments, merges and splits, the graph an
incremental build writes holds exactly what a build from scratch writes (up to node numbers,
which an incremental build keeps from the previous version)."""

import json
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.graph import support
from tidetrace.graph import build as build_module
from tidetrace.graph.build import (
    BuildResult,
    GraphPaths,
    build_graph,
    event_files,
    graph_is_stale,
)
from tidetrace.graph.flags import add_flag, load_flag_index
from tidetrace.graph.graphdb import Window, drop_cache, open_graph
from tidetrace.graph.sources import party_id
from tidetrace.graph.trace import trace
from tidetrace.model import model
from tidetrace.resolve.judgements import Resolver
from tidetrace.store.entities import EntityStore
from tidetrace.workspace import Workspace

PLANT = "DALIAN HAIQING FOOD CO LTD"
OCEAN = "OCEAN BEST IMPORTS INC"


def _bill(
    n: int,
    shipper: str,
    consignee: str,
    kg: float,
    day: str,
    notify: str | None = None,
    seq: int = 1,
    status: str = "original",
) -> dict[str, object]:
    return {
        "shipment_id": f"s{n}",
        "ingest_seq": seq,
        "record_status": status,
        "bill_of_lading": f"MEDU{n:07d}",
        "arrival_date": day,
        "shipper_name": shipper,
        "shipper_country": "CN" if "IMPORT" not in shipper and "STAR" not in shipper else "US",
        "consignee_name": consignee,
        "consignee_country": "US",
        "notify_name": notify,
        "notify_country": "US" if notify else None,
        "hs_code": "030743" if n % 2 else "160554",
        "weight_kg": kg,
    }


def _write(root: Path, folder: str, rows: list[dict[str, object]]) -> None:
    """One partition (a directory of Parquet files) of the trade-records dataset."""
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    target = path / "part-0.parquet"
    existed = target.exists()
    pq.write_table(pa.Table.from_pylist(rows), target)
    if existed:
        # A rewrite within the same clock tick must still change the fingerprint.
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _snapshot(ws: Workspace) -> dict[str, Any]:
    """The live version's contents with node numbers replaced by entity ids."""
    current = GraphPaths.of(ws).current()
    assert current is not None
    nodes = pq.read_table(current / "nodes.parquet").to_pylist()
    assert [n["idx"] for n in nodes] == list(range(len(nodes)))
    ids = [n["id"] for n in nodes]
    assert len(set(ids)) == len(ids)
    out: dict[str, Any] = {
        "nodes": sorted((tuple(v for k, v in n.items() if k != "idx") for n in nodes), key=repr)
    }
    orders = {"events_src": ("src", "dst", "day"), "events_dst": ("dst", "src", "day")}
    for name, order in orders.items():
        rows = []
        # The sorted file and the delta beside it, each sorted; readers take both.
        for file in event_files(current, name):
            part = pq.read_table(file).to_pylist()
            keys = [tuple(r[c] for c in order) for r in part]
            assert keys == sorted(keys), f"{file.name} is not sorted by {order}"
            assert str(pq.read_schema(file)) == str(pq.read_schema(current / f"{name}.parquet"))
            rows += part
        out[name] = sorted(
            (tuple(ids[v] if k in ("src", "dst") else v for k, v in r.items()) for r in rows),
            key=repr,
        )
        out[f"{name}_schema"] = str(pq.read_schema(current / f"{name}.parquet"))
    edges = pq.read_table(current / "edges.parquet").to_pylist()
    keys = [(e["src"], e["dst"], e["kind"]) for e in edges]
    assert keys == sorted(keys)
    out["edges"] = sorted(
        (tuple(ids[v] if k in ("src", "dst") else v for k, v in e.items()) for e in edges),
        key=repr,
    )
    out["edges_schema"] = str(pq.read_schema(current / "edges.parquet"))
    out["asserted"] = json.loads((current / "asserted.json").read_text())
    # Every end of an edge is a node and every node ends an edge.
    ends = {e[0] for e in out["edges"]} | {e[1] for e in out["edges"]}
    ends |= {a["src"] for a in out["asserted"]} | {a["dst"] for a in out["asserted"]}
    assert ends == set(ids)
    assert sorted(out["events_src"], key=repr) == sorted(out["events_dst"], key=repr)
    return out


def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    """A trace as JSON without what depends on node numbers (the order of lists)."""
    data.pop("graph_version")
    paths = data.pop("paths")

    def text(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    nodes = [{**n, "paths": sorted(text(paths[i]) for i in n["paths"])} for n in data.pop("nodes")]
    edges = sorted(data.pop("edges"), key=text)
    return {**data, "nodes": sorted(nodes, key=text), "edges": edges}


def _traces(ws: Workspace) -> list[Any]:
    """Traces through the live version, windowed (per-day events) and not (edge totals)."""
    graph = open_graph(ws)
    flags = load_flag_index(ws.engine)
    out = []
    for start, direction in ((party_id(PLANT, "CN"), "downstream"), ("t-d", "upstream")):
        if start not in graph.index:
            continue
        for window in (Window(), Window(since=date(2023, 1, 10)), Window(hs="0307")):
            result = trace(graph, flags, start, direction, window)  # type: ignore[arg-type]
            out.append(_canonical(result.to_dict()))
    return out


def _from_scratch(ws: Workspace) -> tuple[dict[str, Any], list[Any]]:
    """Build the graph anew into an empty graph directory, snapshot it, put the old back."""
    root = GraphPaths.of(ws).root
    aside = root.with_name("graph.aside")
    root.rename(aside)
    drop_cache()
    try:
        result = build_graph(ws, actor="tester")
        assert result.mode == "full"
        return _snapshot(ws), _traces(ws)
    finally:
        shutil.rmtree(root)
        aside.rename(root)
        drop_cache()


def _incremental(ws: Workspace) -> BuildResult:
    result = build_graph(ws, actor="tester")
    assert result.mode == "incremental", result.notes
    assert not graph_is_stale(ws)
    assert (_snapshot(ws), _traces(ws)) == _from_scratch(ws)
    return result


def _company(ws: Workspace, name: str, country: str) -> str:
    """A store record for a trade party known by its name, as the ingest would make."""
    entity = model.make_entity("Company")
    entity.id = party_id(name, country)
    entity.add("name", name)
    EntityStore(ws.engine).add_entities([entity], support.DATASET)
    return entity.id


@pytest.fixture(params=["delta", "merge"])
def fold(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Either new events go to delta files beside the linked sorted files whenever they
    can, or the sorted files are always merged anew."""
    monkeypatch.setattr(build_module, "FOLD_SHARE", 100.0 if request.param == "delta" else 0.0)
    return str(request.param)


@pytest.fixture
def records(workspace: Workspace, fold: str) -> Path:
    """The hand-built store graph plus two partitions of trade records, built once."""
    support.load(workspace)
    root = workspace.parquet_dir
    _write(
        root,
        "month=1",
        [
            _bill(1, PLANT, OCEAN, 1000, "2023-01-05", notify="BIG BOX RETAIL"),
            _bill(2, PLANT, OCEAN, 500, "2023-01-20"),
            _bill(3, "QINGTIAN CLEAN FOODS", OCEAN, 250.5, "2023-01-21"),
        ],
    )
    _write(
        root,
        "month=2",
        [
            _bill(4, PLANT, "SEA STAR LLC", 700, "2023-02-02", notify="BIG BOX RETAIL"),
            _bill(5, "SEA STAR LLC", OCEAN, 120.25, "2023-02-03"),
        ],
    )
    # A flag date splits the plant's shipments (read per day from the event files).
    add_flag(workspace.engine, party_id(PLANT, "CN"), "finding", since=date(2023, 1, 15), actor="t")
    first = build_graph(workspace, actor="tester")
    assert first.mode == "full" and first.parts_compacted
    return root


def test_new_records_reuse_the_previous_version(
    workspace: Workspace, records: Path, fold: str
) -> None:
    before = open_graph(workspace)
    _write(
        records,
        "month=3",
        [
            _bill(6, PLANT, "NEW HARBOUR CO", 300, "2023-03-03"),
            _bill(
                7, "DALIAN OTHER FOODS", "SEA STAR LLC", 80, "2023-03-04", notify="BIG BOX RETAIL"
            ),
        ],
    )
    result = _incremental(workspace)
    assert result.parts_compacted == ["parquet:month=3"]
    assert sorted(result.parts_reused) == ["parquet:month=1", "parquet:month=2", "store"]
    assert result.parts_removed == [] and result.ids_remapped == 0
    assert (result.events_removed, result.events_added) == (0, 3)
    assert result.events_reused == result.events - 3
    assert (result.nodes_added, result.nodes_dropped) == (2, 0)
    assert result.nodes_reused == result.nodes - 2
    assert result.edges_rebuilt == 3 and result.edges_reused == result.observed_edges - 3
    assert result.bills_remapped == 2
    # Numbers are kept: every node of the previous version has its old number.
    graph = open_graph(workspace)
    assert graph.ids[: len(before.ids)] == before.ids
    assert graph.ids[len(before.ids) :] == sorted(
        [party_id("DALIAN OTHER FOODS", "CN"), party_id("NEW HARBOUR CO", "US")]
    )
    # The version opened before the build is still readable (the switch is one rename).
    assert before.observed([0], "downstream", Window()) is not None
    assert "incremental: reused" in result.summary()
    current = GraphPaths.of(workspace).current()
    assert current is not None
    delta = current / "events_src.delta.parquet"
    if fold == "delta":
        assert result.events_delta == 3 and "linked" in result.summary()
        assert delta.is_file() and (current / "events_src.parquet").stat().st_nlink == 2
        # Another source: the delta grows, the sorted files are still the first build's.
        _write(records, "month=4", [_bill(9, PLANT, "NEW HARBOUR CO", 5, "2023-04-04")])
        again = _incremental(workspace)
        assert again.events_delta == 4 and again.parts_compacted == ["parquet:month=4"]
    else:
        assert result.events_delta == 0 and not delta.exists()
    plant = party_id(PLANT, "CN")
    traced = trace(open_graph(workspace), load_flag_index(workspace.engine), plant, "downstream")
    assert {n.name: n.kg for n in traced.nodes}["NEW HARBOUR CO"] == 300.0 + (
        5.0 if fold == "delta" else 0.0
    )


def test_amendments_replace_and_remove_old_contributions(
    workspace: Workspace, records: Path
) -> None:
    _write(records, "month=3", [_bill(6, PLANT, "NEW HARBOUR CO", 300, "2023-03-03")])
    _incremental(workspace)
    # A later filing amends bill 1 (new weight and consignee) and withdraws bill 5; it
    # lands in a partition of its own.
    _write(
        records,
        "amendments=1",
        [
            _bill(1, PLANT, "SEA STAR LLC", 900, "2023-01-05", seq=2, status="amended"),
            _bill(5, "SEA STAR LLC", OCEAN, 120.25, "2023-02-03", seq=2, status="deleted"),
        ],
    )
    result = _incremental(workspace)
    assert result.parts_compacted == ["parquet:amendments=1"]
    assert result.events_removed == 3  # bill 1 (shipped and notify) and bill 5
    assert result.events_added == 1
    # A partition re-ingested with changes: bill 4 weighs less, bill 8 is new.
    _write(
        records,
        "month=2",
        [
            _bill(4, PLANT, "SEA STAR LLC", 650, "2023-02-02", notify="BIG BOX RETAIL"),
            _bill(5, "SEA STAR LLC", OCEAN, 120.25, "2023-02-03"),
            _bill(8, "SEA STAR LLC", "BIG BOX RETAIL", 40, "2023-02-09"),
        ],
    )
    result = _incremental(workspace)
    assert result.parts_compacted == ["parquet:month=2"]
    assert result.parts_removed == ["parquet:month=2"]
    # Withdrawing the amendments brings bill 1 and bill 5 back as first filed.
    shutil.rmtree(records / "amendments=1")
    result = _incremental(workspace)
    assert result.parts_removed == ["parquet:amendments=1"] and result.parts_compacted == []
    # Removing a partition drops the parties only it named; the others close up in order.
    shutil.rmtree(records / "month=3")
    result = _incremental(workspace)
    assert result.nodes_dropped == 1 and result.nodes_added == 0
    graph = open_graph(workspace)
    assert party_id("NEW HARBOUR CO", "US") not in graph.index
    plant = party_id(PLANT, "CN")
    traced = trace(graph, load_flag_index(workspace.engine), plant, "downstream")
    # From the flag date: bill 2 direct, and bill 5 of what SEA STAR received (bill 4).
    ocean = next(n for n in traced.nodes if n.name == "OCEAN BEST IMPORTS INC")
    assert (ocean.kg, ocean.kg_before_flag) == (620.25, 1000.0)


def test_merges_and_splits_remap_only_their_bills(workspace: Workspace, records: Path) -> None:
    ocean = _company(workspace, OCEAN, "US")
    resolver = Resolver(workspace.engine)
    resolver.decide(ocean, "t-i1", "positive", actor="tester")
    canonical = resolver.canonical("t-i1")
    result = _incremental(workspace)
    assert result.ids_remapped >= 1
    assert sorted(result.parts_reused) == ["parquet:month=1", "parquet:month=2", "store"]
    # Bills 1, 2, 3 and 5 name the importer; bills of the hand-built store graph that name
    # I1 are re-read only if I1 itself moved to another canonical id.
    assert result.bills_remapped >= 4
    graph = open_graph(workspace)
    merged_away = ocean if canonical != ocean else "t-i1"
    assert merged_away not in graph.index and canonical in graph.index
    traced = trace(graph, load_flag_index(workspace.engine), party_id(PLANT, "CN"), "downstream")
    assert {n.id: n.kg for n in traced.nodes}[canonical] == 620.25
    # The split takes the trade party out again: its node comes back, appended.
    resolver.split(ocean, actor="tester")
    result = _incremental(workspace)
    assert result.ids_remapped >= 1
    graph = open_graph(workspace)
    assert ocean in graph.index and "t-i1" in graph.index


def test_most_bills_dirty_falls_back_to_full(
    workspace: Workspace, records: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "FULL_MIN_BILLS", 0)
    _write(records, "month=3", [_bill(6, PLANT, "NEW HARBOUR CO", 300, "2023-03-03")])
    result = build_graph(workspace, actor="tester")
    assert result.mode == "incremental"  # one bill of 17
    _write(records, "month=4", [_bill(n, PLANT, OCEAN, 10, "2023-04-01") for n in range(9, 40)])
    result = build_graph(workspace, actor="tester")
    assert result.mode == "full"
    assert any("compacted again" in note for note in result.notes)
    assert "full" in result.summary()
    assert (_snapshot(workspace), _traces(workspace)) == _from_scratch(workspace)


def test_full_flag_and_interrupted_compaction(
    workspace: Workspace, records: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build_graph(workspace, full=True, actor="tester").mode == "full"
    # A build that stops after aggregating leaves parts the live version does not hold.
    _write(records, "month=2", [_bill(4, PLANT, "SEA STAR LLC", 10, "2023-02-02")])

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("interrupted")

    with monkeypatch.context() as mp:
        mp.setattr(build_module, "_compact", boom)
        with pytest.raises(RuntimeError):
            build_graph(workspace, actor="tester")
    assert graph_is_stale(workspace)
    result = _incremental(workspace)
    assert result.parts_removed == ["parquet:month=2"] and result.partitions_read == 0
    # Part files of replaced partitions are deleted once no live version needs them.
    files = {p.name for p in GraphPaths.of(workspace).parts.iterdir()}
    assert len(files) == 1 + 2 * 3  # the manifest and two files per partition
