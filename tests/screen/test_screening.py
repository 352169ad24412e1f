"""Screening a supplier CSV: Chinese and Korean names in, HTML/CSV/JSON out, formulas defused."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.screen.conftest import ScreenWorld
from tidetrace.cli import app
from tidetrace.exc import InputError
from tidetrace.screen.index import ScreenIndex
from tidetrace.screen.report import render
from tidetrace.screen.screening import parse_suppliers, read_suppliers, screen_suppliers

SUPPLIERS = (
    "ref,supplier_name,country,identifier,notes\n"
    "S-1,大连海青食品有限公司,CN,,鱿鱼圈\n"
    "S-2,조선련봉총회사,KP,,\n"
    "S-3,Rainbow Grocery,US,,\n"
    'S-4,"=HYPERLINK(""http://evil.example"",""x"")",CN,,+1+1\n'
    "S-5,Golden Wave Trading,CN,CN 2100/02153,\n"
    "S-6,Qingdao Totally Unrelated Textiles,CN,,\n"
    "S-7,,CN,,\n"
)


@pytest.fixture()
def suppliers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "suppliers.csv"
    path.write_text(SUPPLIERS, encoding="utf-8")
    return path


def test_parse_recognises_columns_in_any_order_and_delimiter() -> None:
    rows = parse_suppliers("Country;Name;Ref\nCN;丹东泰丰;A1\n")
    assert (rows[0].name, rows[0].country, rows[0].ref) == ("丹东泰丰", "CN", "A1")
    with pytest.raises(InputError, match="no name column"):
        parse_suppliers("who,where\nx,y\n")
    with pytest.raises(InputError, match="empty"):
        parse_suppliers("")


def test_wrong_encoding_says_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("name\n大连海青食品有限公司\n".encode("gb18030"))
    with pytest.raises(InputError, match="--encoding gb18030"):
        read_suppliers(path)
    assert read_suppliers(path, "gb18030")[0].name == "大连海青食品有限公司"


def test_screening_statuses(world: ScreenWorld, index: ScreenIndex, suppliers_csv: Path) -> None:
    report = screen_suppliers(world.ws, index, read_suppliers(suppliers_csv))
    by_ref = {r.supplier.ref: r for r in report.results}
    assert by_ref["S-1"].status == "match"  # the case plant, known, not flagged here
    assert by_ref["S-1"].best is not None and by_ref["S-1"].best.entry.id == "case-plant-haiqing"
    assert by_ref["S-2"].status == "flagged"  # UN 1718 listing
    assert by_ref["S-3"].status == "exposed"  # buys through D from flagged plant P
    exposure = by_ref["S-3"].exposure
    assert exposure is not None
    assert exposure["kg_in"] == 600_000.0 and exposure["kg_flagged"] == 40_000.0
    assert [s["id"] for s in exposure["sources"]] == ["t-p"]
    assert by_ref["S-4"].status == "no-match"
    assert by_ref["S-5"].status == "match"
    assert by_ref["S-5"].best is not None and by_ref["S-5"].best.entry.id == "test-reg-2100-02153"
    assert by_ref["S-6"].status == "no-match"
    assert by_ref["S-7"].status == "error"
    assert report.counts()["exposed"] == 1


def test_csv_round_trip_keeps_scripts_and_defuses_formulas(
    world: ScreenWorld, index: ScreenIndex, suppliers_csv: Path
) -> None:
    report = screen_suppliers(world.ws, index, read_suppliers(suppliers_csv))
    text = render(report, "csv")
    assert text.startswith("\ufeff")  # spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    by_ref = {r["ref"]: r for r in rows}
    assert by_ref["S-1"]["name"] == "大连海青食品有限公司"
    assert by_ref["S-1"]["notes"] == "鱿鱼圈"
    assert by_ref["S-1"]["best_name"] == "Dalian Haiqing Food"
    assert by_ref["S-2"]["name"] == "조선련봉총회사"
    assert by_ref["S-2"]["best_name"] == "KOREA RYONBONG GENERAL CORPORATION"
    assert "KPe" in by_ref["S-2"]["flags"]
    assert by_ref["S-3"]["kg_traceable_to_flagged"] == "40000.0"
    # No cell of the export starts a formula.
    for row in rows:
        for value in row.values():
            assert not (value or "").startswith(("=", "+", "-", "@")), value
    assert by_ref["S-4"]["name"].startswith("'=HYPERLINK")
    assert by_ref["S-4"]["notes"] == "'+1+1"
    # The screened names read back as a supplier list again: a round trip.
    again = parse_suppliers(text)
    assert [s.name for s in again[:3]] == [
        "大连海青食品有限公司",
        "조선련봉총회사",
        "Rainbow Grocery",
    ]


def test_json_and_html_reports(world: ScreenWorld, index: ScreenIndex, suppliers_csv: Path) -> None:
    report = screen_suppliers(world.ws, index, read_suppliers(suppliers_csv), source="s.csv")
    data = json.loads(render(report, "json"))
    assert data["counts"]["flagged"] == 1
    first = data["suppliers"][0]
    assert first["input"]["name"] == "大连海青食品有限公司"
    assert first["best"]["features"]["contained"] == 1.0
    assert "haiqing" in first["best"]["explanation"]
    html = render(report, "html")
    assert "大连海青食品有限公司" in html and "조선련봉총회사" in html
    assert "<script" not in html
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in html  # escaped, inert


def test_cli_writes_each_format(world: ScreenWorld, suppliers_csv: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for suffix in ("html", "csv", "json"):
        out = tmp_path / f"report.{suffix}"
        result = runner.invoke(
            app, ["screen", str(suppliers_csv), "-o", str(out), "--home", str(world.ws.home)]
        )
        assert result.exit_code == 0, result.output
        assert "screened 7 suppliers" in result.stderr
        assert "조선련봉총회사" in out.read_text(encoding="utf-8")
    bad = runner.invoke(
        app,
        [
            "screen",
            str(suppliers_csv),
            "-o",
            str(tmp_path / "r.xlsx"),
            "--home",
            str(world.ws.home),
        ],
    )
    assert bad.exit_code == 2 and "Traceback" not in bad.output
