"""Queries over the Parquet dataset: filters, latest versions, partitions, empty stores."""

from datetime import date
from pathlib import Path

import pytest

from tests.shipments.support import rows
from tidetrace.exc import InputError
from tidetrace.shipments.store import (
    ShipmentQuery,
    ShipmentStore,
    arrival_window,
    data_files,
    source_dir,
)
from tidetrace.shipments.synth import SynthResult
from tidetrace.workspace import Workspace


def test_layout_on_disk(ingested: Workspace, synth_small: SynthResult) -> None:
    shipments = ingested.parquet_dir / "shipments"
    sources = sorted(shipments.glob("dataset=synth/src=*"))
    flat = [f for f in synth_small.files if not f.name.startswith("ams__")]
    assert len(sources) == len(flat) + 1  # one per file, one for the AMS table set
    for src in sources:
        files = data_files(src)
        assert files, src
        for file in files:
            year = int(file.parent.parent.name.removeprefix("arrival_year="))
            month = int(file.parent.name.removeprefix("arrival_month="))
            assert year == 2023 and 1 <= month <= 12
    sha = rows(ingested, "SELECT source_sha256 FROM all_versions LIMIT 1")[0]["source_sha256"]
    assert source_dir(ingested, "synth", sha).is_dir()


def test_count_is_the_number_query_finds_without_a_limit(ingested: Workspace) -> None:
    store = ShipmentStore(ingested)
    for q in (
        ShipmentQuery(),
        ShipmentQuery(hs="03", since=date(2023, 4, 1)),
        ShipmentQuery(seafood=True, history=True),
        ShipmentQuery(consignee="no such consignee anywhere"),
    ):
        q.limit = 0
        found = store.query(q).num_rows
        q.limit = 3
        assert store.count(q) == found
    assert ShipmentStore(ingested).count(ShipmentQuery(dataset="nothing_here")) == 0


def test_partition_columns_match_the_rows(ingested: Workspace) -> None:
    bad = rows(
        ingested,
        "SELECT count(*) AS n FROM all_versions WHERE arrival_year <> "
        "coalesce(year(coalesce(arrival_date, estimated_arrival_date)), 0) OR arrival_month <> "
        "coalesce(month(coalesce(arrival_date, estimated_arrival_date)), 0)",
    )
    assert bad == [{"n": 0}]


def test_filters(ingested: Workspace) -> None:
    store = ShipmentStore(ingested)
    everything = store.query(ShipmentQuery(limit=0)).to_pylist()
    versions = rows(ingested, "SELECT count(DISTINCT shipment_id) AS n FROM all_versions")[0]["n"]
    assert len(everything) == versions  # one row per bill
    some = next(r for r in everything if r["shipper_name"] and r["arrival_date"])
    word = some["shipper_name"].split()[0].lower()
    by_shipper = store.query(ShipmentQuery(shipper=word, limit=0)).to_pylist()
    assert by_shipper and all(word.upper() in r["shipper_name"] for r in by_shipper)
    by_id = store.query(ShipmentQuery(shipper=some["shipper_id"], limit=0)).to_pylist()
    assert {r["shipper_id"] for r in by_id} == {some["shipper_id"]}
    squid = store.query(ShipmentQuery(hs="0307.43", limit=0)).to_pylist()
    assert squid and all(any(c.startswith("030743") for c in r["hs_code"]) for r in squid)
    since, until = date(2023, 3, 1), date(2023, 5, 31)
    window = store.query(ShipmentQuery(since=since, until=until, limit=0)).to_pylist()
    assert window
    assert all(since <= (r["arrival_date"] or r["estimated_arrival_date"]) <= until for r in window)
    seafood = store.query(ShipmentQuery(seafood=True, limit=0)).to_pylist()
    assert 0 < len(seafood) < len(everything)
    assert store.query(ShipmentQuery(limit=5)).num_rows == 5
    assert store.query(ShipmentQuery(dataset="nothing-here")).num_rows == 0
    combined = store.query(ShipmentQuery(shipper=word, hs="03", since=since, limit=0)).to_pylist()
    assert all(r in by_shipper for r in combined)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (ShipmentQuery(hs="03x"), "HS code prefix"),
        (ShipmentQuery(shipper="..."), "nothing to search for"),
        (ShipmentQuery(bill="--"), "no letters or digits"),
        (ShipmentQuery(offset=-1), "0 or more"),
    ],
)
def test_bad_filters(ingested: Workspace, query: ShipmentQuery, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ShipmentStore(ingested).query(query)


def test_user_text_is_a_parameter_not_sql(ingested: Workspace) -> None:
    store = ShipmentStore(ingested)
    assert store.query(ShipmentQuery(shipper="x' OR 1=1 --")).num_rows == 0


def test_empty_workspace(workspace: Workspace, tmp_path: Path) -> None:
    store = ShipmentStore(workspace)
    assert store.datasets() == []
    assert store.query(ShipmentQuery()).num_rows == 0
    assert list(store.iter_latest()) == []
    assert store.counts() == {}


def test_counts_and_datasets(ingested: Workspace) -> None:
    store = ShipmentStore(ingested)
    assert store.datasets() == ["synth"]
    counts = store.counts()["synth"]
    assert counts["rows"] == 1500
    assert counts["bills"] < counts["rows"]  # amendments are versions of earlier bills


def test_arrival_window_as_typed() -> None:
    assert arrival_window(None, " ") == (None, None)
    assert arrival_window("2023-01-01", "2023-01-01") == (date(2023, 1, 1), date(2023, 1, 1))
    with pytest.raises(InputError, match="--until: '2023-13-01' is not a date"):
        arrival_window(None, "2023-13-01")
    with pytest.raises(InputError, match="--since: 2023-06-01 is after --until 2023-01-01"):
        arrival_window("2023-06-01", "2023-01-01")
