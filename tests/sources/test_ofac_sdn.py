"""The OFAC SDN legacy CSV parser, on the real files (SDN of 2024-05-03, ALT/ADD of ~2025-12)."""

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from followthemoney.proxy import EntityProxy

from tidetrace.exc import InputError
from tidetrace.sources.ofac_sdn import DATASET_META, OfacReport, parse

DATA = (Path(__file__).parents[2] / ".." / "shared" / "data").resolve()
SDN = DATA / "sanctions" / "ofac_sdn_2024-05-03.csv"
ALT = DATA / "sanctions" / "ofac_alt_2025-12.csv"
ADD = DATA / "sanctions" / "ofac_add_2025-12.csv"

Parsed = tuple[dict[str, EntityProxy], OfacReport]


@pytest.fixture(scope="module")
def everything() -> Parsed:
    report = OfacReport()
    entities = {e.id: e for e in parse(SDN, ALT, ADD, report=report) if e.id is not None}
    return entities, report


@pytest.fixture(scope="module")
def dprk() -> Parsed:
    report = OfacReport()
    entities = {e.id: e for e in parse(SDN, ALT, ADD, program="DPRK", report=report) if e.id}
    return entities, report


def _raw_rows(path: Path) -> list[list[str]]:
    """The file read the plain way, as an independent check on the parser."""
    text = path.read_bytes().decode("ascii").rstrip("\x1a")
    return list(csv.reader(io.StringIO(text, newline="")))


def _schemata(entities: dict[str, EntityProxy]) -> Counter[str]:
    return Counter(e.schema.name for e in entities.values())


def test_dataset_meta() -> None:
    assert DATASET_META["publisher"] == "US Treasury OFAC"
    assert "public domain" in DATASET_META["licence"].lower()


def test_counts_match_file(everything: Parsed) -> None:
    entities, report = everything
    assert report.records == 14965
    assert SDN.read_bytes().count(b"\r\n") == 14965
    counts = _schemata(entities)
    assert counts["Sanction"] == 14965
    assert counts["Person"] == 6854
    assert counts["Vessel"] == 851
    assert counts["Airplane"] == 376
    assert counts["Organization"] + counts["Company"] == 6884
    assert report.emitted == counts
    assert report.skipped == 0


def test_dprk_filter(dprk: Parsed) -> None:
    entities, report = dprk
    counts = _schemata(entities)
    assert counts["Sanction"] == 484
    assert counts["Person"] == 164
    assert counts["Vessel"] == 105
    assert counts["Airplane"] == 16
    assert counts["Organization"] + counts["Company"] == 199
    assert report.records == 14965
    assert report.skipped == 14965 - 484
    # Independent count: any programme code beginning with DPRK.
    rows = _raw_rows(SDN)
    independent = [r for r in rows if re.search(r"(^|\[ ?)DPRK", r[3])]
    assert len(independent) == 484
    assert {f"ofac-{r[0]}" for r in independent} == {
        e for e in entities if not e.startswith("ofac-sanction-")
    }
    programs = {
        p for e in entities.values() if e.schema.name == "Sanction" for p in e.get("program")
    }
    assert {"DPRK", "DPRK2", "DPRK3", "DPRK4", "DPRK-NKSPEA"} <= programs


def test_program_filter_ignores_case_and_respects_code_boundaries(dprk: Parsed) -> None:
    lower = [e.id for e in parse(SDN, program="dprk")]
    assert lower == [e.id for e in parse(SDN, program="DPRK")]
    assert len(lower) == 2 * 484
    # SDNT must not swallow SDNTK (a different programme).
    sdnt = [e for e in parse(SDN, program="SDNT") if e.schema.name == "Sanction"]
    assert len(sdnt) == 216
    assert all("SDNT" in s.get("program") for s in sdnt)


def test_several_programmes(everything: Parsed) -> None:
    entities, _ = everything
    sanction = entities["ofac-sanction-9345"]
    assert sanction.get("program") == ["NPWMD", "DPRK2"]
    assert sanction.get("programId") == ["OFAC-NPWMD", "OFAC-DPRK2"]
    assert sanction.get("authority") == ["US Treasury OFAC"]
    assert sanction.get("authorityId") == ["9345"]
    assert sanction.get("entity") == ["ofac-9345"]
    komid = entities["ofac-9345"]
    assert komid.schema.name == "Company"
    assert komid.get("name") == ["KOREA MINING DEVELOPMENT TRADING CORPORATION"]
    assert "sanction" in komid.get("topics")


def test_vessel_with_imo(everything: Parsed) -> None:
    entities, _ = everything
    vessel = entities["ofac-17069"]
    assert vessel.schema.name == "Vessel"
    assert vessel.get("name") == ["CHONG CHON GANG"]
    assert vessel.get("imoNumber") == ["IMO7937317"]
    assert vessel.get("flag") == ["kp"]
    assert vessel.get("type") == ["General Cargo"]
    vessels = [e for e in entities.values() if e.schema.name == "Vessel"]
    # 7 of 851 vessels have no IMO-labelled number in Remarks (e.g. "RS 150443 (Russia)").
    assert sum(1 for v in vessels if v.has("imoNumber")) == 844
    pegas = entities["ofac-34942"]
    assert pegas.get("imoNumber") == ["IMO9256860"]
    assert pegas.get("grossRegisteredTonnage") == ["61991"]


def test_company_imo_numbers(everything: Parsed) -> None:
    entities, _ = everything
    assert entities["ofac-23510"].get("imoNumber") == ["IMO5055293"]
    # "Company Number IMO 543400" has six digits: not padded into an IMO number.
    assert not entities["ofac-23513"].has("imoNumber")
    assert "Company Number IMO 543400" in (entities["ofac-23513"].first("notes") or "")


def test_unlabelled_registration_is_not_an_imo(dprk: Parsed) -> None:
    entities, _ = dprk
    vessels = [e for e in entities.values() if e.schema.name == "Vessel" and not e.has("imoNumber")]
    assert [v.get("registrationNumber") for v in vessels] == [["8606173"]]


def test_person_name_parts_and_remarks(everything: Parsed) -> None:
    entities, _ = everything
    person = entities["ofac-15771"]
    assert person.get("name") == ["O, Kuk-Ryol"]
    assert person.get("lastName") == ["O"]
    assert person.get("firstName") == ["Kuk-Ryol"]
    assert person.get("birthDate") == ["1930-01-07"]
    assert person.get("position") == ["Vice Chairman of the National Defense Commission"]
    # McCune-Reischauer apostrophes survive decoding.
    assert person.get("alias") == ["O, Ku'k-ryo'l"]
    assert "Linked To: NATIONAL DEFENSE COMMISSION" in (person.first("notes") or "")
    reyes = entities["ofac-10851"]
    assert reyes.get("lastName") == ["DELOS REYES"]
    assert reyes.get("nameSuffix") == ["Jr."]
    assert reyes.get("nationality") == ["ph"]
    kim = entities["ofac-17614"]
    assert kim.get("nationality") == ["kp"]
    assert kim.get("birthDate") == ["1962-02-18"]


def test_alias_kinds(everything: Parsed) -> None:
    entities, report = everything
    # Weak AKAs live only in Remarks in the CSV formats (OFAC FAQ 123).
    assert entities["ofac-9345"].get("weakAlias") == ["KOMID"]
    assert "KOREA KUMRYONG TRADING COMPANY" in entities["ofac-9345"].get("alias")
    assert entities["ofac-27408"].get("previousName") == ["ASIA BRIDGE 2"]
    assert entities["ofac-34942"].get("previousName") == ["PERUN"]
    # "nka" is the name the entity is now known by: an alias, not a previous name.
    assert "NUEVO CONTINENTE S.A." in entities["ofac-8244"].get("alias")
    assert report.aliases == 17647


def test_truncated_remarks_do_not_leak_half_names(everything: Parsed) -> None:
    entities, _ = everything
    lazarus = entities["ofac-27307"]
    notes = lazarus.first("notes") or ""
    assert len(notes) == 1000
    assert notes.endswith("'WHOIS HACKIN")
    assert "GUARDIANS OF PEACE" in lazarus.get("weakAlias")
    assert not any(a.startswith("WHOIS") for a in lazarus.get("weakAlias"))


def test_addresses(everything: Parsed) -> None:
    entities, report = everything
    komid = entities["ofac-9345"]
    assert komid.get("address")[0] == "Central District, Pyongyang, Korea, North"
    assert komid.get("country") == ["kp", "cn", "ru", "ir", "sy"]
    # ofac-17069 has one ADD row and it is all -0-: no empty address is made up.
    assert not entities["ofac-17069"].has("address")
    assert report.addresses == 16795


def test_orphans_are_reported_not_invented(everything: Parsed) -> None:
    entities, report = everything
    sdn_ids = {r[0] for r in _raw_rows(SDN)}
    alt_orphans = [r for r in _raw_rows(ALT) if r[0] not in sdn_ids]
    add_orphans = [r for r in _raw_rows(ADD) if r[0] not in sdn_ids]
    assert len(report.orphan_aliases) == 1567
    assert report.orphan_alias_rows == len(alt_orphans) == 2460
    assert len(report.orphan_addresses) == 4253
    assert report.orphan_address_rows == len(add_orphans) == 4893
    assert set(report.orphan_aliases) == {r[0] for r in alt_orphans}
    assert set(report.orphan_addresses) == {r[0] for r in add_orphans}
    # PETROFLEET ENERGY TRADING LLC, listed after the SDN file was taken.
    assert "56636" in report.orphan_aliases
    assert "ofac-56636" not in entities
    assert not any(f"ofac-{n}" in entities for n in report.orphan_aliases)
    petrofleet = [r[3] for r in alt_orphans if r[0] == "56636"]
    assert petrofleet == ["PETROFLEET ENERGY TRADING LLC"]
    assert not any(petrofleet[0] in e.get("alias", quiet=True) for e in entities.values())


def test_filtered_parents_are_not_orphans(dprk: Parsed, everything: Parsed) -> None:
    assert dprk[1].orphan_aliases == everything[1].orphan_aliases


def test_source_files_are_ascii() -> None:
    # So no Korean-script alias can be asserted: OFAC transliterates everything in the
    # legacy CSV files (the 2024 SDN, 2025 ALT and ADD are pure ASCII).
    for path in (SDN, ALT, ADD):
        assert max(path.read_bytes()) < 0x80


# -- bad input -------------------------------------------------------------------------------

GOOD_ROW = b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- '


def _write(tmp_path: Path, name: str, *lines: bytes, eof: bool = True) -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(line + b"\r\n" for line in lines) + (b"\x1a" if eof else b""))
    return path


def test_small_file_roundtrip(tmp_path: Path) -> None:
    sdn = _write(tmp_path, "sdn.csv", GOOD_ROW)
    entities = list(parse(sdn))
    assert [e.id for e in entities] == ["ofac-36", "ofac-sanction-36"]
    assert entities[0].schema.name == "Organization"
    assert entities[1].get("program") == ["CUBA"]


def test_wrong_column_count(tmp_path: Path) -> None:
    short = b'173,"ANGLO-CARIBBEAN CO., LTD.",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- '
    sdn = _write(tmp_path, "sdn.csv", GOOD_ROW, GOOD_ROW.replace(b"36,", b"37,", 1), short)
    with pytest.raises(InputError) as info:
        list(parse(sdn))
    assert info.value.line == 3
    assert info.value.field == "Remarks"
    assert "11 columns, expected 12" in info.value.reason

    long = _write(tmp_path, "long.csv", GOOD_ROW + b",extra")
    with pytest.raises(InputError) as info:
        list(parse(long))
    assert info.value.line == 1
    assert info.value.field == "column 13"


def test_undecodable_byte_names_the_line(tmp_path: Path) -> None:
    # 0x81 is undefined in cp1252 and invalid as UTF-8.
    sdn = _write(tmp_path, "sdn.csv", GOOD_ROW, GOOD_ROW.replace(b"AEROCARIBBEAN", b"AERO\x81"))
    with pytest.raises(InputError) as info:
        list(parse(sdn))
    assert info.value.line == 2
    assert "0x81" in info.value.reason


@pytest.mark.parametrize(
    "encoded",
    [pytest.param("CAFÉ".encode("cp1252"), id="cp1252"), pytest.param("CAFÉ".encode(), id="utf-8")],
)
def test_accented_names_survive(tmp_path: Path, encoded: bytes) -> None:
    sdn = _write(tmp_path, "sdn.csv", GOOD_ROW.replace(b"AEROCARIBBEAN AIRLINES", encoded))
    entity = next(iter(parse(sdn)))
    assert entity.get("name") == ["CAFÉ"]


def test_control_character_and_trailing_data(tmp_path: Path) -> None:
    sdn = _write(tmp_path, "nul.csv", GOOD_ROW.replace(b"CUBA", b"CU\x00BA"))
    with pytest.raises(InputError, match="control character 0x00") as info:
        list(parse(sdn))
    assert info.value.line == 1
    after = tmp_path / "after.csv"
    after.write_bytes(GOOD_ROW + b"\r\n\x1a\r\n" + GOOD_ROW + b"\r\n")
    with pytest.raises(InputError, match="after the end-of-file") as info:
        list(parse(after))
    assert info.value.line == 3


def test_non_numeric_ent_num(tmp_path: Path) -> None:
    sdn = _write(tmp_path, "sdn.csv", GOOD_ROW.replace(b"36,", b"X36,", 1))
    with pytest.raises(InputError) as info:
        list(parse(sdn))
    assert info.value.field == "ent_num"
    assert info.value.line == 1


def test_bad_alt_file_names_that_file(tmp_path: Path) -> None:
    sdn = _write(tmp_path, "sdn.csv", GOOD_ROW)
    alt = _write(tmp_path, "alt.csv", b'36,12,"aka","AERO-CARIBBEAN",-0- ', b'36,13,"aka"')
    with pytest.raises(InputError) as info:
        list(parse(sdn, alt=alt))
    assert info.value.path == str(alt)
    assert info.value.line == 2
    assert info.value.field == "alt_name"


def test_weak_alt_remark_and_orphans_in_small_files(tmp_path: Path) -> None:
    sdn = _write(tmp_path, "sdn.csv", GOOD_ROW, eof=False)
    alt = _write(
        tmp_path,
        "alt.csv",
        b'36,12,"aka","AERO-CARIBBEAN",-0- ',
        b'36,13,"aka","AC","weak"',
        b'99,14,"aka","NOBODY",-0- ',
    )
    add = _write(tmp_path, "add.csv", b'99,1,"Street 1","Havana","Cuba",-0- ')
    report = OfacReport()
    entity = next(iter(parse(sdn, alt=alt, add=add, report=report)))
    assert entity.get("alias") == ["AERO-CARIBBEAN"]
    assert entity.get("weakAlias") == ["AC"]
    # The report's orphan lists fill in when the iterator is exhausted.
    assert report.orphan_aliases == []
    list(parse(sdn, alt=alt, add=add, report=report))
    assert report.orphan_aliases == ["99"]
    assert report.orphan_addresses == ["99"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        list(parse(tmp_path / "absent.csv"))
