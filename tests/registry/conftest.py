"""Fixtures for the registry tests: a workspace with the investigation case and a small list."""

from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from nacl.pwhash import argon2id

from tests.registry.support import (
    CANDIDATE_CLAIM,
    CLAIM,
    OTHER_CLAIM,
    PASSWORD,
    TAIFENG,
    TEST_LIST,
    write,
)
from tidetrace import loaders
from tidetrace.auth import users
from tidetrace.auth.users import add_user
from tidetrace.graph.flags import add_flag
from tidetrace.registry.ingest import ingest_registry
from tidetrace.vault import keys
from tidetrace.vault.cases import create_case, open_case
from tidetrace.vault.claims import add_claim, link
from tidetrace.vault.items import add_note
from tidetrace.vault.keys import unlock_user
from tidetrace.workspace import Workspace


@pytest.fixture
def case_ws(workspace: Workspace, shared_data: Path) -> Workspace:
    """A workspace with the investigation case imported (eight plants without codes)."""
    loaders.load_case(workspace, shared_data / "investigation")
    return workspace


@pytest.fixture
def registry_ws(case_ws: Workspace, tmp_path: Path) -> Workspace:
    """The case plus the test list, ingested as dataset ``test_list``."""
    path = write(tmp_path / "list.csv", TEST_LIST)
    ingest_registry(case_ws, path, "generic", source="test_list", as_of="2024-01-01")
    return case_ws


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its minimum cost: the tests check the design, not the work factor."""
    monkeypatch.setattr(keys, "KDF_OPSLIMIT", argon2id.OPSLIMIT_MIN)
    monkeypatch.setattr(keys, "KDF_MEMLIMIT", argon2id.MEMLIMIT_MIN)
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def risk_ws(registry_ws: Workspace, fast_kdf: None) -> Workspace:
    """Flags on the plant, and alice's case with claims about it; bob is in no case."""
    ws = registry_ws
    add_flag(ws.engine, TAIFENG, "Listed on a test WRO", since=date(2024, 2, 1), kind="wro")
    add_flag(
        ws.engine,
        TAIFENG,
        "Workers filmed on the processing line",
        evidence=["vault:it-secret-video", "https://example.org/report"],
        since=date(2023, 11, 1),
        actor="alice",
    )
    add_flag(ws.engine, "case-plant-taifeng", "Candidate plant finding", actor="alice")
    for name, role in (("alice", "investigator"), ("bob", "investigator"), ("ana", "analyst")):
        user = add_user(ws.engine, name, role, PASSWORD)
        keys.create_user_keys(ws.engine, user, PASSWORD)
    alice = unlock_user(ws.engine, "alice", PASSWORD)
    case = create_case(ws.engine, alice, "Dandong plants")
    keyring = open_case(ws.engine, alice, case.id)
    note = add_note(ws, alice, keyring, "Video notes", about=[TAIFENG], grade="B2")
    claim = add_claim(ws, alice, keyring, CLAIM, about=[TAIFENG], period="2023-11")
    link(ws, alice, keyring, claim.id, note.item.id, "supports")
    add_claim(ws, alice, keyring, CANDIDATE_CLAIM, about=["case-plant-taifeng"])
    add_claim(ws, alice, keyring, OTHER_CLAIM, about=["estab-cn-3700-02001"])
    return ws
