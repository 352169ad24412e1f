"""Candidate links (FtM ``Similar``) from the registry are leads that resolution scores.

The registry proposes a link between its facility and a plant known by name only; the run
scores that pair with the normal scorer, so it lands in its band (linked, queued, or left
apart) with the lead's provenance in the explanation, whether or not blocking found the
pair, and never against a person's judgement.
"""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.registry.support import TEST_LIST, write
from tests.resolve.conftest import add_entities
from tests.web.support import PASSWORD, login_client
from tidetrace import loaders
from tidetrace.auth.users import add_user
from tidetrace.registry.ingest import ingest_registry
from tidetrace.resolve.judgements import AUTO, Judgement, Resolver
from tidetrace.resolve.run import resolve_workspace
from tidetrace.resolve.similar import read_candidate_links
from tidetrace.resolve.tables import resolve_candidate_table
from tidetrace.settings import get_settings
from tidetrace.store.datasets import DatasetInfo
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace

LEADS = DatasetInfo(name="test_leads", title="Candidate links typed for the tests")


@pytest.fixture
def case_ws(workspace: Workspace, shared_data: Path) -> Workspace:
    loaders.load_case(workspace, shared_data / "investigation")
    return workspace


def live(ws: Workspace) -> dict[tuple[str, str], tuple[Judgement, str]]:
    clusters = Resolver(ws.engine).clusters()
    return {pair: (e.judgement, e.actor) for pair, e in clusters.pairs.items()}


def queued(ws: Workspace) -> dict[tuple[str, str], dict[str, Any]]:
    t = resolve_candidate_table
    with ws.engine.connect() as conn:
        rows = conn.execute(select(t.c.left_id, t.c.right_id, t.c.explanation)).all()
    return {(r[0], r[1]): json.loads(r[2]) for r in rows}


def test_registry_links_are_scored_even_when_blocking_misses_them(
    case_ws: Workspace, tmp_path: Path
) -> None:
    ingest_registry(case_ws, write(tmp_path / "list.csv", TEST_LIST), "generic", "test_list")
    leads = {(lead.left, lead.right): lead for lead in read_candidate_links(case_ws)}
    assert ("estab-cn-2100-02153", "case-plant-taifeng") in leads
    lead = leads[("estab-cn-2100-02153", "case-plant-taifeng")]
    assert lead.dataset == "test_list" and "match_named" in lead.matcher
    # No blocking key is usable at max_block=1: only the leads are compared.
    summary = resolve_workspace(case_ws, actor="test", parties=False, max_block=1)
    assert summary.pairs == 0 and summary.linked == len(leads)
    edges = live(case_ws)
    for left, right in leads:
        pair = (min(left, right), max(left, right))
        assert edges[pair] == (Judgement.POSITIVE, AUTO)
    assert Resolver(case_ws.engine).canonical("case-plant-taifeng") == Resolver(
        case_ws.engine
    ).canonical("estab-cn-2100-02153")


def similar(link_id: str, candidate: str, match: str) -> dict[str, object]:
    return {
        "id": link_id,
        "schema": "Similar",
        "candidate": candidate,
        "match": match,
        "confidenceScore": "0.60",
        "criteria": "name and place match; unreviewed",
        "matcher": "tests:hand-typed",
    }


def test_each_lead_lands_in_its_band_and_people_win(case_ws: Workspace) -> None:
    # Registry-like facilities in Dalian, each proposed as the case's Haiqing plant.
    add_entities(
        case_ws,
        [
            {"id": "reg-fishery", "schema": "Facility", "name": "Dalian Hai Qing Fishery",
             "country": "cn", "city": "Dalian"},
            {"id": "reg-cold", "schema": "Facility", "name": "Dalian Haiqin Cold Storage",
             "country": "cn", "city": "Dalian"},
            {"id": "reg-judged", "schema": "Facility", "name": "大连海青食品有限公司",
             "country": "cn", "city": "Dalian"},
        ],
    )  # fmt: skip
    add_entities(
        case_ws,
        [
            similar("similar-fishery", "reg-fishery", "case-plant-haiqing"),
            similar("similar-cold", "reg-cold", "case-plant-haiqing"),
            similar("similar-judged", "reg-judged", "case-plant-haiqing"),
        ],
        LEADS,
    )
    resolver = Resolver(case_ws.engine)
    resolver.decide("reg-judged", "case-plant-haiqing", Judgement.NEGATIVE, "ivan", note="other")
    resolve_workspace(case_ws, actor="test", parties=False, max_block=1)

    edges = live(case_ws)
    # The person's "different" stands although the names score in the match band.
    assert edges[("case-plant-haiqing", "reg-judged")] == (Judgement.NEGATIVE, "ivan")
    # The fishery is in the review band: queued, the lead's provenance in the explanation.
    queue = queued(case_ws)
    assert set(queue) == {("case-plant-haiqing", "reg-fishery")}
    explanation = queue[("case-plant-haiqing", "reg-fishery")]
    assert explanation["decision"] == "review"
    leads: list[str] = explanation["leads"]
    assert len(leads) == 1
    lead = leads[0]
    assert "similar-fishery in test_leads" in lead and "tests:hand-typed" in lead
    assert "confidence 0.60" in lead and "unreviewed" in lead
    # The cold store scores below review: a new entity, neither linked nor queued.
    assert ("case-plant-haiqing", "reg-cold") not in edges
    assert resolver.canonical("reg-cold") == "reg-cold"
    # Running again changes nothing.
    again = resolve_workspace(case_ws, actor="test", parties=False, max_block=1)
    assert (again.linked, again.unlinked) == (0, 0)
    assert set(queued(case_ws)) == set(queue)
    # The review page shows the lead with the features.
    add_user(case_ws.engine, "ivan", "investigator", PASSWORD)
    app = create_app(case_ws, settings=dataclasses.replace(get_settings(), cookie_secure=False))
    client = login_client(app, "ivan")
    page = client.get("/review").text
    assert "Proposed by candidate link similar-fishery in test_leads" in page
    client.close()
