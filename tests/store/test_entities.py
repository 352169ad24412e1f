"""The entity store's contract, run against every backend (SQLite and PostgreSQL)."""

from followthemoney import Statement, StatementEntity
from followthemoney.proxy import EntityProxy

from tidetrace.model import model
from tidetrace.store import DatasetInfo, EntityStore
from tidetrace.store.audit import verify_chain
from tidetrace.store.entities import VIEW_DATASET
from tidetrace.workspace import Workspace


def _facility() -> StatementEntity:
    # A statement entity, so that the Chinese name can carry its language.
    entity = StatementEntity(VIEW_DATASET, {"id": "fac-haiqing", "schema": "Facility"})
    entity.add("name", "Dalian Haiqing Food Co., Ltd.")
    entity.add("name", "大连海青食品有限公司", lang="zho")
    entity.add("approvalCode", "2100/02153")
    entity.add("province", "Liaoning")
    return entity


def _vessel() -> EntityProxy:
    entity = model.make_entity("Vessel")
    entity.id = "vessel-1"
    entity.add("name", "CHON MA SAN")
    entity.add("imoNumber", "8660313")
    return entity


def test_write_read_search(any_workspace: Workspace) -> None:
    store = EntityStore(any_workspace.engine)
    count = store.add_entities([_facility(), _vessel()], DatasetInfo("reg", "Registry"))
    assert count == 2
    entity = store.get_entity("fac-haiqing")
    assert entity is not None
    assert entity.schema.name == "Facility"
    assert set(entity.get("name")) == {"Dalian Haiqing Food Co., Ltd.", "大连海青食品有限公司"}
    stmts = store.statements("fac-haiqing")
    by_value = {s.value: s for s in stmts}
    assert by_value["大连海青食品有限公司"].lang == "zho"
    assert all(s.dataset == "reg" and s.first_seen for s in stmts)
    assert [h.id for h in store.search("haiqing food")] == ["fac-haiqing"]
    assert [h.id for h in store.search("海青")] == ["fac-haiqing"]
    assert [h.id for h in store.search("Dalian Haiq")] == ["fac-haiqing"]
    assert [h.id for h in store.search("8660313")] == ["vessel-1"]
    assert store.search("haiqing", schema="Vessel") == []
    assert store.search("nothing like it") == []
    assert store.count_by_schema() == {"Facility": 1, "Vessel": 1}


def test_reimport_keeps_first_seen(any_workspace: Workspace) -> None:
    store = EntityStore(any_workspace.engine)
    with store.writer() as writer:
        writer.seen = "2024-01-01T00:00:00"
        writer.add_dataset(DatasetInfo("reg", "Registry"))
        writer.add_entity(_facility(), "reg")
    with store.writer() as writer:
        writer.seen = "2025-06-01T00:00:00"
        writer.add_entity(_facility(), "reg")
    stmts = store.statements("fac-haiqing")
    assert len(stmts) == 5
    assert {(s.first_seen, s.last_seen) for s in stmts} == {
        ("2024-01-01T00:00:00", "2025-06-01T00:00:00")
    }


def test_failed_write_leaves_store_unchanged(any_workspace: Workspace) -> None:
    store = EntityStore(any_workspace.engine)
    store.add_entities([_vessel()], DatasetInfo("reg", "Registry"))
    before = sorted(s.id or "" for s in store.iter_statements())
    try:
        with store.writer() as writer:
            writer.add_entity(_facility(), "reg")
            writer.flush()
            raise RuntimeError("abort mid-import")
    except RuntimeError:
        pass
    assert sorted(s.id or "" for s in store.iter_statements()) == before


def test_statements_round_trip(any_workspace: Workspace) -> None:
    store = EntityStore(any_workspace.engine)
    store.add_entities([_facility()], DatasetInfo("reg", "Registry"))
    stmts = list(store.iter_statements())
    restored = [Statement.from_dict(s.to_dict()) for s in stmts]
    assert [s.to_dict() for s in restored] == [s.to_dict() for s in stmts]


def test_referencing_and_audit(any_workspace: Workspace) -> None:
    store = EntityStore(any_workspace.engine)
    sanction = model.make_entity("Sanction")
    sanction.id = "sanction-1"
    sanction.add("entity", "vessel-1")
    sanction.add("program", "DPRK")
    store.add_entities([_vessel(), sanction], DatasetInfo("ofac", "OFAC"))
    refs = store.referencing("vessel-1")
    assert [r.id for r in refs] == ["sanction-1"]
    _count, problems = verify_chain(any_workspace.engine)
    assert problems == []
