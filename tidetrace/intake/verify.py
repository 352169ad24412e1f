"""Check intake material against the custody log, without a key.

The vault's ``verify`` checks every case's chain, signatures and checkpoints (intake
entries included) and the vault's own rows and blobs. Intake entries vouch for their rows
and photo blobs under keys of their own (``intake_rows`` / ``intake_blobs``); this module
checks those the same way: each sealed row's hash against the last entry that recorded
it, each photo file's ciphertext hash, and nothing inserted or missing. Submissions a
member has not yet put on the log (field submissions) are reported as a note, not a fault.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Engine, Table, select

from tidetrace.vault.blobs import file_sha256
from tidetrace.vault.crypto import sha256_hex
from tidetrace.vault.custody import Problem, entries
from tidetrace.vault.tables import custody_table
from tidetrace.workspace import Workspace

from .tables import checkin_table, photo_table, quote_table, tag_table, testimony_table, text_table
from .testimony import INTAKE_BLOBS, INTAKE_ROWS, blob_store

__all__ = ["IntakeReport", "verify_intake"]


@dataclass
class IntakeReport:
    """What the check found."""

    rows: int = 0
    blobs: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def _committed(engine: Engine) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    rows: dict[str, tuple[str, str]] = {}
    blobs: dict[str, tuple[str, str]] = {}
    with engine.connect() as conn:
        cases = [r.case_id for r in conn.execute(select(custody_table.c.case_id).distinct())]
        for case_id in cases:
            for entry in entries(conn, case_id):
                for row_id, digest in (entry.refs.get(INTAKE_ROWS) or {}).items():
                    rows[row_id] = (case_id, digest)
                for address, digest in (entry.refs.get(INTAKE_BLOBS) or {}).items():
                    blobs[address] = (case_id, digest)
    return rows, blobs


def _sealed_rows(engine: Engine) -> list[tuple[str, str, str, bytes]]:
    """(label, case id, row id, sealed bytes) of every row the log should vouch for."""
    out: list[tuple[str, str, str, bytes]] = []
    plain: list[tuple[str, Table, Column[Any], Column[Any]]] = [
        ("tag", tag_table, tag_table.c.id, tag_table.c.body_enc),
        ("quote", quote_table, quote_table.c.id, quote_table.c.body_enc),
        ("check-in", checkin_table, checkin_table.c.id, checkin_table.c.outcome_enc),
    ]
    with engine.connect() as conn:
        for r in conn.execute(
            select(
                testimony_table.c.id, testimony_table.c.case_id, testimony_table.c.body_enc
            ).where(testimony_table.c.logged.is_(True))
        ):
            out.append(("testimony", r.case_id, r.id, bytes(r.body_enc)))
        for r in conn.execute(
            select(text_table.c.id, testimony_table.c.case_id, text_table.c.body_enc)
            .join(testimony_table, testimony_table.c.id == text_table.c.testimony_id)
            .where(testimony_table.c.logged.is_(True))
        ):
            out.append(("text", r.case_id, r.id, bytes(r.body_enc)))
        for label, table, id_col, sealed_col in plain:
            for r in conn.execute(select(id_col, table.c.case_id, sealed_col)):
                out.append((label, r[1], r[0], bytes(r[2])))
    return out


def verify_intake(ws: Workspace) -> IntakeReport:
    """Check every intake row and photo blob against the custody log (no key needed)."""
    report = IntakeReport()
    committed_rows, committed_blobs = _committed(ws.engine)
    seen: set[str] = set()
    for label, case_id, row_id, sealed in _sealed_rows(ws.engine):
        report.rows += 1
        seen.add(row_id)
        expected = committed_rows.get(row_id)
        where = f"{label} {row_id}"
        if expected is None:
            report.problems.append(Problem(case_id, where, "inserted: no custody entry records it"))
        elif sha256_hex(sealed) != expected[1]:
            report.problems.append(
                Problem(
                    case_id,
                    where,
                    "modified: its sealed content is not what its last custody entry recorded",
                )
            )
    with ws.engine.connect() as conn:
        photos = conn.execute(
            select(
                photo_table.c.testimony_id,
                photo_table.c.address,
                photo_table.c.ct_sha256,
                testimony_table.c.case_id,
                testimony_table.c.logged,
            ).join(testimony_table, testimony_table.c.id == photo_table.c.testimony_id)
        ).all()
        pending = conn.execute(
            select(testimony_table.c.id).where(testimony_table.c.logged.is_(False))
        ).all()
    for row_id, (case_id, _digest) in sorted(committed_rows.items()):
        # Aggregate snapshots are plain published JSON, vouched for but not re-checked here.
        if row_id not in seen and not row_id.startswith("agg-"):
            report.problems.append(
                Problem(case_id, f"row {row_id}", "missing: recorded in the custody log, now gone")
            )
    store = blob_store(ws)
    known_files: set[str] = set()
    for photo in photos:
        path = store.path(photo.testimony_id, photo.address)
        known_files.add(str(path))
        report.blobs += 1
        where = f"photo blob {photo.address[:16]}…"
        if not path.is_file():
            report.problems.append(Problem(photo.case_id, where, "missing: the file is gone"))
            continue
        actual, _size = file_sha256(path)
        if actual != photo.ct_sha256:
            report.problems.append(
                Problem(photo.case_id, where, "modified: the stored file's SHA-256 changed")
            )
        if photo.logged:
            vouched = committed_blobs.get(photo.address)
            if vouched is None:
                report.problems.append(
                    Problem(photo.case_id, where, "inserted: no custody entry records it")
                )
            elif vouched[1] != actual:
                report.problems.append(
                    Problem(photo.case_id, where, "modified: not the file the custody log recorded")
                )
    if store.root.is_dir():
        for path in sorted(p for p in store.root.glob("*/*/*") if p.is_file()):
            if str(path) not in known_files:
                report.problems.append(
                    Problem(
                        path.parent.parent.name, f"file {path.name[:16]}…", "inserted: unknown file"
                    )
                )
    if pending:
        report.notes.append(
            f"{len(pending)} field submission(s) not yet on a custody log: a member logs them "
            "by opening the case's intake"
        )
    return report
