"""AMS public data: eight tables joined on the identifier into one raw row per bill."""

from pathlib import Path

import pytest

from tests.shipments.support import write_csv
from tidetrace.exc import InputError
from tidetrace.shipments.ingest import IngestOptions, plan_sources
from tidetrace.shipments.readers import read_chunks
from tidetrace.shipments.synth import layout_headers


def _tables(directory: Path, suffix: str = "2023__202301010000") -> list[Path]:
    def table(name: str, rows: list[dict[str, str]]) -> Path:
        header = layout_headers(f"ams__{name}")
        path = directory / f"ams__{name}_{suffix}.csv"
        return write_csv(path, header, [[r.get(h, "") for h in header] for r in rows])

    return [
        table(
            "header",
            [
                {
                    "identifier": "2",
                    "carrier_code": "MAEU",
                    "vessel_name": "MAERSK ALDEN",
                    "foreign_port_of_lading": "Dalian,China (Mainland)",
                    "port_of_unlading": "Seattle, Washington",
                    "estimated_arrival_date": "2023-03-01",
                    "actual_arrival_date": "2023-03-02",
                    "weight": "20000",
                    "weight_unit": "Kilograms",
                    "manifest_quantity": "1500",
                    "manifest_unit": "CTN",
                    "record_status_indicator": "A",
                    "conveyance_id": "9811000",
                },
                {
                    "identifier": "1",
                    "carrier_code": "COSU",
                    "vessel_name": "COSCO X",
                    "estimated_arrival_date": "2023-02-01",
                    "weight": "100",
                    "weight_unit": "Pounds",
                },
            ],
        ),
        table(
            "billgen",
            [
                {
                    "identifier": "2",
                    "master_bol_number": "MAEU123",
                    "house_bol_number": "TPCL9",
                    "trade_update_date": "2023-02-20",
                },
                {"identifier": "1", "master_bol_number": "COSU555"},
            ],
        ),
        table(
            "shipper",
            [
                {
                    "identifier": "2",
                    "shipper_party_name": "DANDONG HAI XIANG FOODSTUFF CO., LT",
                    "shipper_party_address_1": "NO. 18 BINHAI ROAD",
                    "city": "DANDONG",
                    "country_code": "CN",
                }
            ],
        ),
        table(
            "consignee",
            [
                {
                    "identifier": "2",
                    "consignee_name": "PACIFIC TIDE SEAFOOD INC",
                    "country_code": "US",
                }
            ],
        ),
        table("notifyparty", [{"identifier": "2", "notify_party_name": "SAME AS CONSIGNEE"}]),
        table(
            "cargodesc",
            [
                {
                    "identifier": "2",
                    "description_sequence_number": "1",
                    "description_text": "FROZEN SQUID",
                },
                {
                    "identifier": "2",
                    "description_sequence_number": "2",
                    "description_text": "10KG/CTN",
                },
            ],
        ),
        table(
            "container",
            [
                {"identifier": "2", "container_number": "CSQU3054383"},
                {"identifier": "2", "container_number": "MSKU1234565"},
            ],
        ),
        table(
            "tariff",
            [
                {"identifier": "2", "harmonized_number": "030743"},
                {"identifier": "2", "harmonized_number": "160554"},
            ],
        ),
    ]


def test_tables_are_joined_per_identifier_in_header_order(tmp_path: Path) -> None:
    [source] = plan_sources(_tables(tmp_path), IngestOptions())
    assert source.layout.name == "ams"
    assert source.name.startswith("ams__header_") and "+7 tables" in source.name
    [(index, chunk)] = list(read_chunks(source, 100, tmp_path / "work"))
    first, second = chunk.to_pylist()
    assert index == 0
    assert (first["source_row"], first["record_id"]) == (1, "2")
    assert first["bill_of_lading"] == "TPCL9"  # the house bill's own number
    assert first["master_bill_of_lading"] == "MAEU123"
    assert first["shipper_address"] == "NO. 18 BINHAI ROAD, DANDONG"
    assert first["description"] == "FROZEN SQUID 10KG/CTN"
    assert first["container"] == "CSQU3054383, MSKU1234565"
    assert first["hs_code"] == "030743, 160554"
    assert first["vessel_imo"] == "9811000"
    assert first["filing_date"] == "2023-02-20"
    assert first["record_status"] == "A"
    # A bill with no party tables: blank parties, not an error.
    assert (second["bill_of_lading"], second["shipper_name"]) == ("COSU555", "")


def test_a_set_needs_header_and_billgen(tmp_path: Path) -> None:
    files = [f for f in _tables(tmp_path) if "billgen" not in f.name]
    with pytest.raises(InputError, match="billgen"):
        plan_sources(files, IngestOptions())


def test_two_sets_are_told_apart_by_their_suffix(tmp_path: Path) -> None:
    one = _tables(tmp_path, "2023__202301010000")
    two = _tables(tmp_path, "2023__202302010000")
    sources = plan_sources(one + two, IngestOptions())
    assert len(sources) == 2
    assert sources[0].name != sources[1].name
    # Same tables, same content: one hash, so ingesting both stores the bills once.
    assert sources[0].sha256 == sources[1].sha256


def test_the_same_table_twice_in_one_set(tmp_path: Path) -> None:
    files = _tables(tmp_path)
    copy = tmp_path / "copy"
    copy.mkdir()
    header_again = copy / files[0].name
    header_again.write_bytes(files[0].read_bytes() + b"3,X,,,,,,,,,,,,,,,,\n")
    with pytest.raises(InputError, match="second header table"):
        plan_sources([*files, header_again], IngestOptions())
