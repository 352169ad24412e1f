"""Exports are formula-safe: CSV and XLSX cells never start a spreadsheet formula."""

import csv
import io
import json
from datetime import date

import pyarrow as pa
import pytest

from tidetrace.export_safety import SafeCsvWriter, neutralise, xlsx_value
from tidetrace.shipments.export import json_rows, write_csv, write_ftm, write_json, write_xlsx

HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_triggers_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert str(xlsx_value(value)).startswith("'")


@pytest.mark.parametrize("value", ["-12.5", "+3", "1,234.5", "ACME", "", "O'Neill", "=", "-"])
def test_plain_values_pass(value: str) -> None:
    expected = "'" + value if value in ("=", "-") else value
    assert neutralise(value) == expected


def test_non_strings_and_nuls() -> None:
    assert neutralise(12.5) == 12.5
    assert neutralise(None) is None
    assert neutralise("A\x00B") == "AB"
    assert xlsx_value("bell\x07") == "bell"


def test_safe_csv_writer() -> None:
    out = io.StringIO()
    SafeCsvWriter(out).writerow(["=1+1", "ok", 3])
    assert out.getvalue().strip() == "'=1+1,ok,3"


def _table() -> pa.Table:
    return pa.table(
        {
            "bill_of_lading": ["MAEU1", "MAEU2"],
            "shipper_name_raw": ["=cmd|' /C calc'!A0", "GOOD CO"],
            "hs_code": [["030743", "160554"], None],
            "weight_kg": [-1.5, 2.0],
        }
    )


def test_csv_export() -> None:
    out = io.StringIO()
    assert write_csv(_table(), out) == 2
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == ["bill_of_lading", "shipper_name_raw", "hs_code", "weight_kg"]
    assert lines[1] == ["MAEU1", "'=cmd|' /C calc'!A0", "030743; 160554", "-1.5"]
    assert lines[2][2] == ""


def test_xlsx_export(tmp_path: pytest.TempPathFactory) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    path = tmp_path / "out.xlsx"  # type: ignore[operator]
    assert write_xlsx(_table(), path) == 2
    sheet = load_workbook(path).active
    cell = sheet.cell(row=2, column=2)
    assert cell.value == "'=cmd|' /C calc'!A0"
    assert cell.data_type == "s"  # text, not a formula
    assert sheet.cell(row=2, column=4).value == -1.5


def test_json_and_ftm_exports() -> None:
    out = io.StringIO()
    write_json(_table(), out)
    assert json.loads(out.getvalue())[0]["shipper_name_raw"] == "=cmd|' /C calc'!A0"
    out = io.StringIO()
    row = {"shipment_id": "tt-shipment-x", "row_id": "a:1", "bill_of_lading": "MAEU1"}
    assert write_ftm([row], out) == 1
    assert json.loads(out.getvalue())["schema"] == "Shipment"


def test_json_rows_are_what_write_json_writes() -> None:
    table = _table().append_column("arrival_date", pa.array([date(2023, 2, 1), None]))
    table = table.append_column("quantity", pa.array([float("nan"), 3.0]))
    out = io.StringIO()
    write_json(table, out)
    assert json_rows(table) == json.loads(out.getvalue())
    first = json_rows(table)[0]
    assert first["arrival_date"] == "2023-02-01"
    assert first["hs_code"] == ["030743", "160554"]
    assert first["quantity"] is None  # NaN is no JSON
