"""An ingest report as plain data (what the web API returns): sources, skips, rejects."""

from pathlib import Path

from tests.shipments.support import ingest, write_csv
from tidetrace.shipments.summary import read_rejects, report_dict
from tidetrace.workspace import Workspace

HEADER = ["bill_of_lading", "shipper_name", "consignee_name"]


def test_report_dict_names_sources_rejects_and_skips(workspace: Workspace, tmp_path: Path) -> None:
    lines = [["B1", "S", "C"], ["", "=1+1", "C"], ["B3", "S", "C"]]
    path = write_csv(tmp_path / "bills.csv", HEADER, lines)
    report = ingest(workspace, [path], dataset="bills", max_reject_rate=0.5)
    data = report_dict(report, workspace.home)
    assert (data["dataset"], data["engine"], data["rows"], data["rejected"]) == (
        "bills",
        "duckdb",
        2,
        1,
    )
    (source,) = data["sources"]
    assert source["name"] == "bills.csv"
    assert source["layout"] == "generic (detected)"
    assert source["status"] == "ingested"
    assert (source["rows"], source["rejected"]) == (2, 1)
    assert abs(source["reject_rate"] - 1 / 3) < 1e-6
    assert data["skipped"] == [] and data["failed"] == []
    assert data["rejects_file"].startswith("rejects/shipments-bills-")
    assert data["rejects"] == [
        {
            "file": "bills.csv",
            "row": 2,
            "field": "bill_of_lading",
            "value": "",
            "reason": data["rejects"][0]["reason"],
        }
    ]
    assert data["rejects"][0]["reason"]

    again = report_dict(ingest(workspace, [path], dataset="bills"), workspace.home)
    assert again["skipped"] == ["bills.csv"]
    assert again["rows"] == 0 and again["rejects_file"] is None and again["rejects"] == []
    assert again["sources"][0]["message"].startswith("already in bills")


def test_failed_sources_and_paths_outside_the_workspace(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "half.csv", HEADER, [["B1", "S", "C"], ["", "S", "C"]])
    rejects = tmp_path / "elsewhere" / "r.csv"
    report = ingest(workspace, [path], dataset="bills", rejects_path=rejects)
    data = report_dict(report, workspace.home, rejects_shown=0)
    assert data["failed"] == ["half.csv"]
    assert data["sources"][0]["status"] == "failed"
    assert data["rejects_file"] == str(rejects)
    assert data["rejects"] == []


def test_read_rejects_stops_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "file,row,field,value,reason\n"
        + "".join(f"a.csv,{n},weight,'=x,bad\n" for n in range(1, 30)),
        encoding="utf-8",
    )
    rows = read_rejects(path, limit=5)
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["value"] == "'=x"
    assert read_rejects(tmp_path / "missing.csv") == []
