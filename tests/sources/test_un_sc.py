"""The UN consolidated list parser, on the real list of 2026-02-27."""

import re
from collections import Counter
from pathlib import Path

import pytest
from followthemoney.proxy import EntityProxy

from tidetrace.exc import InputError
from tidetrace.sources.un_sc import DATASET_META, is_company_name, parse

DATA = (Path(__file__).parents[2] / ".." / "shared" / "data").resolve()
UN_XML = DATA / "sanctions" / "un_sc_consolidated_2026-02-27.xml"


@pytest.fixture(scope="module")
def everything() -> dict[str, EntityProxy]:
    return {e.id: e for e in parse(UN_XML) if e.id is not None}


@pytest.fixture(scope="module")
def dprk() -> list[EntityProxy]:
    return list(parse(UN_XML, program="DPRK"))


def _schemata(entities: list[EntityProxy]) -> Counter[str]:
    return Counter(e.schema.name for e in entities)


def test_dataset_meta() -> None:
    assert DATASET_META["name"] == "un_sc"
    assert DATASET_META["publisher"] == "United Nations Security Council"


def test_counts_match_file(everything: dict[str, EntityProxy]) -> None:
    counts = _schemata(list(everything.values()))
    assert counts["Person"] == 730
    assert counts["Organization"] + counts["Company"] == 273
    assert counts["Company"] == 96
    assert counts["Sanction"] == 1003
    # Cross-check against a plain count of the record tags in the raw file.
    raw = UN_XML.read_bytes()
    assert raw.count(b"<INDIVIDUAL>") == 730
    assert raw.count(b"<ENTITY>") == 273


def test_ids_are_unique_and_sanctions_point_at_entities(everything: dict[str, EntityProxy]) -> None:
    sanctions = [e for e in everything.values() if e.schema.name == "Sanction"]
    assert len(everything) == 2006
    for sanction in sanctions:
        assert sanction.id is not None
        target = sanction.first("entity")
        assert target is not None
        assert sanction.id == target.replace("un-sc-", "un-sc-sanction-", 1)
        assert target in everything
        assert "sanction" in everything[target].get("topics")


def test_dprk_filter(dprk: list[EntityProxy]) -> None:
    counts = _schemata(dprk)
    assert counts == Counter({"Sanction": 155, "Person": 80, "Company": 43, "Organization": 32})
    references = [s.first("authorityId") or "" for s in dprk if s.schema.name == "Sanction"]
    assert all(re.fullmatch(r"KP[ie]\.\d{3}", r) for r in references)
    assert sum(r.startswith("KPi.") for r in references) == 80
    assert {s.first("program") for s in dprk if s.schema.name == "Sanction"} == {"DPRK"}
    # Independent count: the reference numbers and list types as plain text.
    raw = UN_XML.read_bytes()
    assert raw.count(b"<REFERENCE_NUMBER>KP") == 155
    assert raw.count(b"<UN_LIST_TYPE>DPRK</UN_LIST_TYPE>") == 155


def test_program_filter_ignores_case(dprk: list[EntityProxy]) -> None:
    assert [e.id for e in parse(UN_XML, program="dprk")] == [e.id for e in dprk]
    assert [e.id for e in parse(UN_XML, program=" Dprk ")] == [e.id for e in dprk]
    assert list(parse(UN_XML, program="no such regime")) == []


def test_first_dprk_individual(everything: dict[str, EntityProxy]) -> None:
    person = everything["un-sc-690734"]
    assert person.schema.name == "Person"
    assert person.get("name") == ["YUN HO-JIN"]
    assert person.get("alias") == ["Yun Ho-chin"]
    assert person.get("birthDate") == ["1944-10-13"]
    assert person.get("nationality") == ["kp"]
    assert person.get("programId") == ["UN-SC-DPRK"]
    assert person.get("address") == ["Pyongyang, Democratic People's Republic of Korea"]
    assert person.get("position") == ["Director of Namchongang Trading Corporation"]
    assert "uranium enrichment" in (person.first("notes") or "")

    sanction = everything["un-sc-sanction-690734"]
    assert sanction.get("entity") == ["un-sc-690734"]
    assert sanction.get("authority") == ["United Nations Security Council"]
    assert sanction.get("authorityId") == ["KPi.001"]
    assert sanction.get("program") == ["DPRK"]
    assert sanction.get("listingDate") == ["2009-07-16"]
    assert sanction.get("modifiedAt") == ["2022-07-26"]
    assert sanction.first("sourceUrl") is not None


def test_entity_with_legal_form_is_company(everything: dict[str, EntityProxy]) -> None:
    komid = everything["un-sc-690735"]
    assert komid.schema.name == "Company"
    assert komid.get("name") == ["KOREA MINING DEVELOPMENT TRADING CORPORATION"]
    assert "KOMID" in komid.get("alias")
    assert "CHANGGWANG SINYONG CORPORATION" in komid.get("alias")
    bureau = next(
        e
        for e in everything.values()
        if e.get("name", quiet=True) == ["RECONNAISSANCE GENERAL BUREAU"]
    )
    assert bureau.schema.name == "Organization"


def test_alias_qualities(everything: dict[str, EntityProxy]) -> None:
    ryonbong = everything["un-sc-690751"]
    assert ryonbong.get("previousName") == ["LYONGAKSAN GENERAL TRADING CORPORATION"]
    assert ryonbong.get("alias") == ["KOREA YONBONG GENERAL CORPORATION"]
    saddam = everything["un-sc-6908048"]
    assert saddam.get("weakAlias") == ["Abu Ali"]


def test_original_script_names_are_aliases(everything: dict[str, EntityProxy]) -> None:
    assert "صدام حسين التكريتي" in everything["un-sc-6908048"].get("alias")
    assert "Умаров Доку Хаматович" in everything["un-sc-2960872"].get("alias")


def test_documents_and_birth(everything: dict[str, EntityProxy]) -> None:
    paek = everything["un-sc-690747"]
    assert paek.get("passportNumber") == ["381420754"]
    assert paek.get("birthPlace") == ["Kaesong, Democratic People's Republic of Korea"]
    assert paek.get("birthCountry") == ["kp"]
    with_ids = [e for e in everything.values() if e.schema.is_a("Person") and e.has("idNumber")]
    assert len(with_ids) == 117


def test_is_company_name() -> None:
    assert is_company_name("KOREA MINING DEVELOPMENT TRADING CORPORATION")
    assert is_company_name("CHONMYONG SHIPPING CO")
    assert is_company_name("YUK TUNG ENERGY PTE LTD")
    assert not is_company_name("OFFICE 39")
    assert not is_company_name("KOREA DAESONG BANK")


# -- bad input -------------------------------------------------------------------------------


def test_truncated_real_file_streams_then_fails_with_line(tmp_path: Path) -> None:
    head = UN_XML.read_bytes()[:200_000]
    cut = tmp_path / "cut.xml"
    cut.write_bytes(head)
    seen: list[EntityProxy] = []
    with pytest.raises(InputError) as info:
        seen.extend(parse(cut))
    # Records before the cut were already converted: the parser streams.
    assert len(seen) > 100
    assert info.value.line == head.count(b"\n") + 1
    assert info.value.path == str(cut)


def test_mismatched_tag_reports_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(
        "<?xml version='1.0'?>\n"
        "<CONSOLIDATED_LIST>\n"
        "<INDIVIDUALS>\n"
        "<INDIVIDUAL>\n"
        "<DATAID>1</DATAX>\n"
        "</INDIVIDUAL>\n"
        "</INDIVIDUALS>\n"
        "</CONSOLIDATED_LIST>\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        list(parse(bad))
    assert info.value.line == 5
    assert "malformed XML" in info.value.reason


def test_other_xml_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text("<sdnList><sdnEntry/></sdnList>", encoding="utf-8")
    with pytest.raises(InputError, match="not a UN consolidated list"):
        list(parse(other))


def test_record_without_dataid(tmp_path: Path) -> None:
    bad = tmp_path / "nodataid.xml"
    bad.write_text(
        "<CONSOLIDATED_LIST><ENTITIES><ENTITY><FIRST_NAME>X</FIRST_NAME>"
        "<REFERENCE_NUMBER>KPe.999</REFERENCE_NUMBER></ENTITY></ENTITIES></CONSOLIDATED_LIST>",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        list(parse(bad))
    assert info.value.field == "DATAID"
    assert "KPe.999" in info.value.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        list(parse(tmp_path / "absent.xml"))
