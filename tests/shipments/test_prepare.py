"""The row checks every engine relies on: NUL, mojibake, lengths, the bill number."""

from typing import Any

import pyarrow as pa
import pytest

from tidetrace.shipments.fields import DEFAULT_MAX_LENGTH, MAX_LENGTH, RAW_FIELDS
from tidetrace.shipments.prepare import _byte_summary, looks_mojibake, mark_chunk, prepare_chunk


def _chunk(*rows: dict[str, str]) -> pa.Table:
    columns: dict[str, list[Any]] = {f: [r.get(f, "") for r in rows] for f in RAW_FIELDS}
    columns["source_row"] = list(range(1, len(rows) + 1))
    return pa.table(columns)


def _row(**values: str) -> dict[str, str]:
    return {"bill_of_lading": "MAEU1", "shipper_name": "A", "consignee_name": "B", **values}


def test_good_rows_pass_with_unit_keys() -> None:
    good, rejects = prepare_chunk(
        _chunk(_row(weight="12000 KGS"), _row(weight="5", weight_unit="LB", quantity="10 CTNS")),
        "f.csv",
    )
    assert rejects.num_rows == 0
    assert good.column("weight_unit_key").to_pylist() == ["KGS", "LB"]
    assert good.column("quantity_unit_key").to_pylist() == ["", "CTNS"]


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (_row(shipper_name="AC\x00ME"), "shipper_name", "NUL"),
        (_row(consignee_name="ä¸­å›½æ°´äº§"), "consignee_name", "mojibake"),
        (_row(description="CafÃ© glacÃ©"), "description", "mojibake"),
        (_row(shipper_address="bad \ufffd byte"), "shipper_address", "mojibake"),
        (_row(shipper_name="锟斤拷锟斤拷"), "shipper_name", "mojibake"),
        (_row(shipper_name="X" * 385), "shipper_name", "longer than 384"),
        (_row(weight="9" * 300), "weight", "longer than 256"),
        (_row(bill_of_lading="   "), "bill_of_lading", "missing"),
        (_row(bill_of_lading="--/--"), "bill_of_lading", "no letters or digits"),
    ],
)
def test_rejects_name_field_and_reason(row: dict[str, str], field: str, reason: str) -> None:
    good, rejects = prepare_chunk(_chunk(_row(), row), "f.csv")
    assert good.num_rows == 1
    [reject] = rejects.to_pylist()
    assert reject["file"] == "f.csv"
    assert reject["row"] == 2
    assert reject["field"] == field
    assert reason in reject["reason"]
    assert reject["value"] == row[field][:1000]


def test_first_failing_check_wins_and_values_are_cut() -> None:
    row = _row(description="x" * 70000, shipper_name="A\x00")
    _, rejects = prepare_chunk(_chunk(row), "f.csv")
    [reject] = rejects.to_pylist()
    assert reject["field"] == "shipper_name"  # NUL is checked before length
    _, rejects = prepare_chunk(_chunk(_row(description="x" * 70000)), "f.csv")
    assert len(rejects.to_pylist()[0]["value"]) == 1000


@pytest.mark.parametrize(
    "text",
    [
        "Müller Fisch GmbH",
        "Pêcheries Côtières",
        "丹东海祥食品有限公司",
        "동해수산",
        "José",
        "naïve",
    ],
)
def test_real_accents_and_scripts_are_not_mojibake(text: str) -> None:
    assert not looks_mojibake(text)
    good, rejects = prepare_chunk(_chunk(_row(shipper_name=text)), "f.csv")
    assert (good.num_rows, rejects.num_rows) == (1, 0)


def test_mojibake_of_every_script_is_caught() -> None:
    for text in ["丹东海祥食品有限公司", "동해수산 주식회사", "Müller", "Pêcheries"]:
        assert looks_mojibake(text.encode("utf-8").decode("cp1252", errors="replace"))
        assert looks_mojibake(text.encode("utf-8").decode("latin-1"))


def test_byte_summary_reads_only_the_values_in_view() -> None:
    """The buffer pass skips checks; it must see exactly the values a (sliced) column holds."""
    column = pa.chunked_array([pa.array(["a\x00b", "plain", "é" * 3]), pa.array(["x" * 300, "ok"])])
    assert _byte_summary(column) == (True, False, 300)
    # Slices leave the other values in the buffers: they must not count.
    assert _byte_summary(column.chunk(0).slice(1, 1)) == (False, True, 5)
    assert _byte_summary(column.chunk(1).slice(1, 1)) == (False, True, 2)
    assert _byte_summary(pa.array(["", ""])) == (False, True, 0)


def test_checks_skipped_by_the_summary_give_the_same_marks() -> None:
    """A chunk with a NUL, a non-ASCII value and an over-long value in later slices."""
    rows = [_row(bill_of_lading=f"B{i}") for i in range(50)]
    rows[40]["shipper_name"] = "A\x00B"
    rows[41]["consignee_name"] = "Ã©cole"
    rows[42]["description"] = "x" * (MAX_LENGTH.get("description", DEFAULT_MAX_LENGTH) + 1)
    table = _chunk(*rows)
    sliced = table.slice(30, 20)
    marked = mark_chunk(sliced).to_pylist()
    reasons = [(r["reject_field"], r["reject_reason"] is not None) for r in marked]
    assert reasons[10] == ("shipper_name", True)
    assert reasons[11] == ("consignee_name", True)
    assert reasons[12] == ("description", True)
    assert all(field is None for field, _ in reasons[:10] + reasons[13:])
    # The rows before the slice carry none of it.
    assert all(r["reject_field"] is None for r in mark_chunk(table.slice(0, 30)).to_pylist())
