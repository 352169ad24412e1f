"""The lookup: codes resolve to the right plant, near misses, hostile input, what surrounds it."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.registry.support import write
from tidetrace.model import model
from tidetrace.registry.ingest import ingest_registry
from tidetrace.registry.lookup import MalformedCode, lookup_code, parse_code
from tidetrace.store import DatasetInfo, EntityStore
from tidetrace.store.tables import statement_table
from tidetrace.workspace import Workspace

TAIFENG = "estab-cn-2100-02153"


@pytest.mark.parametrize(
    ("typed", "plant"),
    [
        ("2100/02153", TAIFENG),
        ("CN 2100/02153 EC", TAIFENG),
        ("CN-2100/02153", TAIFENG),
        ("CHINA 2100/02153 EC", TAIFENG),
        ("2100 / 02153", TAIFENG),
        ("cn 2100/02153 eu", TAIFENG),
        ("２１００/０２１５３", TAIFENG),
        ("2100/02201", "estab-cn-2100-02201"),
        ("CN 3700/02001 EC", "estab-cn-3700-02001"),
    ],
)
def test_codes_resolve_to_the_right_plant(registry_ws: Workspace, typed: str, plant: str) -> None:
    result = lookup_code(registry_ws.engine, typed)
    assert result.facility is not None
    assert result.facility.id == plant
    assert result.code == result.facility.approval_codes[0]
    assert result.suggestions == []


def test_result_carries_names_place_sources_and_candidates(registry_ws: Workspace) -> None:
    result = lookup_code(registry_ws.engine, "CN 2100/02153 EC")
    data = result.to_dict()
    # The JSON contract of issue 4.
    for key in ("code", "facility", "suggestions"):
        assert key in data
    facility = data["facility"]
    for key in ("id", "names", "country", "province", "city", "activities", "sources"):
        assert key in facility
    assert set(facility["names"]) == {"Dandong Taifeng Foodstuffs Co. Ltd.", "丹东泰丰食品有限公司"}
    assert facility["province"] == ["Liaoning"]
    assert data["decoded"]["province_zh"] == "辽宁"
    [source] = facility["sources"]
    assert source["dataset"] == "test_list"
    assert source["status"] == "listed"
    assert source["listed_on"] == ["2015-06-01"]
    assert not facility["synthetic"]
    [candidate] = data["candidates"]
    assert candidate["plant"]["id"] == "case-plant-taifeng"
    assert candidate["status"] == "unreviewed"
    # The candidate plant's observations are counted, not shown as the facility's own.
    assert candidate["findings"] >= 1
    assert data["findings"] == []
    assert data["trade"]["available"] is False  # no trade source given
    json.dumps(data, ensure_ascii=False)


def test_unknown_code_has_no_facility_and_suggests_near_misses(registry_ws: Workspace) -> None:
    result = lookup_code(registry_ws.engine, "2100/02154")
    assert result.code == "2100/02154"
    assert result.facility is None
    assert [s.code for s in result.suggestions] == ["2100/02153"]
    assert "4→3" in result.suggestions[0].reason


def test_swapped_digits_and_missing_digit_are_suggested(registry_ws: Workspace) -> None:
    swapped = lookup_code(registry_ws.engine, "2100/02135")
    assert [s.code for s in swapped.suggestions] == ["2100/02153"]
    short = lookup_code(registry_ws.engine, "2100/0215")
    assert short.facility is None
    assert "2100/02153" in [s.code for s in short.suggestions]


def test_ocr_lookalikes_are_suggested_not_resolved(registry_ws: Workspace) -> None:
    result = lookup_code(registry_ws.engine, "21OO/O2153")
    assert result.facility is None
    assert result.suggestions[0].code == "2100/02153"
    assert result.suggestions[0].reason.startswith("read as")


def test_unknown_well_formed_code_far_from_everything(registry_ws: Workspace) -> None:
    result = lookup_code(registry_ws.engine, "4400/55555")
    assert result.facility is None
    assert result.suggestions == []
    assert result.decoded["province"] == "Guangdong"


HOSTILE = [
    "",
    "   ",
    "9" * 10_000,
    "x" * 65,
    "2100/02153\x00",
    "2100/02153\n",
    "\x1b[31m2100/02153",
    "2100\u202e/02153",  # right-to-left override
    "' OR 1=1 --",
    "2100/02153'; DROP TABLE statement; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "../../etc/passwd",
    "SQUID",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_rejected_cleanly(registry_ws: Workspace, text: str) -> None:
    with registry_ws.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(statement_table)).scalar()
    with pytest.raises(MalformedCode) as err:
        lookup_code(registry_ws.engine, text)
    assert "\n" not in err.value.detail
    assert len(err.value.detail) < 120
    with registry_ws.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(statement_table)).scalar()
    assert before == after


def test_parse_code_schemes() -> None:
    assert parse_code("CN 2100/02153 EC").scheme == "cn_establishment"
    assert parse_code("FEI 3012345678").scheme == "fei"
    vn = parse_code("VN DL 123 EC")
    assert vn.scheme == "approval"
    assert "DL123" in vn.forms
    with pytest.raises(MalformedCode):
        parse_code("FEI 12")


def test_other_countries_approval_numbers(registry_ws: Workspace, tmp_path: Path) -> None:
    text = (
        "approval_number,name,city,province,country,activities,section,listed_on,source\n"
        "DL 123,Vietnam Test Seafood Joint Stock Co.,Ca Mau,,VN,,,,test\n"
    )
    ingest_registry(registry_ws, write(tmp_path / "vn.csv", text), "generic", "test_vn")
    for typed in ("VN DL 123 EC", "DL-123", "dl123", "DL 123"):
        result = lookup_code(registry_ws.engine, typed)
        assert result.facility is not None, typed
        assert result.facility.id == "estab-vn-dl123"


def _add(ws: Workspace, dataset: str, *entities: object) -> None:
    EntityStore(ws.engine).add_entities(entities, DatasetInfo(name=dataset, title=dataset))  # type: ignore[arg-type]


def test_operator_owner_and_list_hits(case_ws: Workspace, tmp_path: Path) -> None:
    items = [
        {
            "operatorId": 7,
            "operatorName": "SANCTIONED SEAFOOD CO.",
            "approvalNumber": "2100/03001",
            "address": {"cityReference": {"name": "Dalian", "country": {"code": "CN"}}},
        }
    ]
    ingest_registry(case_ws, write(tmp_path / "t.json", json.dumps(items)), "traces-json")
    owner = model.make_entity("Company")
    owner.id = "test-owner"
    owner.add("name", "Forced Labour Group")
    owner.add("topics", "forced.labor")
    ownership = model.make_entity("Ownership")
    ownership.id = "test-ownership"
    ownership.add("owner", owner.id)
    ownership.add("asset", "traces-operator-7")
    sanction = model.make_entity("Sanction")
    sanction.id = "test-sanction"
    sanction.add("entity", "traces-operator-7")
    sanction.add("program", "TEST-DPRK")
    _add(case_ws, "test_lists", owner, ownership, sanction)
    result = lookup_code(case_ws.engine, "2100/03001")
    assert [o.id for o in result.operators] == ["traces-operator-7"]
    assert [o.id for o in result.owners] == ["test-owner"]
    hits = {h.entity_id: h for h in result.list_hits}
    assert hits["traces-operator-7"].via == "operator"
    assert hits["traces-operator-7"].topics == ["sanction"]
    assert hits["traces-operator-7"].programs == ["TEST-DPRK"]
    assert hits["test-owner"].via == "owner"
    assert hits["test-owner"].topics == ["forced.labor"]


def test_findings_follow_once_entity_resolution_links_the_plant(registry_ws: Workspace) -> None:
    # What entity resolution will do on a confirmed link: give both one canonical id.
    with registry_ws.engine.begin() as conn:
        conn.execute(
            update(statement_table)
            .where(statement_table.c.entity_id == "case-plant-taifeng")
            .values(canonical_id=TAIFENG)
        )
    result = lookup_code(registry_ws.engine, "2100/02153")
    assert result.facility is not None
    assert "Dandong Taifeng" in result.facility.names
    kinds = {f.kind for f in result.findings}
    assert "observation" in kinds
    statuses = {s.dataset: s.status for s in result.facility.sources}
    assert statuses == {"test_list": "listed", "case_outlaw_ocean": "mentioned"}
    assert any(link.relation.endswith("(asserted)") for link in result.supply_links)
