"""The graph commands: trace, exposure, flag and flags, names resolved to one entity."""

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.graph import support
from tidetrace import loaders
from tidetrace.cli import app
from tidetrace.workspace import Workspace

runner = CliRunner()


def _run(ws: Workspace, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--home", str(ws.home)])
    return result.exit_code, result.stdout, result.stderr


def test_trace_by_name_builds_the_graph_and_prints_json(workspace: Workspace) -> None:
    support.load(workspace)
    code, out, err = _run(workspace, "trace", "downstream", "Pyongsan Seafood", "--json")
    assert code == 0, err
    assert "graph v1" in err  # built on first use
    data = json.loads(out)
    assert data["start"] == "t-p"
    tiers = {n["id"]: n["tier"] for n in data["nodes"]}
    assert tiers["t-r"] == 3
    assert all(
        {"from", "to", "kg", "evidence", "confidence"} <= set(h) for p in data["paths"] for h in p
    )


def test_ambiguous_or_unknown_names_list_candidates_and_fail(workspace: Workspace) -> None:
    support.load(workspace)
    code, _out, err = _run(workspace, "trace", "upstream", "seafood")
    assert code == 2
    assert "t-p" in err and "t-i2" in err
    assert "matches 2 entities" in err
    code, _out, err = _run(workspace, "trace", "upstream", "nothing like this")
    assert code == 2 and "no entity matches" in err
    assert "Traceback" not in err


def test_flag_then_exposure_and_html(workspace: Workspace, tmp_path: Path) -> None:
    support.load(workspace)
    code, out, err = _run(
        workspace,
        "flag",
        "Pyongsan Seafood Plant",
        "--reason",
        "North Korean workers on the line",
        "--evidence",
        "vault:3",
        "--since",
        "2023-01-01",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["entity_id"] == "t-p"
    code, out, err = _run(workspace, "exposure", "Rainbow Grocery", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["kg_flagged"] == 40000.0 and data["kg_flagged_before"] == 60000.0
    code, out, _ = _run(workspace, "exposure", "t-r")
    assert "≤ 6.7%" in out and "Delta Food Distribution" in out
    report = tmp_path / "r.html"
    code, _out, err = _run(workspace, "trace", "upstream", "t-r", "-o", str(report))
    assert code == 0, err
    html = report.read_text()
    assert "d3-sankey" in html and "tidetrace-trace" in html
    assert "<script src=" not in html  # everything inlined, nothing fetched
    code, out, _ = _run(workspace, "flags", "list", "t-p")
    assert "North Korean workers on the line" in out


def test_bad_options_fail_cleanly(workspace: Workspace) -> None:
    support.load(workspace)
    for args in (
        ("trace", "downstream", "t-p", "--since", "last year"),
        ("trace", "downstream", "t-p", "--hs", "shrimp"),
        ("trace", "downstream", "t-p", "--basis", "rumour"),
        ("trace", "downstream", "t-p", "--since", "2024-01-01", "--until", "2023-01-01"),
    ):
        code, _out, err = _run(workspace, *args)
        assert code == 2, args
        assert "Traceback" not in err


def test_case_links_trace_from_the_plant(workspace: Workspace, shared_data: Path) -> None:
    loaders.load_case(workspace, shared_data / "investigation")
    code, out, err = _run(workspace, "trace", "downstream", "Dalian Haiqing", "--json")
    assert code == 0, err
    data = json.loads(out)
    names = {n["name"]: n for n in data["nodes"]}
    # The article's chain: plant → importers → Walmart …, Trident → McDonald's.
    assert names["Walmart"]["tier"] == 2
    assert names["McDonald's"]["tier"] == 2
    assert names["Walmart"]["reached_by"] == ["asserted"]
    assert names["Walmart"]["kg"] is None
    # The certifier is not a supplier: certification is not a supply link.
    code, out, _ = _run(workspace, "trace", "upstream", "Dandong Taifeng", "--json")
    assert "Marine Stewardship Council" not in out


def test_flags_import_and_revoke_from_the_command_line(
    workspace: Workspace, tmp_path: Path
) -> None:
    listing = tmp_path / "wro.csv"
    listing.write_text(
        "name,country,since,merchandise\nExample Fishing Fleet Co,CN,2022-03-01,seafood\n",
        encoding="utf-8",
    )
    code, out, err = _run(workspace, "flags", "import", "wro", str(listing))
    assert code == 0, err
    assert "1 new flags" in out
    code, out, _ = _run(workspace, "flags", "list", "--kind", "wro", "--json")
    flags = json.loads(out)
    assert flags[0]["reason"] == "CBP Withhold Release Order: seafood"
    code, out, err = _run(workspace, "flags", "revoke", str(flags[0]["id"]), "--reason", "lifted")
    assert code == 0, err
    code, out, _ = _run(workspace, "flags", "list", "--kind", "wro", "--json")
    assert json.loads(out) == []
    code, _out, err = _run(workspace, "flags", "import", "uflpa", str(tmp_path / "missing.csv"))
    assert code == 2 and "no such file" in err


def test_graph_build_reports_what_it_reused(workspace: Workspace) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    support.load(workspace)

    def month(n: int) -> None:
        folder = workspace.parquet_dir / f"month={n}"
        folder.mkdir(parents=True)
        row = {
            "bill_of_lading": f"MEDU{n:07d}",
            "arrival_date": f"2023-0{n}-05",
            "shipper_name": "DALIAN HAIQING FOOD CO LTD",
            "consignee_name": f"IMPORTER {n}",
            "weight_kg": 100.0 * n,
        }
        pq.write_table(pa.Table.from_pylist([row]), folder / "part-0.parquet")

    month(1)
    code, out, err = _run(workspace, "graph", "build", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["mode"] == "full" and data["events"] == 12
    month(2)
    code, out, err = _run(workspace, "graph", "build")
    assert code == 0, err
    assert "incremental: reused 12 events of 2 unchanged partitions" in out
    assert "re-read 1 bills (1 new or changed partitions" in out
    code, out, err = _run(workspace, "graph", "status")
    assert code == 0, err
    assert "compaction: incremental" in out
    code, out, err = _run(workspace, "graph", "build", "--full", "--json")
    assert code == 0, err
    assert json.loads(out)["mode"] == "full" and json.loads(out)["events"] == 13
