"""Risk and evidence in the lookup: flags by audience, a case member's claims, never public.

Flags restating public lists are shown to anyone; an investigator's finding flag (with its
evidence references and since date) only to readers. Claims live sealed in the vault: a
member with unlocked keys sees those about the plant (CLI ``--user``, the page when signed
in, ``/api/lookup/member``), each read a custody ``view``; ``/api/lookup`` never has them.
"""

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.registry.support import CANDIDATE_CLAIM, CLAIM, PASSWORD, TAIFENG
from tests.web.support import login_client
from tidetrace.cli import app as cli_app
from tidetrace.registry.evidence import case_evidence
from tidetrace.registry.lookup import lookup_code
from tidetrace.settings import get_settings
from tidetrace.vault.keys import unlock_user
from tidetrace.vault.tables import custody_table
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace


def _views(ws: Workspace) -> list[Any]:
    with ws.engine.connect() as conn:
        return list(
            conn.execute(select(custody_table).where(custody_table.c.action == "view")).all()
        )


def test_flags_by_audience(risk_ws: Workspace) -> None:
    public = lookup_code(risk_ws.engine, "2100/02153")
    assert public.restricted
    assert [(f.kind, f.via, f.since) for f in public.flags] == [("wro", "facility", "2024-02-01")]
    assert public.candidates[0].flags == []
    full = lookup_code(risk_ws.engine, "2100/02153", restricted=False)
    by_kind = {f.kind: f for f in full.flags}
    finding = by_kind["finding"]
    assert finding.reason == "Workers filmed on the processing line"
    assert finding.evidence == ["vault:it-secret-video", "https://example.org/report"]
    assert finding.since == "2023-11-01"
    # A flag on an unconfirmed candidate plant stays with the candidate.
    [cand] = full.candidates
    assert [f.reason for f in cand.flags] == ["Candidate plant finding"]
    assert all(f.entity_id == TAIFENG for f in full.flags)
    assert public.evidence is None and full.evidence is None


def test_member_sees_claims_about_the_plant_and_each_is_a_custody_view(
    risk_ws: Workspace,
) -> None:
    result = lookup_code(risk_ws.engine, "2100/02153", restricted=False)
    alice = unlock_user(risk_ws.engine, "alice", PASSWORD)
    found = {c.text: c for c in case_evidence(risk_ws, result, alice)}
    assert set(found) == {CLAIM, CANDIDATE_CLAIM}
    claim = found[CLAIM]
    assert (claim.via, claim.case_name, claim.period) == ("facility", "Dandong plants", "2023-11")
    assert (claim.supporting, claim.contradicting, claim.item_count) == (1, 0, 1)
    assert claim.grades == ["B2"]
    assert found[CANDIDATE_CLAIM].via == "candidate"
    views = _views(risk_ws)
    assert sorted(v.target for v in views) == sorted(c.claim_id for c in found.values())
    assert {v.actor for v in views} == {"alice"}
    # Someone in no case sees nothing, and nothing is recorded.
    bob = unlock_user(risk_ws.engine, "bob", PASSWORD)
    assert case_evidence(risk_ws, result, bob) == []
    assert len(_views(risk_ws)) == 2


def test_claims_follow_entity_resolution(risk_ws: Workspace) -> None:
    from sqlalchemy import update

    from tidetrace.store.tables import statement_table

    # What a confirmed link does: the plant and the registry entry get one canonical id.
    with risk_ws.engine.begin() as conn:
        for entity_id in (TAIFENG, "case-plant-taifeng"):
            conn.execute(
                update(statement_table)
                .where(statement_table.c.entity_id == entity_id)
                .values(canonical_id="tt-ent-taifeng")
            )
    result = lookup_code(risk_ws.engine, "2100/02153", restricted=False)
    assert result.facility is not None and result.facility.id == "tt-ent-taifeng"
    alice = unlock_user(risk_ws.engine, "alice", PASSWORD)
    found = {c.text: c.via for c in case_evidence(risk_ws, result, alice)}
    assert found == {CLAIM: "facility", CANDIDATE_CLAIM: "facility"}
    # Flags given on either member id now belong to the facility.
    assert {f.reason for f in result.flags} >= {
        "Workers filmed on the processing line",
        "Candidate plant finding",
    }


def _cli(ws: Workspace, *args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli_app, [*args, "--home", str(ws.home)], env=env)
    assert "Traceback" not in result.output
    return result


def test_cli_member_evidence(risk_ws: Workspace) -> None:
    plain = _cli(risk_ws, "lookup", "2100/02153", "--json")
    assert plain.exit_code == 0
    data = json.loads(plain.stdout)
    assert data["evidence"] is None
    assert {f["kind"] for f in data["flags"]} == {"wro", "finding"}
    member = _cli(
        risk_ws,
        "lookup",
        "2100/02153",
        "--json",
        "--user",
        "alice",
        "--case",
        "Dandong plants",
        env={"TIDETRACE_PASSWORD": PASSWORD},
    )
    assert member.exit_code == 0, member.output
    texts = {c["text"] for c in json.loads(member.stdout)["evidence"]}
    assert texts == {CLAIM, CANDIDATE_CLAIM}
    text = _cli(
        risk_ws, "lookup", "2100/02153", "--user", "alice", env={"TIDETRACE_PASSWORD": PASSWORD}
    )
    assert f"EVIDENCE [Dandong plants] (facility) {CLAIM}: 1 supporting" in text.stdout
    assert "FLAG (finding) via facility" in text.stdout
    wrong = _cli(
        risk_ws, "lookup", "2100/02153", "--user", "alice", env={"TIDETRACE_PASSWORD": "nope"}
    )
    assert wrong.exit_code != 0
    assert len(wrong.output.strip().splitlines()) == 1


@pytest.fixture
def app(risk_ws: Workspace) -> FastAPI:
    settings = dataclasses.replace(get_settings(), cookie_secure=False)
    return create_app(risk_ws, settings=settings)


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_public_api_never_includes_claims_or_findings(app: FastAPI, anonymous: TestClient) -> None:
    secrets = (CLAIM, CANDIDATE_CLAIM, "vault:it-secret-video", "Workers filmed")
    member = login_client(app, "alice", PASSWORD)
    try:
        for client in (anonymous, member):
            for code in ("2100/02153", "CN 2100/02153 EC"):
                response = client.get("/api/lookup", params={"code": code})
                assert response.status_code == 200
                assert response.json()["evidence"] is None
                assert response.json()["restricted"] is True
                for secret in secrets:
                    assert secret not in response.text
        page = anonymous.get("/lookup", params={"code": "2100/02153"})
        assert page.status_code == 200
        assert "Listed on a test WRO" in page.text
        for secret in secrets:
            assert secret not in page.text
        assert "case-evidence" not in page.text
    finally:
        member.close()


def test_member_api_and_page(app: FastAPI, anonymous: TestClient, risk_ws: Workspace) -> None:
    assert anonymous.get("/api/lookup/member", params={"code": "2100/02153"}).status_code == 401
    alice = login_client(app, "alice", PASSWORD)
    bob = login_client(app, "bob", PASSWORD)
    ana = login_client(app, "ana", PASSWORD)
    try:
        data = alice.get("/api/lookup/member", params={"code": "2100/02153"}).json()
        assert {c["text"] for c in data["evidence"]} == {CLAIM, CANDIDATE_CLAIM}
        assert data["restricted"] is False
        page = alice.get("/lookup", params={"code": "2100/02153"})
        assert page.status_code == 200
        assert CLAIM in page.text
        assert "Workers filmed on the processing line" in page.text
        assert "vault:it-secret-video" in page.text
        bob_page = bob.get("/lookup", params={"code": "2100/02153"})
        assert CLAIM not in bob_page.text
        assert "None of your cases has a claim about this plant." in bob_page.text
        # A reader without case work sees findings but no evidence section.
        ana_data = ana.get("/api/lookup/member", params={"code": "2100/02153"}).json()
        assert ana_data["evidence"] is None
        assert any(f["kind"] == "finding" for f in ana_data["flags"])
        bad = alice.get("/api/lookup/member", params={"code": "<script>"})
        assert bad.status_code == 400
    finally:
        for client in (alice, bob, ana):
            client.close()
