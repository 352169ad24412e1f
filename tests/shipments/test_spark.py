"""The Spark engine stores exactly what the DuckDB engine stores (local mode, one session).

One source (synthetic bills plus rows that exercise every SQL expression and every row
check), so one Spark job: starting Spark is most of this test's time.
"""

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.shipments.support import ingest, make_workspace, rows, write_csv
from tests.shipments.test_expressions import CONTAINER_CASES, HS_CASES
from tidetrace.shipments.spark import SparkEngine
from tidetrace.shipments.synth import layout_headers, write_synth
from tidetrace.workspace import Workspace

pytestmark = pytest.mark.spark
NAMES = ["丹东海祥食品有限公司", "Straße Fisch GmbH", "O'Neill & Sons", "TO ORDER", "동해수산"]


def _source(tmp_path: Path) -> tuple[Path, int]:
    """Edge cases, two rejected rows, then a quarter of synthetic bills; and the good rows."""
    header = layout_headers("generic")
    lines = []
    for i, (hs, _) in enumerate(HS_CASES):
        row = dict.fromkeys(header, "")
        row |= {
            "bill_of_lading": f"MAEU{i:04d}",
            "master_bill_of_lading": "MAEU9999" if i % 3 == 0 else "",
            "carrier": "maeu",
            "arrival_date": f"0{1 + i % 3}/1{i % 10}/2023",
            "shipper_name": NAMES[i % 5],
            "shipper_address": "NO. 8 BINHAI RD, DANDONG, CHINA",
            "consignee_name": "NOT AVAILABLE" if i % 4 == 0 else "B INC",
            "notify_name": "SAME AS CONSIGNEE",
            "vessel": "M/V EVER GIVEN IMO 9811000",
            "port_of_lading": "Dalian, China",
            "hs_code": hs,
            "container": CONTAINER_CASES[i % len(CONTAINER_CASES)][0],
            "description": "FROZEN   SQUID\n RINGS",
            "weight": ["12,345.5", "1000", "18.5", "12000 KGS"][i % 4],
            "weight_unit": ["KG", "LBS", "MT", ""][i % 4],
            "quantity": "1,200 CTNS",
            "record_status": ["", "A", "D"][i % 3],
            "filing_date": f"2023-01-0{1 + i % 9}",
        }
        lines.append([row[h] for h in header])
    # One row per check (Spark runs them as SQL, DuckDB in Arrow): the same reject each.
    for bill, shipper in REJECTED:
        lines.append([bill, "", "", shipper, "", "", "B"] + [""] * (len(header) - 7))
    too_long = ["MAEU7", "", "", "A", "", "", "B"] + [""] * (len(header) - 7)
    too_long[header.index("weight")] = "9" * 300
    lines.append(too_long)
    period = (date(2023, 1, 1), date(2023, 3, 31))  # few partitions: a short Spark job
    synth = write_synth(tmp_path / "synth", 300, seed=21, mix={"generic": 1.0}, period=period)
    with open(synth.files[0], encoding="utf-8", newline="") as fh:
        lines += list(csv.reader(fh))[1:]
    return write_csv(tmp_path / "mixed.csv", header, lines), len(HS_CASES) + 300


REJECTED = [
    ("", "A"),  # missing
    ("\u3000 ", "A"),  # only whitespace: missing too
    ("--/--", "A"),  # no letters or digits
    ("MAEU9", "A\x00B"),  # NUL
    ("MAEU8", "DALIAN Ã©TÃ© FOOD CO"),  # mojibake
]


def _all(ws: Workspace) -> list[dict[str, Any]]:
    return rows(ws, "SELECT * EXCLUDE (src) FROM all_versions ORDER BY dataset, row_id")


class _Killed(Exception):
    """Stands in for the process dying after every chunk was staged."""


def test_duckdb_and_spark_store_the_same_rows(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, good = _source(tmp_path)
    options = {"dataset": "same", "max_reject_rate": 1.0, "chunk_rows": 100}
    duck_ws = make_workspace(tmp_path / "duckdb")
    duck = ingest(duck_ws, [path], rejects_path=tmp_path / "duck.csv", **options)

    spark_ws = make_workspace(tmp_path / "spark")

    def die(self: SparkEngine, work: Any) -> None:
        raise _Killed

    with monkeypatch.context() as patch:
        patch.setattr(SparkEngine, "finish", die)
        with pytest.raises(_Killed):
            ingest(spark_ws, [path], engine="spark", **options)
    staged = list((spark_ws.tmp_dir / "shipments" / "same").rglob("raw/c*.parquet"))
    assert len(staged) == 4  # every chunk staged once; the re-run reads but does not redo them
    spark = ingest(spark_ws, [path], engine="spark", rejects_path=tmp_path / "spark.csv", **options)
    assert spark.sources[0].status == "resumed"

    duck_rows, spark_rows = _all(duck_ws), _all(spark_ws)
    assert len(duck_rows) == len(spark_rows) == good
    for a, b in zip(duck_rows, spark_rows, strict=True):
        assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    rejected = len(REJECTED) + 1
    assert (duck.sources[0].rows, duck.sources[0].rejected) == (good, rejected)
    assert (spark.sources[0].rows, spark.sources[0].rejected) == (good, rejected)
    duck_rejects = (tmp_path / "duck.csv").read_text(encoding="utf-8")
    assert duck_rejects == (tmp_path / "spark.csv").read_text(encoding="utf-8")
    for reason in ("NUL", "missing bill", "no letters", "mojibake", "longer than 256"):
        assert reason in duck_rejects
