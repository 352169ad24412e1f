"""Judgements: transitivity, negative reach, splits, withdrawals, history and audit."""

import pytest
from sqlalchemy import select

from tests.resolve.conftest import add_entities
from tidetrace.resolve.judgements import (
    AUTO,
    Clusters,
    Edge,
    Judgement,
    ResolveConflict,
    Resolver,
    canonical_for,
)
from tidetrace.store.audit import verify_chain
from tidetrace.store.entities import EntityStore
from tidetrace.store.tables import audit_table
from tidetrace.workspace import Workspace

ENTITIES = [
    {"id": "a-zh", "schema": "Company", "name": "大连海青食品有限公司"},
    {"id": "b-en", "schema": "Company", "name": "Dalian Haiqing Food Co., Ltd."},
    {"id": "c-bol", "schema": "LegalEntity", "name": "DALIAN HAI QING FOOD CO.,LTD."},
    {"id": "d-other", "schema": "Company", "name": "Dandong Taifeng Foodstuffs Co., Ltd."},
    {"id": "e-plant", "schema": "Facility", "name": "Dalian Haiqing Food plant"},
]


@pytest.fixture
def resolver(workspace: Workspace) -> Resolver:
    add_entities(workspace, ENTITIES)
    return Resolver(workspace.engine)


def canonical_in_store(ws: Workspace, entity_id: str) -> str:
    statements = EntityStore(ws.engine).statements(entity_id)
    return {s.canonical_id for s in statements if s.entity_id == entity_id}.pop() or ""


def test_positive_is_transitive_and_merges_in_the_store(
    workspace: Workspace, resolver: Resolver
) -> None:
    resolver.decide("a-zh", "b-en", Judgement.POSITIVE, "ivan")
    resolver.decide("b-en", "c-bol", "positive", "ivan")
    # A=B, B=C: nobody is asked about A=C.
    assert resolver.judgement("a-zh", "c-bol") is Judgement.POSITIVE
    canonical = canonical_for(["a-zh", "b-en", "c-bol"])
    assert canonical.startswith("tt-ent-")
    for entity_id in ("a-zh", "b-en", "c-bol"):
        assert canonical_in_store(workspace, entity_id) == canonical
    merged = EntityStore(workspace.engine).get_entity("c-bol")
    assert merged is not None
    assert set(merged.get("name")) == {
        "大连海青食品有限公司",
        "Dalian Haiqing Food Co., Ltd.",
        "DALIAN HAI QING FOOD CO.,LTD.",
    }


def test_negative_reaches_the_whole_cluster(resolver: Resolver) -> None:
    resolver.decide("a-zh", "d-other", Judgement.NEGATIVE, "ivan")
    resolver.decide("a-zh", "b-en", Judgement.POSITIVE, "ivan")
    # A≠D and A=B: B≠D without asking.
    assert resolver.judgement("b-en", "d-other") is Judgement.NEGATIVE
    with pytest.raises(ResolveConflict, match="judged"):
        resolver.decide("b-en", "d-other", Judgement.POSITIVE, "ana")


def test_contradicting_a_merge_asks_for_a_split(resolver: Resolver) -> None:
    resolver.decide("a-zh", "b-en", Judgement.POSITIVE, "ivan")
    with pytest.raises(ResolveConflict, match="split"):
        resolver.decide("a-zh", "b-en", Judgement.NEGATIVE, "ivan")


def test_schemata_that_cannot_be_one_entity_are_refused(resolver: Resolver) -> None:
    with pytest.raises(ResolveConflict, match="cannot be one entity"):
        resolver.decide("a-zh", "e-plant", Judgement.POSITIVE, "ivan")


def test_split_restores_ids_and_keeps_history(workspace: Workspace, resolver: Resolver) -> None:
    resolver.decide("a-zh", "b-en", Judgement.POSITIVE, "ivan")
    resolver.decide("b-en", "c-bol", Judgement.POSITIVE, "ivan")
    rest = resolver.split("b-en", "ada", note="different plant")
    assert rest == ["a-zh", "c-bol"]
    # b-en stands alone again under its own id; a-zh and c-bol lost their only link.
    for entity_id in ("a-zh", "b-en", "c-bol"):
        assert canonical_in_store(workspace, entity_id) == entity_id
    assert resolver.judgement("b-en", "a-zh") is Judgement.NEGATIVE
    history = resolver.history("b-en")
    withdrawn = [e for e in history if e.deleted_at is not None]
    assert {e.judgement for e in withdrawn} == {Judgement.POSITIVE}
    assert all(e.deleted_by == "ada" for e in withdrawn)
    with pytest.raises(Exception, match="not merged"):
        resolver.split("b-en", "ada")


def test_split_out_of_a_larger_cluster_keeps_the_rest(
    workspace: Workspace, resolver: Resolver
) -> None:
    resolver.decide("a-zh", "b-en", Judgement.POSITIVE, "ivan")
    resolver.decide("a-zh", "c-bol", Judgement.POSITIVE, "ivan")
    resolver.decide("b-en", "c-bol", Judgement.POSITIVE, "ivan")
    resolver.split("a-zh", "ivan")
    assert resolver.judgement("b-en", "c-bol") is Judgement.POSITIVE
    assert canonical_in_store(workspace, "b-en") == canonical_for(["b-en", "c-bol"])


def test_withdraw_and_supersede(resolver: Resolver) -> None:
    first = resolver.decide("a-zh", "d-other", Judgement.UNSURE, "ivan")
    second = resolver.decide("a-zh", "d-other", Judgement.NEGATIVE, "ada")
    edges = resolver.edges("a-zh")
    assert [e.id for e in edges] == [first.id, second.id]
    assert edges[0].deleted_by == "ada" and edges[1].deleted_at is None
    resolver.withdraw("a-zh", "d-other", "ada")
    assert resolver.judgement("a-zh", "d-other") is None


def test_people_only(resolver: Resolver) -> None:
    with pytest.raises(Exception, match="person"):
        resolver.decide("a-zh", "b-en", Judgement.POSITIVE, AUTO)
    with pytest.raises(Exception, match="itself"):
        resolver.decide("a-zh", "a-zh", Judgement.POSITIVE, "ivan")


def test_every_change_is_in_the_audit_chain(workspace: Workspace, resolver: Resolver) -> None:
    resolver.decide("a-zh", "b-en", Judgement.POSITIVE, "ivan", note="same USCC")
    resolver.split("a-zh", "ada")
    with workspace.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_table).order_by(audit_table.c.seq))]
    assert actions[-2:] == ["resolve.judge", "resolve.split"]
    _count, problems = verify_chain(workspace.engine)
    assert problems == []


def edge(left: str, right: str, judgement: Judgement, actor: str = "ivan") -> Edge:
    return Edge(0, left, right, judgement, None, actor, "2026-01-01T00:00:00")


def test_clusters_block_automatic_joins_on_unsure_and_apart() -> None:
    clusters = Clusters([edge("a", "b", Judgement.POSITIVE), edge("c", "d", Judgement.UNSURE)])
    assert not clusters.join("c", "d", automatic=True)
    assert clusters.join("c", "d", automatic=False)
    clusters.keep_apart("a", "x")
    assert not clusters.join("b", "x", automatic=True)
    assert clusters.members("a") == {"a", "b"}
    assert clusters.canonical("zzz") == "zzz"
