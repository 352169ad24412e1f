"""Cleaning one value: names and what party fields say, countries, ports, dates, units."""

import random
import unicodedata
from datetime import date

import pyarrow as pa
import pytest

from tidetrace.shipments import normalize
from tidetrace.shipments.normalize import (
    DICTIONARIES,
    DictionaryCache,
    clean_country,
    clean_name,
    clean_party,
    clean_port,
    clean_quantity_unit,
    clean_vessel,
    infer_country,
    parse_date,
    party_id,
    party_schema,
    split_folded_address,
    weight_factor,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Dandong Hai-Qing Foodstuff Co.,Ltd.", "DANDONG HAI QING FOODSTUFF CO LTD"),
        ("DANDONG HAI QING FOODSTUFF CO LTD", "DANDONG HAI QING FOODSTUFF CO LTD"),
        ("  dandong   hai qing foodstuff co., ltd ", "DANDONG HAI QING FOODSTUFF CO LTD"),
        ("U.S.A. Seafood, Inc.", "USA SEAFOOD INC"),
        ("O'Neill & Sons", "ONEILL & SONS"),
        ("A&B TRADING", "A & B TRADING"),
        ("ＡＢＣ　ＦＯＯＤＳ（中国）", "ABC FOODS 中国"),
        ("丹东海祥食品有限公司", "丹东海祥食品有限公司"),
        ("동해수산 주식회사", "동해수산 주식회사"),
        ("Straße", "STRASSE"),
        ("...", ""),
    ],
)
def test_clean_name(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


def test_legal_forms_are_left_for_entity_resolution() -> None:
    # CO LTD and COMPANY LIMITED stay apart here: merging them is resolution's call.
    assert clean_name("X FOOD CO., LTD.") != clean_name("X FOOD COMPANY LIMITED")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("-", "blank"),
        ("NOT AVAILABLE", "not_available"),
        ("Not Available", "not_available"),
        ("N/A", "not_available"),
        ("NULL", "not_available"),
        ("TO ORDER", "to_order"),
        ("TO THE ORDER OF BANK OF CHINA DALIAN BRANCH", "to_order"),
        ("TO ORDER OF SHIPPER", "to_order"),
        ("REDACTED", "redacted"),
        ("CONFIDENTIAL", "redacted"),
        ("***", "redacted"),
        ("XXXXXXX", "redacted"),
        ("SAME AS CONSIGNEE", "same_as_other"),
        ("PRIVATE LABEL SEAFOOD INC", "named"),
        ("ORDER FOODS LLC", "named"),
    ],
)
def test_party_status(raw: str, status: str) -> None:
    party = clean_party(raw, "", "")
    assert party.status == status
    if status != "named":
        assert party.id is None and party.name is None


@pytest.mark.parametrize(
    ("raw", "forwarder"),
    [
        ("SINO OCEAN LOGISTICS CO., LTD.", True),
        ("GLOBAL LINK INTERNATIONAL FREIGHT FORWARDING CO LTD", True),
        ("KUEHNE + NAGEL LTD", True),
        ("X SHIPPING AGENCY CO LTD AS AGENT FOR DANDONG FOOD CO LTD", True),
        ("上海远洋物流有限公司", True),
        ("DANDONG HAI XIANG FOODSTUFF CO., LTD.", False),
        ("PACIFIC TIDE SEAFOOD INC", False),
    ],
)
def test_forwarder_flag(raw: str, forwarder: bool) -> None:
    assert clean_party(raw, "", "").is_forwarder is forwarder


def test_folded_address_is_split_off() -> None:
    party = clean_party("DANDONG HAI XIANG FOOD CO LTD NO. 18 BINHAI ROAD, DANDONG, CHINA", "", "")
    assert party.name == "DANDONG HAI XIANG FOOD CO LTD"
    assert party.address == "NO 18 BINHAI ROAD DANDONG CHINA"
    assert party.country == "cn"
    assert split_folded_address("丹东海祥食品有限公司辽宁省丹东市") == (
        "丹东海祥食品有限公司",
        "辽宁省丹东市",
    )
    # No address after the legal form: the name stays whole.
    assert split_folded_address("AS GOOD AS GOLD CO LTD") == ("AS GOOD AS GOLD CO LTD", None)


def test_party_ids_are_stable_and_keyed_on_name_and_country() -> None:
    a = clean_party("Dandong Hai Xiang Food Co.,Ltd.", "", "CN")
    b = clean_party("DANDONG HAI XIANG FOOD CO LTD", "NO 1 ROAD", "China")
    c = clean_party("DANDONG HAI XIANG FOOD CO LTD", "", "KR")
    assert a.id == b.id == party_id("DANDONG HAI XIANG FOOD CO LTD", "cn")
    assert a.id != c.id
    assert a.id is not None and a.id.startswith("tt-party-")
    assert party_schema("DANDONG HAI XIANG FOOD CO LTD") == "Company"
    assert party_schema("JOHN SMITH") == "LegalEntity"


@pytest.mark.parametrize(
    ("raw", "code"),
    [("CN", "cn"), ("CHINA", "cn"), ("China (Mainland)", "cn"), ("Korea, South", "kr"), ("", None)],
)
def test_countries(raw: str, code: str | None) -> None:
    assert clean_country(raw) == code


def test_country_from_the_end_of_an_address() -> None:
    assert infer_country("123 HARBOR ST, SEATTLE, WA 98101, USA") == "us"
    assert infer_country("NO 18 BINHAI RD DANDONG LIAONING CHINA") == "cn"
    # Two-letter endings are states, not countries; Georgia is a state here.
    assert infer_country("1 MAIN ST, SAN DIEGO, CA") is None
    assert infer_country("SAVANNAH, GEORGIA") is None


@pytest.mark.parametrize(
    ("raw", "port"),
    [
        ("Shanghai ,China (Mainland)", "CNSHA"),
        ("DALIAN, CHINA", "CNDLC"),
        ("CNDDG", "CNDDG"),
        ("KR PUS", "KRPUS"),
        ("Pusan,South Korea", "KRPUS"),
        ("SEATTLE, WASHINGTON", "USSEA"),
        ("2704", "USLAX"),
        # Schedule D 4601 is the port of Newark in the New York/Newark area; 1001 is New York.
        ("NEW YORK/NEWARK AREA, NEWARK, NEW JERSEY", "USEWR"),
        ("4601", "USEWR"),
        ("1001", "USNYC"),
        ("Portland", "PORTLAND"),
        ("Somewhere Else", "SOMEWHERE ELSE"),
        ("", None),
    ],
)
def test_ports(raw: str, port: str | None) -> None:
    assert clean_port(raw) == port


@pytest.mark.parametrize(
    ("raw", "order", "day"),
    [
        ("2023-05-01", "mdy", date(2023, 5, 1)),
        ("2023-05-01T00:00:00", "mdy", date(2023, 5, 1)),
        ("2023/5/1", "mdy", date(2023, 5, 1)),
        ("20230501", "mdy", date(2023, 5, 1)),
        ("05/01/2023", "mdy", date(2023, 5, 1)),
        ("05/01/2023", "dmy", date(2023, 1, 5)),
        ("13/01/2023", "mdy", date(2023, 1, 13)),
        ("1/2/23", "mdy", date(2023, 1, 2)),
        ("01-MAY-2023", "mdy", date(2023, 5, 1)),
        ("1 May 2023", "mdy", date(2023, 5, 1)),
        ("May 1, 2023", "mdy", date(2023, 5, 1)),
        ("Sept 30, 2023", "mdy", date(2023, 9, 30)),
        ("31/02/2023", "mdy", None),
        ("1899-12-31", "mdy", None),
        ("soon", "mdy", None),
        ("", "mdy", None),
    ],
)
def test_dates(raw: str, order: str, day: date | None) -> None:
    assert parse_date(raw, order) == day


@pytest.mark.parametrize(
    ("unit", "factor"),
    [
        ("KG", 1.0),
        ("kgs", 1.0),
        ("Kilograms", 1.0),
        ("LB", 0.45359237),
        ("Pounds", 0.45359237),
        ("MT", 1000.0),
        ("T", 1000.0),
        ("TON", None),
        ("", None),
        ("bananas", None),
    ],
)
def test_weight_units(unit: str, factor: float | None) -> None:
    assert weight_factor(unit) == factor


def test_quantity_units() -> None:
    assert clean_quantity_unit("Cartons") == "CTN"
    assert clean_quantity_unit("PCS") == "PCS"
    assert clean_quantity_unit("bunches") == "BUNCHES"
    assert clean_quantity_unit(" ") is None


def test_vessels() -> None:
    assert clean_vessel("M/V EVER GIVEN IMO 9811000", "") == ("EVER GIVEN", "IMO9811000")
    assert clean_vessel("MAERSK ESSEX", "9632179") == ("MAERSK ESSEX", "IMO9632179")
    # A wrong check digit keeps the name and drops the number (the raw column keeps it).
    assert clean_vessel("X", "9811001") == ("X", None)


def test_lookups_in_arrow_match_the_lookup_table() -> None:
    """The DuckDB engine's Arrow join and Spark's SQL join see the same cleaned values."""
    table = pa.table(
        {
            "shipper_name": ["A CO LTD", "TO ORDER", "A CO LTD", "B INC"],
            "shipper_address": ["", "", "", "1 ROAD, CHINA"],
            "shipper_country": ["CN", "", "CN", ""],
            "consignee_name": ["C LLC"] * 4,
            "consignee_address": [""] * 4,
            "consignee_country": ["US"] * 4,
            "notify_name": [""] * 4,
            "notify_address": [""] * 4,
            "notify_country": [""] * 4,
        }
    )
    cache = DictionaryCache("mdy")
    party = next(d for d in DICTIONARIES if d.name == "party")
    joined = cache.apply(party, table).to_pylist()
    lookup = cache.lookup(
        party, [("A CO LTD", "", "CN"), ("TO ORDER", "", ""), ("B INC", "1 ROAD, CHINA", "")]
    )
    by_key = {(r["k0"], r["k1"], r["k2"]): r for r in lookup.to_pylist()}
    for row in joined:
        expected = by_key[(row["shipper_name"], row["shipper_address"], row["shipper_country"])]
        assert row["_shipper_id"] == expected["id"]
        assert row["_shipper_status"] == expected["status"]
    assert joined[3]["_shipper_country"] == "cn"  # read from the end of the address


def test_a_full_cache_forgets_without_losing_keys_of_the_current_call() -> None:
    # Regression: a 10 M-row ingest died with KeyError once the party cache passed its cap,
    # because keys already cached were dropped with the rest while their chunk still needed
    # them.
    party = next(d for d in DICTIONARIES if d.name == "party")
    cache = DictionaryCache("mdy", max_entries=3)
    first = [("A CO LTD", "", "CN"), ("B INC", "", "US")]
    second = [("A CO LTD", "", "CN"), ("C LLC", "", "US"), ("D LTD", "", "CN")]
    cache.values(party, first)
    fresh = DictionaryCache("mdy").values(party, second)
    assert cache.values(party, second) == fresh
    many = [(f"FIRM {i} CO LTD", "", "CN") for i in range(10)]
    assert cache.values(party, many) == DictionaryCache("mdy").values(party, many)


def _regex_clean_name(raw: str) -> str:
    """``clean_name`` as the regexes alone write it (the form non-ASCII names still take)."""
    text = unicodedata.normalize("NFKC", raw).upper()
    text = normalize._APOSTROPHES.sub("", text)
    text = normalize._ABBREVIATION_DOT.sub(r"\1", text)
    text = normalize._NOT_WORD.sub(" ", text)
    text = normalize._AMPERSAND.sub(" & ", text)
    return " ".join(text.split()).strip(" &")


def _noisy_names(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(128)] + list("AAEEIO     ..,&'`_-")
    words = ["CO", "LTD", "CO.,LTD", "INC", "ROAD", "RD", "NO", "P O BOX", "PO BOX", "DALIAN"]
    words += ["HAIQING", "FOOD", "&", "A.B.", "U.S.A.", "_X_", "BLDG", "18", "B-2", "O'NEILL"]
    names = []
    for i in range(count):
        if i % 2:
            names.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))))
        else:
            names.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 8))))
    return names


def test_ascii_fast_paths_clean_as_the_regexes_do() -> None:
    """clean_name and split_folded_address skip work for ASCII; the results must not move."""
    legal = normalize._patterns()["legal_form"]
    for raw in _noisy_names(20_000, seed=11):
        assert normalize.clean_name.__wrapped__(raw) == _regex_clean_name(raw), repr(raw)
        clean = _regex_clean_name(raw)
        cut = None
        for match in legal.finditer(clean):
            rest = clean[match.end() :].strip()
            if len(rest) >= 4 and (
                any(ch.isdigit() for ch in rest.split()[0])
                or rest.split()[0] in normalize._address_words()
                or " ".join(rest.split()[:2]) in normalize._address_words()
            ):
                cut = match.end()
        expected = (clean, None) if cut is None else (clean[:cut].strip(), clean[cut:].strip())
        assert normalize.split_folded_address(clean) == expected, repr(clean)
