"""Registry ingest: generic CSV and TRACES JSON into Facilities, history, named-plant links."""

import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.registry.support import TEST_LIST, write
from tidetrace import loaders
from tidetrace.exc import InputError
from tidetrace.model import model
from tidetrace.registry import ingest
from tidetrace.registry.ingest import (
    SYNTHETIC_NOTE,
    NamedPlant,
    ingest_registry,
    link_dataset,
    match_named,
)
from tidetrace.registry.lookup import lookup_code
from tidetrace.store import EntityStore
from tidetrace.store.tables import audit_table, statement_table
from tidetrace.workspace import Workspace

HEADER = "approval_number,name,city,province,country,activities,section,listed_on,source\n"


@pytest.fixture
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each store write a second later than the one before (real ingests are days apart)."""
    ticks = itertools.count()

    def fake_now() -> str:
        return f"2024-01-01T00:00:{next(ticks):02d}"

    monkeypatch.setattr("tidetrace.store.entities.utc_now", fake_now)


def _count(ws: Workspace, dataset: str | None = None) -> int:
    query = select(func.count()).select_from(statement_table)
    if dataset is not None:
        query = query.where(statement_table.c.dataset == dataset)
    with ws.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def _audit(ws: Workspace) -> list[str]:
    with ws.engine.connect() as conn:
        return [r.action for r in conn.execute(select(audit_table.c.action)).all()]


def test_generic_list_becomes_facilities_with_provenance(registry_ws: Workspace) -> None:
    store = EntityStore(registry_ws.engine)
    plant = store.get_entity("estab-cn-2100-02153")
    assert plant is not None
    assert plant.schema.name == "Facility"
    assert set(plant.get("name")) == {"Dandong Taifeng Foodstuffs Co. Ltd.", "丹东泰丰食品有限公司"}
    assert plant.get("approvalCode") == ["2100/02153"]
    assert plant.get("province") == ["Liaoning"]
    assert plant.get("country") == ["cn"]
    assert set(plant.get("activities")) == {"Processing plant", "Cold store"}
    assert plant.get("listedOn") == ["2015-06-01"]
    assert plant.get("section") == ["Fishery products"]
    stmts = store.statements("estab-cn-2100-02153")
    assert {s.dataset for s in stmts} == {"test_list"}
    code = next(s for s in stmts if s.prop == "approvalCode")
    # The stored code is normalised; the printed form is kept as the original value.
    assert code.original_value == "CN 2100/02153 EC"
    names = {s.value: s.origin for s in stmts if s.prop == "name"}
    assert names["丹东泰丰食品有限公司"] == "list.csv:3"
    assert "ingest.registry" in _audit(registry_ws)


def test_bad_rows_are_all_reported_and_nothing_is_written(
    case_ws: Workspace, tmp_path: Path
) -> None:
    before = _count(case_ws)
    bad = write(
        tmp_path / "bad.csv",
        HEADER
        + "2100/02153,Good Plant,,,CN,,,,\n"
        + "2100/02154,Bad Country,,,Atlantis,,,,\n"
        + "2100/02155,,,,CN,,,,\n"
        + "2100/02156,Bad Date,,,CN,,,31/12/2020,\n",
    )
    with pytest.raises(InputError) as err:
        ingest_registry(case_ws, bad, "generic", source="bad_list")
    assert err.value.line == 3
    assert err.value.field == "country"
    assert "and 2 more bad rows" in err.value.detail
    assert _count(case_ws) == before
    assert "ingest.registry" not in _audit(case_ws)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("approval_number,nmae\n1,x\n", "unknown column"),
        ("name,city\nx,y\n", "missing required column"),
        ("", "empty file"),
        (HEADER, "no establishments"),
        (HEADER + "<script>,x,,,,,,,\n", "not an approval number"),
        (HEADER + "2100/02153,x,y\n", "expected 9 cells"),
    ],
)
def test_malformed_files(case_ws: Workspace, tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        ingest_registry(case_ws, write(tmp_path / "f.csv", text), "generic", source="x_list")
    assert reason in err.value.detail


def test_bad_format_and_dataset_name(case_ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "list.csv", TEST_LIST)
    with pytest.raises(InputError):
        ingest_registry(case_ws, path, "xml")
    with pytest.raises(InputError):
        ingest_registry(case_ws, path, "generic", source="Robert'); DROP TABLE statement;--")
    with pytest.raises(InputError):
        ingest_registry(case_ws, tmp_path / "missing.csv", "generic")


TRACES_ITEMS = [
    {
        "operatorId": 90001,
        "operatorName": "DANDONG TAIFENG FOODSTUFFS CO., LTD.",
        "approvalNumber": "2100/02153",
        "address": {
            "street": {"value": "1 Binjiang Road"},
            "cityReference": {"name": "Dandong", "postalCode": "118000", "country": {"code": "CN"}},
        },
        "activities": [{"name": "Processing plant"}, {"name": "Cold store"}],
        "remarks": "",
    },
    {
        "operatorId": 90002,
        "operatorName": "QINGDAO TEST OCEAN FOODS CO., LTD.",
        "approvalNumber": "3700/02001",
        "address": {"cityReference": {"name": "Qingdao", "country": {"code": "CN"}}},
    },
    {"operatorId": 90003, "operatorName": "NO NUMBER YET CO."},
]


def test_traces_json_list(case_ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "traces.json", json.dumps(TRACES_ITEMS))
    result = ingest_registry(case_ws, path, "traces-json")
    assert result.dataset == "traces_cn"
    assert result.facilities == 2
    assert result.notes == ["1 items without approval number or name skipped"]
    store = EntityStore(case_ws.engine)
    plant = store.get_entity("estab-cn-2100-02153")
    assert plant is not None
    assert plant.get("address") == ["1 Binjiang Road, 118000, Dandong"]
    assert set(plant.get("activities")) == {"Processing plant", "Cold store"}
    assert plant.get("operator") == ["traces-operator-90001"]
    operator = store.get_entity("traces-operator-90001")
    assert operator is not None
    assert operator.schema.name == "Company"


def test_traces_json_envelope_names_dataset_by_section(case_ws: Workspace, tmp_path: Path) -> None:
    envelope = {
        "country": "CN",
        "section": "FFP",
        "url": "http://x/CN/FFP",
        "content": TRACES_ITEMS,
    }
    path = write(tmp_path / "CN-FFP.json", json.dumps(envelope))
    result = ingest_registry(case_ws, path, "traces-json")
    assert result.dataset == "traces_cn_ffp"
    plant = EntityStore(case_ws.engine).get_entity("estab-cn-3700-02001")
    assert plant is not None
    assert plant.get("section") == ["FFP"]
    assert plant.get("sourceUrl") == ["http://x/CN/FFP"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON"),
        ('{"content": 3}', "expected a JSON list"),
        ("[1, 2]", "item 1 is not an object"),
        ('[{"approvalNumber": "<b>", "operatorName": "x"}]', "not an approval number"),
    ],
)
def test_traces_json_malformed(case_ws: Workspace, tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        ingest_registry(case_ws, write(tmp_path / "t.json", text), "traces-json")
    assert reason in err.value.detail


@pytest.mark.usefixtures("ticking_clock")
def test_reingest_keeps_history(case_ws: Workspace, tmp_path: Path) -> None:
    first = ingest_registry(
        case_ws, write(tmp_path / "v1.csv", TEST_LIST), "generic", "test_list", "2024-01-01"
    )
    assert first.delisted == []
    # The newer list drops the Qingdao plant and renames the Donggang one.
    newer = "\n".join(
        line.replace("Donggang Xin Xin Foods Co. Ltd.", "Donggang Xinxin Seafood Co. Ltd.")
        for line in TEST_LIST.splitlines()
        if "3700/02001" not in line
    )
    second = ingest_registry(
        case_ws, write(tmp_path / "v2.csv", newer + "\n"), "generic", "test_list", "2024-06-01"
    )
    assert second.delisted == ["3700/02001"]
    assert second.renamed == ["2100/02201"]
    gone = lookup_code(case_ws.engine, "3700/02001").facility
    assert gone is not None
    assert gone.delisted
    [source] = gone.sources
    assert source.status == "delisted"
    assert source.delisted_on == ["2024-06-01"]
    renamed = lookup_code(case_ws.engine, "2100/02201").facility
    assert renamed is not None
    assert not renamed.delisted
    history = {n.name: n.current for n in renamed.name_history}
    assert history == {
        "Donggang Xinxin Seafood Co. Ltd.": True,
        "Donggang Xin Xin Foods Co. Ltd.": False,
    }
    # Ingesting the same newer list again delists nothing twice.
    again = ingest_registry(
        case_ws, write(tmp_path / "v3.csv", newer + "\n"), "generic", "test_list", "2024-07-01"
    )
    assert again.delisted == []
    # And a code that comes back is listed again.
    back = ingest_registry(
        case_ws, write(tmp_path / "v4.csv", TEST_LIST), "generic", "test_list", "2024-08-01"
    )
    assert back.relisted == ["3700/02001"]
    returned = lookup_code(case_ws.engine, "3700/02001").facility
    assert returned is not None
    assert not returned.delisted


def test_named_plants_get_candidate_links_not_merges(registry_ws: Workspace) -> None:
    store = EntityStore(registry_ws.engine)
    links = {
        (e.first("candidate"), e.first("match"))
        for e in store.iter_entities("test_list")
        if e.schema.name == "Similar"
    }
    assert links == {
        ("estab-cn-2100-02153", "case-plant-taifeng"),
        ("estab-cn-2100-02201", "case-plant-xinxin"),
    }
    # Nothing is merged: the case plant is still its own entity, without a code.
    plant = store.get_entity("case-plant-taifeng")
    assert plant is not None
    assert plant.id == "case-plant-taifeng"
    assert plant.get("approvalCode") == []


def test_link_plants_after_a_later_case_import(
    workspace: Workspace, tmp_path: Path, shared_data: Path
) -> None:
    ingest_registry(workspace, write(tmp_path / "l.csv", TEST_LIST), "generic", "test_list")
    loaders.load_case(workspace, shared_data / "investigation")
    pairs = link_dataset(workspace, "test_list")
    assert ("estab-cn-2100-02153", "case-plant-taifeng") in pairs
    with pytest.raises(InputError):
        link_dataset(workspace, "synthetic_registry")


def test_synthetic_list_is_marked_and_never_linked(case_ws: Workspace, tmp_path: Path) -> None:
    source = "synthetic:test"
    text = (
        HEADER + f"2100/02999,Dandong Taifeng Foodstuffs Co. Ltd.,Dandong,Liaoning,CN,,,,{source}\n"
    )
    result = ingest_registry(case_ws, write(tmp_path / "s.csv", text), "generic")
    assert result.dataset == "synthetic_registry"
    assert result.synthetic
    assert result.candidates == []
    plant = EntityStore(case_ws.engine).get_entity("estab-cn-2100-02999")
    assert plant is not None
    assert SYNTHETIC_NOTE in plant.get("notes")
    found = lookup_code(case_ws.engine, "2100/02999").facility
    assert found is not None
    assert found.synthetic
    mixed = text + "2100/02998,Real Plant,,,CN,,,,a real list\n"
    with pytest.raises(InputError, match="mixed"):
        ingest_registry(case_ws, write(tmp_path / "m.csv", mixed), "generic")
    with pytest.raises(InputError, match="synthetic"):
        ingest_registry(case_ws, write(tmp_path / "s2.csv", text), "generic", source="gacc")
    with pytest.raises(InputError, match="synthetic"):
        real = write(tmp_path / "r.csv", TEST_LIST)
        ingest_registry(case_ws, real, "generic", source="synthetic_fake")


def _facility(names: list[str], city: str | None, province: str | None) -> object:
    entity = model.make_entity("Facility")
    entity.id = "estab-cn-x"
    entity.add("name", names)
    entity.add("city", city)
    entity.add("province", province)
    return entity


@pytest.mark.parametrize(
    ("plant", "names", "city", "province", "score"),
    [
        ("Dandong Taifeng", ["Dandong Taifeng Foodstuffs Co., Ltd."], "Dandong", "Liaoning", 0.9),
        ("Dandong Taifeng", ["丹东泰丰食品有限公司"], "Dandong", "Liaoning", 0.6),
        ("Donggang Xin Xin", ["Donggang Xinxin Foods Co. Ltd."], "Donggang", "Liaoning", 0.9),
        # Same name, another province: not a candidate.
        ("Dandong Taifeng", ["Dandong Taifeng Foodstuffs Co., Ltd."], "Qingdao", "Shandong", None),
        # A name with nothing identifying left after generic words: not a candidate.
        ("Dandong Food", ["Dandong Food Co., Ltd."], "Dandong", "Liaoning", None),
        ("Dandong Omeca Food", ["Dandong Ocean Food Co., Ltd."], "Dandong", "Liaoning", None),
    ],
)
def test_match_named(
    plant: str, names: list[str], city: str, province: str, score: float | None
) -> None:
    named = NamedPlant("case-x", [plant], "Liaoning", "Dandong (Donggang)")
    found = match_named(named, _facility(names, city, province))  # type: ignore[arg-type]
    assert (found[0] if found is not None else None) == score


def test_facility_ids_are_stable() -> None:
    assert ingest.facility_id("cn", "2100/02153") == "estab-cn-2100-02153"
    assert ingest.facility_id("vn", "DL123") == "estab-vn-dl123"
    assert ingest.facility_id(None, "X1") == "estab-xx-x1"
