"""A case's items and claims as FtM entities: they validate, round-trip, and leak no contents."""

import json
from pathlib import Path
from typing import Any

import pytest
from followthemoney import model as ftm_model
from typer.testing import CliRunner

from tests.vault import samples
from tests.vault.conftest import PASSWORDS, Vault
from tidetrace.cli import app
from tidetrace.model import model
from tidetrace.sources.ftm import read_path
from tidetrace.vault import claims, custody, items

NOTE_MARKER = "NOTEBODY-SECRET-93"
runner = CliRunner()


@pytest.fixture
def filled(vault: Vault, tmp_path: Path) -> dict[str, str]:
    photo = samples.jpeg_with_gps(tmp_path / "gate.jpg", serial="FTM-SERIAL")
    photo_item = items.add_file(
        vault.ws, vault.alice, vault.keyring, photo, title="Gate", grade="B2",
        about=["fac-1"], claimed_location="Donggang", location_method="Sentinel-2 match",
    ).item  # fmt: skip
    items.add_verification_step(
        vault.ws, vault.alice, vault.keyring, photo_item.id, "geolocated against Sentinel-2"
    )
    note = items.add_note(
        vault.ws, vault.alice, vault.keyring, f"Trucks left at 02:00 {NOTE_MARKER}",
        title="Night trucks", about=["fac-1"],
    ).item  # fmt: skip
    claim = claims.add_claim(
        vault.ws, vault.alice, vault.keyring, "North Korean workers at fac-1",
        about=["fac-1", "fac-2"], indicator="restriction of movement", period="2023-11",
    )  # fmt: skip
    claims.link(vault.ws, vault.alice, vault.keyring, claim.id, photo_item.id, note="banner")
    claims.link(vault.ws, vault.alice, vault.keyring, claim.id, note.id, "contradicts", "C3")
    lonely = claims.add_claim(vault.ws, vault.alice, vault.keyring, "Machines labelled in Korean")
    return {"photo": photo_item.id, "note": note.id, "claim": claim.id, "lonely": lonely.id}


def test_cli_exports_valid_ftm_that_round_trips(
    vault: Vault, filled: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "case.ftm.json"
    monkeypatch.setenv("TIDETRACE_PASSWORD", PASSWORDS["alice"])
    result = runner.invoke(
        app,
        ["evidence", "export", "--case", "Dandong plants 2023", "--format", "ftm", "-o",
         str(out), "--purpose", "share with the newsroom", "--user", "alice",
         "--home", str(vault.ws.home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    # Metadata and hashes only: no note text, no file bytes or metadata.
    assert NOTE_MARKER not in text and "FTM-SERIAL" not in text
    lines: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines()]
    # The singleton FtM model (what ftm tools and nomenklatura use) knows our schemata.
    assert ftm_model is model
    for data in lines:
        schema = model.get(data["schema"])
        assert schema is not None
        schema.validate(data)  # type: ignore[arg-type]  # raises InvalidData on a bad value
        assert all(p in data["properties"] for p in schema.required), data
        proxy = model.get_proxy(data, cleaned=False)
        assert proxy.to_dict()["properties"] == data["properties"]  # nothing lost in cleaning
    # tidetrace's own FtM reader (what `tidetrace import ftm` uses) takes the file as is.
    records = list(read_path(out))
    assert len(records) == len(lines)

    by_schema: dict[str, list[dict[str, Any]]] = {}
    for data in lines:
        by_schema.setdefault(data["schema"], []).append(data)
    evidence = {e["id"]: e["properties"] for e in by_schema["Evidence"]}
    photo = evidence[filled["photo"]]
    original = items.get_item(vault.ws.engine, vault.keyring, filled["photo"]).meta.files
    assert photo["sha256"] == [original["original"].sha256]
    assert photo["workingSha256"] == [original["working"].sha256]
    assert photo["grade"] == ["B2"] and photo["about"] == ["fac-1"]
    assert photo["fileName"] == ["gate.jpg"] and photo["mimeType"] == ["image/jpeg"]
    assert photo["locationMethod"] == ["Sentinel-2 match"]
    assert "geolocated against Sentinel-2" in photo["verificationStep"][0]
    assert evidence[filled["note"]]["kind"] == ["note"]

    claim_rows = [c["properties"] for c in by_schema["Claim"]]
    main = [c for c in claim_rows if c["claimId"] == [filled["claim"]]]
    # Two links x two entities, each an edge evidence -> entity with its stance.
    assert len(main) == 4
    assert {(c["evidence"][0], c["entity"][0], c["stance"][0]) for c in main} == {
        (filled["photo"], "fac-1", "supports"),
        (filled["photo"], "fac-2", "supports"),
        (filled["note"], "fac-1", "contradicts"),
        (filled["note"], "fac-2", "contradicts"),
    }
    assert all(c["indicator"] == ["Restriction of movement"] for c in main)
    assert all(c["proof"] == c["evidence"] for c in main)
    lonely = [c for c in claim_rows if c["claimId"] == [filled["lonely"]]]
    assert len(lonely) == 1 and "evidence" not in lonely[0]

    # Every item and claim that left has a signed export entry with the purpose.
    for target in (filled["photo"], filled["note"], filled["claim"], filled["lonely"]):
        exports = [
            e
            for e in custody.history(vault.ws.engine, vault.keyring, target)
            if e.entry.action == "export"
        ]
        assert len(exports) == 1 and exports[0].entry.actor == "alice"
        assert exports[0].payload["format"] == "ftm"
        assert exports[0].payload["purpose"] == "share with the newsroom"


def test_ftm_export_of_an_empty_case_is_a_clean_error(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDETRACE_PASSWORD", PASSWORDS["alice"])
    out = tmp_path / "x.ftm.json"
    result = runner.invoke(
        app,
        ["evidence", "export", "--case", "Dandong plants 2023", "--format", "ftm", "-o",
         str(out), "--user", "alice", "--home", str(vault.ws.home)],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "no evidence items or claims to export" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
