"""The commands: ingest shipments, shipments query/export/ingests, synth shipments."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.shipments.support import write_csv
from tidetrace.cli import app
from tidetrace.workspace import Workspace

runner = CliRunner()


def _run(ws: Workspace, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--home", str(ws.home)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def loaded(workspace: Workspace, tmp_path: Path) -> Workspace:
    plant, importer = "DANDONG HAI XIANG FOOD CO., LTD.", "PACIFIC TIDE SEAFOOD INC"
    header = ["bill_of_lading", "arrival_date", "shipper_name", "consignee_name", "hs_code"]
    lines = [
        ["MAEU1", "2023-02-01", plant, importer, "0307.43", "12000", "KG"],
        ["MAEU2", "2023-03-01", "=cmd|' /C calc'!A0", importer, "6907.21", "100", "KG"],
        ["MAEU3", "2022-12-01", "DANDONG HAI XIANG FOOD CO LTD", "TO ORDER", "1605.54", "5", "MT"],
    ]
    path = write_csv(tmp_path / "bills.csv", [*header, "weight", "weight_unit"], lines)
    code, out, err = _run(workspace, "ingest", "shipments", str(path), "--dataset", "bills")
    assert code == 0, err
    assert "bills.csv: layout generic (detected); encoding utf-8 (ASCII)" in err
    assert "bills.csv: ingested, 3 rows, 0 rejected" in out
    return workspace


def test_query_text_json_csv(loaded: Workspace) -> None:
    code, out, err = _run(loaded, "shipments", "query", "--shipper", "hai xiang", "--hs", "03")
    assert code == 0, err
    assert out.splitlines() == [
        "2023-02-01\tMAEU1\tDANDONG HAI XIANG FOOD CO LTD -> PACIFIC TIDE SEAFOOD INC\t030743"
        "\t12,000 kg\t -> "
    ]
    code, out, _ = _run(loaded, "shipments", "query", "--since", "2023-01-01", "--json")
    data = json.loads(out)
    assert [r["bill_of_lading"] for r in data] == ["MAEU1", "MAEU2"]
    assert data[0]["hs_code"] == ["030743"]
    code, out, _ = _run(loaded, "shipments", "query", "--csv")
    lines = list(csv.DictReader(io.StringIO(out)))
    assert [r["bill_of_lading"] for r in lines] == ["MAEU3", "MAEU1", "MAEU2"]
    assert lines[2]["shipper_name_raw"] == "'=cmd|' /C calc'!A0"  # neutralised
    assert lines[0]["consignee_status"] == "to_order"
    code, out, _ = _run(loaded, "shipments", "query", "--limit", "1", "--offset", "1", "--json")
    assert [r["bill_of_lading"] for r in json.loads(out)] == ["MAEU1"]
    code, out, _ = _run(loaded, "shipments", "query", "--consignee", "nobody")
    assert (code, out.strip()) == (0, "no bills match")


def test_export_formats(loaded: Workspace, tmp_path: Path) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    xlsx = tmp_path / "out.xlsx"
    code, _, err = _run(loaded, "shipments", "export", "--format", "xlsx", "-o", str(xlsx))
    assert code == 0, err
    sheet = load_workbook(xlsx).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=cmd|' /C calc'!A0" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    ftm = tmp_path / "out.ftm.json"
    code, _, err = _run(loaded, "shipments", "export", "--format", "ftm", "-o", str(ftm))
    assert code == 0 and "wrote" in err
    schemata = [json.loads(line)["schema"] for line in ftm.read_text().splitlines()]
    # Three bills; two named shippers (one of them the formula text), one consignee.
    assert schemata.count("Shipment") == 3
    assert schemata.count("Company") + schemata.count("LegalEntity") == 3
    code, _, err = _run(loaded, "shipments", "export", "--format", "xlsx", "-o", "-")
    assert code == 2 and "needs a file name" in err


def test_ingests_list(loaded: Workspace) -> None:
    code, out, _ = _run(loaded, "shipments", "ingests")
    assert code == 0
    assert "\tbills\tdone\t3 rows\t0 rejected\tgeneric\tbills.csv\t" in out
    code, out, _ = _run(loaded, "shipments", "ingests", "--json")
    assert json.loads(out)[0]["sha256"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "shipments", "missing.csv"], "missing.csv: no such file"),
        (["ingest", "shipments", "{csv}", "--format", "nope"], "unknown format 'nope'"),
        (["ingest", "shipments", "{csv}", "--engine", "hadoop"], "unknown engine 'hadoop'"),
        (["ingest", "shipments", "{csv}", "--dataset", "No Way"], "not a dataset name"),
        (["ingest", "shipments", "{csv}", "--mapping", "{mapping}"], "unknown field"),
        (["ingest", "shipments", "{junk}"], "binary data"),
        (["shipments", "query", "--since", "yesterday"], "not a date"),
        (["shipments", "query", "--since", "2023-06-01", "--until", "2023-01-01"], "after"),
        (["shipments", "query", "--hs", "squid"], "not an HS code prefix"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    workspace: Workspace, tmp_path: Path, args: list[str], message: str
) -> None:
    good = write_csv(
        tmp_path / "ok.csv", ["bill_of_lading", "shipper_name", "consignee_name"], [["B", "S", "C"]]
    )
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns:\n  bills: x\n", encoding="utf-8")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 40)
    filled = [a.format(csv=good, mapping=mapping, junk=junk) for a in args]
    code, out, err = _run(workspace, *filled)
    assert code == 2, (out, err)
    assert message in err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err
    assert not (workspace.parquet_dir / "shipments").exists()


def test_reject_limit_exits_non_zero(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "half.csv",
        ["bill_of_lading", "shipper_name", "consignee_name"],
        [["B1", "S", "C"], ["", "S", "C"]],
    )
    rejects = tmp_path / "r.csv"
    code, out, err = _run(workspace, "ingest", "shipments", str(path), "--rejects", str(rejects))
    assert code == 2
    assert "over the reject limit, not stored: half.csv" in err
    assert "half.csv: failed, 0 rows stored, 1 rejected (50.00%)" in out
    assert f"rejected rows: {rejects}" in out
    code, out, _ = _run(workspace, "ingest", "shipments", str(path), "--max-reject-rate", "0.5")
    assert code == 0 and "ingested, 1 rows" in out


def test_synth_command(tmp_path: Path) -> None:
    out_dir = tmp_path / "synth"
    result = runner.invoke(
        app,
        [
            "synth",
            "shipments",
            "--rows",
            "50",
            "--seed",
            "4",
            "-o",
            str(out_dir),
            "--layout",
            "panjiva",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "wrote 50 bills in 1 files" in result.stdout
    assert (out_dir / "panjiva-00001.csv").is_file()
    assert (out_dir / "SYNTHETIC.txt").is_file()
    result = runner.invoke(
        app, ["synth", "shipments", "--rows", "5", "-o", str(out_dir), "--layout", "x"]
    )
    assert result.exit_code == 2 and "unknown layout" in result.stderr


def test_every_command_documents_an_example() -> None:
    for args in (["ingest", "shipments"], ["shipments", "query"], ["shipments", "export"],
                 ["shipments", "ingests"], ["synth", "shipments"]):  # fmt: skip
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example: tidetrace" in result.stdout
