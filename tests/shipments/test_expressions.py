"""The per-row SQL: HS codes, containers, weights, ids, record status (DuckDB dialect).

``test_spark.py`` runs the same cases through Spark; both are held to the Python forms.
"""

import random
import re
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from tidetrace.ids.container import ContainerNumber, check_digit
from tidetrace.ids.hs import HSCode
from tidetrace.shipments.expressions import (
    CONTAINER_PATTERN,
    DUCKDB,
    HS_PATTERN,
    SourceMeta,
    build_rows,
    shipments_sql,
)
from tidetrace.shipments.fields import PARQUET_SCHEMA, RAW_FIELDS
from tidetrace.shipments.normalize import DICTIONARIES, DictionaryCache
from tidetrace.shipments.prepare import prepare_chunk

META = SourceMeta("f.csv", "ab" * 32, "generic", 7)
HS_CASES = [
    ("0307.43", ["030743"]),
    ("030743", ["030743"]),
    ("0307.43.0050", ["0307430050"]),
    ("0307 43 0050", ["0307430050"]),
    ("0307430050", ["0307430050"]),
    ("0307.43, 1605.54", ["030743", "160554"]),
    ("1605.54; 0307.43; 1605.54", ["030743", "160554"]),
    ("HS CODE: 0304.94", ["030494"]),
    ("30743", None),
    ("7700.00", None),
    ("", None),
]
CONTAINER_CASES = [
    ("CSQU3054383", ["CSQU3054383"]),
    ("CSQU 305438-3", ["CSQU3054383"]),
    ("csqu3054383, MSKU1234565", ["CSQU3054383", "MSKU1234565"]),
    ("MSKU1234565 MSKU1234565", ["MSKU1234565"]),
    ("CSQU3054384", None),
    ("N/A", None),
]


def prepared(raw_rows: list[dict[str, str]], meta: SourceMeta = META) -> pa.Table:
    """Raw rows through the checks and the lookups, as the engines receive them."""
    columns: dict[str, list[Any]] = {f: [r.get(f, "") for r in raw_rows] for f in RAW_FIELDS}
    columns["source_row"] = list(range(1, len(raw_rows) + 1))
    good, rejects = prepare_chunk(pa.table(columns), meta.source_file)
    assert rejects.num_rows == 0, rejects.to_pylist()
    cache = DictionaryCache("mdy")
    for dictionary in DICTIONARIES:
        good = cache.apply(dictionary, good)
    return good


def rows_through_sql(
    raw_rows: list[dict[str, str]], meta: SourceMeta = META
) -> list[dict[str, Any]]:
    """Raw rows as the DuckDB engine builds them (SQL + Arrow), as output dicts."""
    out: list[dict[str, Any]] = build_rows(
        duckdb.connect(), prepared(raw_rows, meta), meta
    ).to_pylist()
    return out


def rows_all_sql(raw_rows: list[dict[str, str]], meta: SourceMeta = META) -> list[dict[str, Any]]:
    """The same rows with every column in SQL, as the Spark engine runs it."""
    con = duckdb.connect()
    con.register("prep", prepared(raw_rows, meta))
    out: list[dict[str, Any]] = (
        con.execute(shipments_sql(DUCKDB, meta)).to_arrow_table().to_pylist()
    )
    return out


def _base(**values: str) -> dict[str, str]:
    return {"bill_of_lading": "MAEU 123-456", "shipper_name": "A", "consignee_name": "B", **values}


@pytest.mark.parametrize(("raw", "codes"), HS_CASES)
def test_hs_codes(raw: str, codes: list[str] | None) -> None:
    [row] = rows_through_sql([_base(hs_code=raw)])
    assert row["hs_code"] == codes
    for code in codes or []:
        assert HSCode.normalize(code) == code
    assert row["is_seafood"] is bool(codes)


@pytest.mark.parametrize(("raw", "numbers"), CONTAINER_CASES)
def test_containers(raw: str, numbers: list[str] | None) -> None:
    [row] = rows_through_sql([_base(container=raw)])
    assert row["container_number"] == numbers


def test_container_check_digit_in_sql_matches_python() -> None:
    rng = random.Random(3)
    raws = []
    for _ in range(300):
        prefix = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + "U"
        prefix += f"{rng.randrange(10**6):06d}"
        raws.append(prefix + str(rng.choice([check_digit(prefix), rng.randrange(10)])))
    out = rows_through_sql([_base(container=r) for r in raws])
    for raw, row in zip(raws, out, strict=True):
        expected = ContainerNumber.normalize(raw)
        assert row["container_number"] == ([expected] if expected else None), raw


@pytest.mark.parametrize(
    ("weight", "unit", "kg"),
    [
        ("12,345.5", "KG", 12345.5),
        ("1000", "LBS", 453.59237),
        ("18.5", "MT", 18500.0),
        ("12000 KGS", "", 12000.0),
        ("12 000", "kg", 12000.0),
        ("1000", "TON", None),
        ("1000", "", None),
        ("n/a", "KG", None),
    ],
)
def test_weights(weight: str, unit: str, kg: float | None) -> None:
    [row] = rows_through_sql([_base(weight=weight, weight_unit=unit)])
    assert row["weight_kg"] == pytest.approx(kg) if kg is not None else row["weight_kg"] is None
    assert row["weight_raw"] == weight


def test_ids_raw_beside_clean_and_types() -> None:
    [a, b] = rows_through_sql(
        [
            _base(
                master_bill_of_lading="MAEU-100",
                carrier="maeu",
                record_status="A",
                description="FROZEN   SQUID\n RINGS ",
                quantity="1,200 CTNS",
            ),
            _base(bill_of_lading="maeu123456", carrier="MAEU", record_status="D"),
        ]
    )
    assert a["row_id"] == "ab" * 12 + ":1"
    assert a["bill_of_lading"] == "MAEU123456" and a["bill_of_lading_raw"] == "MAEU 123-456"
    # Same bill number and carrier, however written: the same shipment.
    assert a["shipment_id"] == b["shipment_id"]
    assert a["shipment_id"].startswith("tt-shipment-")
    assert a["is_house_bill"] is True and a["master_bill_of_lading"] == "MAEU100"
    assert b["is_house_bill"] is False and b["master_bill_of_lading"] is None
    assert (a["record_status"], b["record_status"]) == ("amended", "deleted")
    assert a["goods_description"] == "FROZEN SQUID RINGS"
    assert (a["quantity"], a["quantity_unit"]) == (1200.0, "CTN")
    assert a["ingest_seq"] == 7
    assert a["shipper_status"] == "named" and b["notify_status"] == "blank"
    assert set(a) == {f.name for f in PARQUET_SCHEMA} | {"arrival_year", "arrival_month"}


def test_partition_is_actual_then_estimated_arrival() -> None:
    rows = rows_through_sql(
        [
            _base(arrival_date="2023-05-02", estimated_arrival_date="2023-04-30"),
            _base(estimated_arrival_date="2023-04-30"),
            _base(),
        ]
    )
    assert [(r["arrival_year"], r["arrival_month"]) for r in rows] == [(2023, 5), (2023, 4), (0, 0)]


def _noisy_rows(count: int, seed: int) -> list[dict[str, str]]:
    """Rows with fields in every shape the fast paths and the general paths take."""
    rng = random.Random(seed)
    hs_parts = ["0307.43", "030743", "1605.54.1000", "0304", "9999.99", "0307 43 00", "x", ""]
    rows = []
    for i in range(count):
        digits = f"{rng.randrange(10**10):010d}"[: rng.choice([4, 6, 7, 8, 10, 11])]
        hs = rng.choice([digits, digits[:4] + "." + digits[4:], ", ".join(rng.sample(hs_parts, 2))])
        prefix = "".join(rng.choice("ABCZ") for _ in range(3)) + rng.choice("UJZR")
        prefix += f"{rng.randrange(10**6):06d}"
        container = prefix + str(rng.choice([check_digit(prefix[:3] + "U" + prefix[4:]), 7]))
        container = rng.choice([container, container.lower(), container + ", " + container, ""])
        rows.append(
            _base(
                bill_of_lading=f"MAEU{i}",
                hs_code=hs,
                container=container,
                shipper_name=rng.choice(["A", "", "TO ORDER", "Dalian Haiqing Food Co.,Ltd"]),
                carrier=rng.choice(["", "maeu", "COSU"]),
                arrival_date=rng.choice(["", "2023-05-02", "05/02/2023"]),
                weight=rng.choice(["", "12,000", "18.5"]),
                weight_unit=rng.choice(["", "KG", "LBS"]),
                record_status=rng.choice(["", "A", "D"]),
            )
        )
    return rows


def test_engine_rows_equal_all_sql_rows() -> None:
    """The DuckDB engine takes pass-through columns from Arrow; Spark runs them as SQL."""
    rows = _noisy_rows(400, seed=5)
    assert rows_through_sql(rows) == rows_all_sql(rows)


def _hs_reference(field: str) -> list[str] | None:
    """The general path in Python: every match of the pattern, digits only, real chapters."""
    chapters = {c for c in (f"{n:02d}" for n in range(100)) if HSCode.normalize(c + "0000")}
    found = set()
    for match in re.finditer(HS_PATTERN, field):
        digits = re.sub("[^0-9]", "", match.group(0))
        if 6 <= len(digits) <= 10 and digits[:2] in chapters:
            found.add(digits)
    return sorted(found) or None


def test_hs_fast_path_matches_the_general_path() -> None:
    """One code as printed skips the list work in SQL; it must find what the pattern finds."""
    rows = _noisy_rows(400, seed=6)
    for raw, row in zip(rows, rows_through_sql(rows), strict=True):
        assert row["hs_code"] == _hs_reference(raw["hs_code"]), raw["hs_code"]
        codes = row["hs_code"] or []
        assert row["is_seafood"] is any(c[:2] == "03" or c[:4] in ("1604", "1605") for c in codes)


def test_container_fast_path_matches_the_general_path() -> None:
    """A lone container in ISO form skips the list work; it must keep what the pattern keeps."""
    rows = _noisy_rows(400, seed=7)
    for raw, row in zip(rows, rows_through_sql(rows), strict=True):
        found = set()
        for match in re.finditer(CONTAINER_PATTERN, raw["container"]):
            text = re.sub("[^A-Za-z0-9]", "", match.group(0)).upper()
            if check_digit(text[:10]) == int(text[10]):
                found.add(text)
        assert row["container_number"] == (sorted(found) or None), raw["container"]
