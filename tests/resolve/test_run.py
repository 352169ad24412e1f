"""Runs over a workspace: links, the queue, idempotence, and people always winning."""

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.resolve.conftest import add_entities
from tidetrace.cli import app
from tidetrace.resolve.judgements import AUTO, Judgement, Resolver
from tidetrace.resolve.review import candidates
from tidetrace.resolve.run import load_records, resolve_workspace
from tidetrace.resolve.scoring import DEFAULT_CONFIG
from tidetrace.resolve.tables import resolve_judgement_table
from tidetrace.workspace import Workspace

PLANTS = [
    {"id": "reg-haiqing", "schema": "Company", "name": "大连海青食品有限公司", "country": "cn"},
    {"id": "eu-haiqing", "schema": "Company", "name": "Dalian Haiqing Food Co., Ltd."},
    {
        "id": "bol-haiqing",
        "schema": "LegalEntity",
        "name": "DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD",
    },
    # 海清 sounds like 海青: a different firm in the same city.
    {"id": "reg-haiqing2", "schema": "Company", "name": "大连海清食品有限公司", "country": "cn"},
    {"id": "reg-taifeng", "schema": "Company", "name": "丹东泰丰食品有限公司"},
    {"id": "eu-taifeng", "schema": "Company", "name": "Dandong Taifeng Foodstuffs Co., Ltd."},
    {"id": "reg-yuanyi", "schema": "Company", "name": "丹东远一精制海产品有限公司"},
    {"id": "kp-ryonbong", "schema": "Company", "name": "조선련봉총회사"},
    {"id": "un-ryonbong", "schema": "Company", "name": "KOREA RYONBONG GENERAL CORPORATION"},
    {"id": "vessel", "schema": "Vessel", "name": "DALIAN HAIQING"},
    {"id": "person", "schema": "Person", "name": "Haiqing Dalian"},
]


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    add_entities(workspace, PLANTS)
    return workspace


def live_auto_edges(ws: Workspace) -> set[tuple[str, str]]:
    t = resolve_judgement_table
    with ws.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.left_id, t.c.right_id).where(t.c.actor == AUTO, t.c.deleted_at.is_(None))
        ).all()
    return {(r[0], r[1]) for r in rows}


def test_records_are_resolvable_entities_by_own_id(ws: Workspace) -> None:
    ids = [r.id for r in load_records(ws)]
    assert "person" not in ids  # people are not resolved by name
    assert ids == sorted(ids) and "vessel" in ids


def test_run_links_and_queues_and_is_idempotent(ws: Workspace) -> None:
    first = resolve_workspace(ws, actor="test")
    resolver = Resolver(ws.engine)
    assert resolver.judgement("reg-haiqing", "bol-haiqing") is Judgement.POSITIVE
    assert resolver.judgement("reg-taifeng", "eu-taifeng") is Judgement.POSITIVE
    assert resolver.judgement("kp-ryonbong", "un-ryonbong") is Judgement.POSITIVE
    # Not merged through "Dalian Haiqing Food" although it matches both 海青 and 海清:
    assert resolver.judgement("reg-haiqing", "reg-haiqing2") is None
    queued = {(c.left, c.right) for c in candidates(ws.engine, limit=100)[0]}
    assert ("reg-haiqing", "reg-haiqing2") in queued
    assert first.linked > 0 and first.queued > 0
    edges = live_auto_edges(ws)
    again = resolve_workspace(ws, actor="test")
    assert (again.linked, again.unlinked) == (0, 0)
    assert again.queued == first.queued
    assert live_auto_edges(ws) == edges


def test_people_are_never_overridden(ws: Workspace) -> None:
    resolver = Resolver(ws.engine)
    resolver.decide("eu-taifeng", "reg-taifeng", Judgement.NEGATIVE, "ivan", note="other USCC")
    resolver.decide("eu-haiqing", "reg-haiqing", Judgement.UNSURE, "ivan")
    resolve_workspace(ws, actor="test")
    resolve_workspace(ws, actor="test")
    assert resolver.judgement("eu-taifeng", "reg-taifeng") is Judgement.NEGATIVE
    # Unsure about A and B: no run joins their clusters through other links either.
    assert resolver.judgement("eu-haiqing", "reg-haiqing") is Judgement.UNSURE
    queued = {(c.left, c.right) for c in candidates(ws.engine, limit=100)[0]}
    assert ("eu-taifeng", "reg-taifeng") not in queued


def test_a_stricter_configuration_withdraws_only_automatic_links(
    ws: Workspace, tmp_path: Path
) -> None:
    resolver = Resolver(ws.engine)
    resolver.decide("kp-ryonbong", "un-ryonbong", Judgement.POSITIVE, "ivan")
    resolve_workspace(ws, actor="test")
    assert live_auto_edges(ws)
    strict = tmp_path / "strict.yml"
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    strict.write_text(text.replace("match: 0.7 ", "match: 0.999 "), encoding="utf-8")
    summary = resolve_workspace(ws, actor="test", config=strict)
    assert summary.unlinked > 0
    assert live_auto_edges(ws) == set()
    assert resolver.judgement("kp-ryonbong", "un-ryonbong") is Judgement.POSITIVE


def test_shipment_parties_are_resolved_and_written_to_the_store(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tidetrace.shipments.synth")
    monkeypatch.setenv("TIDETRACE_HOME", str(workspace.home))
    runner = CliRunner()
    out = tmp_path / "synth"
    result = runner.invoke(
        app,
        [
            "synth",
            "shipments",
            "--rows",
            "600",
            "--seed",
            "5",
            "-o",
            str(out),
            "--layout",
            "generic",
        ],
    )
    assert result.exit_code == 0, result.output
    files = [str(p) for p in sorted(out.glob("*.csv"))]
    result = runner.invoke(app, ["ingest", "shipments", *files, "--dataset", "synth"])
    assert result.exit_code == 0, result.output
    records = load_records(workspace)
    assert records and all(r.id.startswith("tt-party-") for r in records)
    summary = resolve_workspace(workspace, actor="test")
    assert summary.linked > 0 and summary.parties_written > 0
    # Linked parties now have statements, so the graph and the entity pages see them.
    again = load_records(workspace)
    assert {r.source for r in again} >= {"shipment_parties"}
    second = resolve_workspace(workspace, actor="test")
    assert (second.linked, second.unlinked, second.parties_written) == (0, 0, 0)
