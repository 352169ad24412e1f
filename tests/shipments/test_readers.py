"""Reading sources into chunks of raw rows: CSV quirks, XLSX cells, chunk boundaries."""

import datetime as dt
import io
import itertools
from pathlib import Path

import pyarrow as pa
import pytest

from tests.shipments.support import write_csv
from tidetrace.shipments.detect import sniff_file
from tidetrace.shipments.layouts import builtin_layouts
from tidetrace.shipments.readers import RawSource, TranscodingReader, read_chunks, read_pieces

HEADER = ["bill_of_lading", "shipper_name", "consignee_name", "description"]


def _source(path: Path, layout: str = "generic") -> RawSource:
    sniff = sniff_file(path)
    return RawSource(path.name, sniff.sha256, builtin_layouts()[layout], layout, {"file": sniff})


def _all(source: RawSource, tmp_path: Path, chunk_rows: int = 1000) -> pa.Table:
    return pa.concat_tables([t for _, t in read_chunks(source, chunk_rows, tmp_path / "w")])


def test_malformed_lines_are_rejected_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "bill_of_lading,shipper_name,consignee_name,description\n"
        'B1,"A, with comma",C,"two\nlines"\n'
        "B2,too,many,cells,here\n"
        "B3,A,C,ok\n"
        "B4,few\n",
        encoding="utf-8",
    )
    source = _source(path)
    table = _all(source, tmp_path)
    assert table.column("bill_of_lading").to_pylist() == ["B1", "B3"]
    assert table.column("description").to_pylist() == ["two\nlines", "ok"]
    assert table.column("source_row").to_pylist() == [1, 2]
    assert [(r.row, r.value, r.reason) for r in source.rejects] == [
        (4, "B2,too,many,cells,here", "expected 4 cells, found 5"),
        (6, "B4,few", "expected 4 cells, found 2"),
    ]
    assert source.rejected_total == 2


def test_missing_columns_are_blank_and_extra_ones_ignored(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.csv",
        ["Shipper_Name", "bill_of_lading", "extra", "consignee_name"],
        [["A", "B1", "zz", "C"]],
    )
    table = _all(_source(path), tmp_path)
    row = table.to_pylist()[0]
    assert row["bill_of_lading"] == "B1"
    assert row["shipper_name"] == "A"
    assert row["weight"] == ""  # not in the file


def test_any_join_and_const_specs(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            "Bill of Lading Number",
            "Shipper",
            "Shipper (Original Format)",
            "Consignee",
            "Weight (kg)",
        ],
        [["B1", "STD NAME", "Filed Name Co", "C", "100"], ["B2", "STD ONLY", "", "C", "5"]],
    )
    table = _all(_source(path, "panjiva"), tmp_path)
    assert table.column("shipper_name").to_pylist() == ["Filed Name Co", "STD ONLY"]
    assert table.column("weight_unit").to_pylist() == ["KG", "KG"]


def test_chunks_have_exact_sizes_and_continuous_rows(tmp_path: Path) -> None:
    lines = [[f"B{i}", "A", "C", "d"] for i in range(2500)]
    path = write_csv(tmp_path / "big.csv", HEADER, lines)
    chunks = list(read_chunks(_source(path), 1000, tmp_path / "w"))
    assert [(i, t.num_rows) for i, t in chunks] == [(0, 1000), (1, 1000), (2, 500)]
    rows = pa.concat_tables([t for _, t in chunks]).column("source_row").to_pylist()
    assert rows == list(range(1, 2501))


@pytest.mark.parametrize("rows", [2500, 3000, 999])
def test_pieces_are_cut_at_chunk_boundaries(tmp_path: Path, rows: int) -> None:
    """Pieces never cross a chunk boundary; the last piece of each chunk says so."""
    lines = [[f"B{i}", "A", "C", "d" * (i % 50)] for i in range(rows)]
    path = write_csv(tmp_path / "big.csv", HEADER, lines)
    pieces = list(read_pieces(_source(path), 1000, tmp_path / "w"))
    sizes: dict[int, int] = {}
    for index, piece, _last in pieces:
        sizes[index] = sizes.get(index, 0) + piece.num_rows
    full, rest = divmod(rows, 1000)
    assert list(sizes.values()) == [1000] * full + ([rest] if rest else [])
    lasts = [index for index, _, last in pieces if last]
    assert lasts == list(sizes)
    assert all(not last for (i, _, last), (j, _, _) in itertools.pairwise(pieces) if i == j)
    source_rows = pa.concat_tables([p for _, p, _ in pieces]).column("source_row").to_pylist()
    assert source_rows == list(range(1, rows + 1))


def test_gb18030_is_transcoded(tmp_path: Path) -> None:
    lines = [
        [f"B{i}", "丹东海祥食品有限公司", "大连宝盛水产品有限公司", "冷冻鱿鱼"] for i in range(50)
    ]
    path = write_csv(tmp_path / "gb.csv", HEADER, lines, encoding="gb18030")
    table = _all(_source(path), tmp_path)
    assert set(table.column("shipper_name").to_pylist()) == {"丹东海祥食品有限公司"}


def test_transcoding_reader_replaces_undecodable_bytes() -> None:
    raw = io.BytesIO("好".encode("gb18030") + b"\xff\x30ok")
    text = TranscodingReader(raw, "gb18030").read().decode("utf-8")
    assert text.startswith("好")
    assert "\ufffd" in text
    assert text.endswith("ok")


def test_xlsx_cells_become_text(tmp_path: Path) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    path = tmp_path / "export.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["Bill of Lading Number", "Arrival Date", "Shipper", "Consignee", "Weight (kg)", "HS Code"]
    )
    sheet.append(["B1", dt.datetime(2023, 5, 1), "A", "C", 12000.0, "0307.43"])
    sheet.append(["B2", dt.datetime(2023, 5, 2, 13, 30), "=cmd|' /C calc'!A0", "C", 12.5, 30743])
    sheet.append([None, None, None, None, None, None])
    workbook.save(path)
    table = _all(_source(path, "panjiva"), tmp_path)
    rows = table.to_pylist()
    assert [r["arrival_date"] for r in rows] == ["2023-05-01", "2023-05-02 13:30:00"]
    assert [r["weight"] for r in rows] == ["12000", "12.5"]
    # A formula in a name cell is kept as its text (and neutralised on export), never run.
    assert rows[1]["shipper_name"] == "=cmd|' /C calc'!A0"
    assert rows[1]["hs_code"] == "30743"
    assert [r["source_row"] for r in rows] == [1, 2]
