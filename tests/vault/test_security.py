"""Nothing sensitive at rest in the clear: dump the database and every workspace file.

Issue 8: after adding items with planted marker strings, no marker, file name or claim
text appears in plaintext in the database or the blob area. Run on SQLite and PostgreSQL.
"""

import base64
import subprocess
from pathlib import Path

from sqlalchemy import MetaData, select

from tests.vault import samples
from tests.vault.conftest import Site, make_vault
from tidetrace.vault import capture, claims, items
from tidetrace.workspace import Workspace

MARKERS = [
    "CASENAME-7Q2Z",
    "TITLE-MARKER-93XK",
    "FILENAME-MARKER-44PL",
    "CLAIM-TEXT-MARKER-61WD",
    "NOTE-MARKER-08RT",
    "ENTITY-MARKER-55BN",
    "STEP-MARKER-27HC",
    "PLACE-MARKER-19GA",
    "CONTENT-MARKER-70YE",
    "SERIAL-MARKER-36UV",
    "PAGE-MARKER-88KM",
    "URL-MARKER-12SD",
    "조선근로자표식",
]


def _encodings(marker: str) -> list[bytes]:
    raw = marker.encode("utf-8")
    return [raw, raw.hex().encode(), raw.hex().upper().encode(), base64.b64encode(raw),
            marker.encode("utf-16-le")]  # fmt: skip


def _dump(ws: Workspace) -> str:
    """Every row of every table, as text (SQLite: also the sqlite3 CLI's .dump)."""
    parts = []
    metadata = MetaData()
    metadata.reflect(ws.engine)
    with ws.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(repr(tuple(row)))
                parts.extend(bytes(v).hex() for v in row if isinstance(v, bytes | memoryview))
    if ws.engine.url.get_backend_name() == "sqlite":
        db = ws.engine.url.database
        assert db is not None
        parts.append(
            subprocess.run(
                ["sqlite3", db, ".dump"], capture_output=True, text=True, check=True
            ).stdout
        )
    return "\n".join(parts)


def _fill(ws: Workspace, site: Site, tmp_path: Path) -> None:
    vault = make_vault(ws, case_name=f"Plants {MARKERS[0]}")
    kr, alice = vault.keyring, vault.alice
    photo = samples.jpeg_with_gps(tmp_path / f"{MARKERS[2]}.jpg", serial=MARKERS[9])
    doc = tmp_path / f"{MARKERS[2]}-contract.txt"
    doc.write_text(f"contract {MARKERS[8]} {MARKERS[12]}")
    a = items.add_file(
        ws, alice, kr, photo, title=MARKERS[1], about=[MARKERS[5]], claimed_location=MARKERS[7]
    ).item
    items.add_file(ws, alice, kr, doc, title=MARKERS[1], notes=MARKERS[4])
    items.add_note(ws, alice, kr, f"{MARKERS[4]} {MARKERS[12]}", about=[MARKERS[5]])
    items.add_verification_step(ws, alice, kr, a.id, MARKERS[6])
    items.set_grade(ws, alice, kr, a.id, "B2", reason=MARKERS[4])
    claim = claims.add_claim(ws, alice, kr, MARKERS[3], about=[MARKERS[5]], period="2023-11")
    claims.link(ws, alice, kr, claim.id, a.id, note=MARKERS[4])
    items.view_item(ws, alice, kr, a.id)
    site.pages[f"/{MARKERS[11]}"] = (
        200, "text/html", f"<html><title>{MARKERS[10]}</title>{MARKERS[12]}</html>".encode(), {},
    )  # fmt: skip
    capture.capture_url(ws, alice, kr, f"{site.base}/{MARKERS[11]}", about=[MARKERS[5]])


def _assert_clean(ws: Workspace) -> None:
    dump = _dump(ws).encode("utf-8")
    assert len(dump) > 10_000
    files = [p for p in ws.home.rglob("*") if p.is_file()]
    assert any("blobs" in p.parts for p in files)
    for marker in MARKERS:
        for form in _encodings(marker):
            assert form not in dump, f"{marker} in the database dump"
            for path in files:
                assert form not in path.read_bytes(), f"{marker} in {path}"
    # No plaintext scratch files were left behind.
    assert not [p for p in (ws.tmp_dir).rglob("*") if p.is_file()]


def test_no_plaintext_at_rest(any_workspace: Workspace, site: Site, tmp_path: Path) -> None:
    _fill(any_workspace, site, tmp_path)
    _assert_clean(any_workspace)
