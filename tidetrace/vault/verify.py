"""Verify the whole vault without a key, and a case's contents with one.

Without a key (``tidetrace verify``): every case's custody chain, signatures and timestamp
checkpoints; every sealed row (items, claims, links …) against the hash its latest custody
entry vouches for; every blob file against its ciphertext hash. Each problem names the
entry, row or blob: modified, missing, inserted, reordered, truncated.

With a member's key (:func:`verify_contents`): every file decrypts, its chunks are intact,
and its plaintext SHA-256 is the one recorded when it was captured.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Column, Engine, Table, select

from tidetrace.vault.blobs import BlobCorrupt, BlobStore, file_sha256
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import sha256_hex
from tidetrace.vault.custody import Problem, entries, verify_case
from tidetrace.vault.items import list_items
from tidetrace.vault.tables import (
    blob_table,
    case_table,
    claim_link_table,
    claim_table,
    custody_table,
    item_table,
)
from tidetrace.workspace import Workspace

__all__ = ["TRACKED", "TrackedRows", "VaultReport", "verify_contents", "verify_vault"]


@dataclass(frozen=True)
class TrackedRows:
    """A table of sealed rows whose every change goes through the custody log.

    Other modules (testimony intake) register theirs in :data:`TRACKED`.

    Attributes:
        label: how a row is named in reports ("item", "claim" …).
        table: the table.
        id_column: its id column.
        sealed_column: the sealed column the custody entries hash.
        case_column: its case id column.
        id_prefix: the prefix of its ids (``ev-`` …), so a row recorded in the log and
            gone from the table is named only by the table it belongs to.
    """

    label: str
    table: Table
    id_column: Column  # type: ignore[type-arg]
    sealed_column: Column  # type: ignore[type-arg]
    case_column: Column  # type: ignore[type-arg]
    id_prefix: str = ""


TRACKED: list[TrackedRows] = [
    TrackedRows(
        "item", item_table, item_table.c.id, item_table.c.meta_enc, item_table.c.case_id, "ev-"
    ),
    TrackedRows(
        "claim",
        claim_table,
        claim_table.c.id,
        claim_table.c.body_enc,
        claim_table.c.case_id,
        "cl-",
    ),
    TrackedRows(
        "claim link",
        claim_link_table,
        claim_link_table.c.id,
        claim_link_table.c.body_enc,
        claim_link_table.c.case_id,
        "ln-",
    ),
]


@dataclass
class VaultReport:
    """What verification found.

    Attributes:
        cases: cases checked.
        entries: custody entries checked.
        rows: sealed rows checked.
        blobs: blob files checked.
        problems: everything wrong, each naming what and where.
        notes: things worth knowing that are not failures (uncovered log tail …).
    """

    cases: int = 0
    entries: int = 0
    rows: int = 0
    blobs: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def _committed(engine: Engine, case_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """The latest hash the log vouches for, per row id and per blob address."""
    rows: dict[str, str] = {}
    blobs: dict[str, str] = {}
    with engine.connect() as conn:
        for entry in entries(conn, case_id):
            for row_id, digest in (entry.refs.get("rows") or {}).items():
                rows[row_id] = digest
            for address, digest in (entry.refs.get("blobs") or {}).items():
                blobs[address] = digest
    return rows, blobs


def _check_rows(
    engine: Engine, case_id: str, committed: dict[str, str], report: VaultReport
) -> None:
    seen: set[str] = set()
    with engine.connect() as conn:
        for tracked in TRACKED:
            query = select(tracked.id_column, tracked.sealed_column).where(
                tracked.case_column == case_id
            )
            for row_id, sealed in conn.execute(query):
                report.rows += 1
                seen.add(row_id)
                where = f"{tracked.label} {row_id}"
                expected = committed.get(row_id)
                if expected is None:
                    report.problems.append(
                        Problem(case_id, where, "inserted: no custody entry records it")
                    )
                elif sha256_hex(bytes(sealed)) != expected:
                    report.problems.append(
                        Problem(
                            case_id,
                            where,
                            "modified: its sealed content is not what its last custody "
                            "entry recorded",
                        )
                    )
    unowned = 0
    for row_id in sorted(set(committed) - seen):
        owner = next((t for t in TRACKED if row_id.startswith(t.id_prefix)), None)
        if owner is None:
            unowned += 1
            continue
        report.problems.append(
            Problem(
                case_id, f"{owner.label} {row_id}", "missing: recorded in the custody log, now gone"
            )
        )
    if unowned:
        report.notes.append(
            f"case {case_id}: {unowned} logged row(s) of tables no module registered: not checked"
        )


def _check_blobs(
    ws: Workspace, case_id: str, committed: dict[str, str], report: VaultReport
) -> None:
    store = BlobStore.for_workspace(ws)
    with ws.engine.connect() as conn:
        recorded = {
            r.address: r.ct_sha256
            for r in conn.execute(select(blob_table).where(blob_table.c.case_id == case_id))
        }
    for address, expected in sorted(committed.items()):
        where = f"blob {address[:16]}…"
        path = store.path(case_id, address)
        report.blobs += 1
        if not path.is_file():
            report.problems.append(Problem(case_id, where, "missing: the file is gone"))
            continue
        actual, _size = file_sha256(path)
        if actual != expected:
            report.problems.append(
                Problem(case_id, where, "modified: the stored file's SHA-256 changed")
            )
        if recorded.get(address) not in (None, expected):
            report.problems.append(
                Problem(case_id, where, "modified: its database record has another hash")
            )
    for address in sorted(set(recorded) - set(committed)):
        report.problems.append(
            Problem(case_id, f"blob {address[:16]}…", "inserted: no custody entry records it")
        )
    for path in store.case_files(case_id):
        if path.name not in committed:
            report.problems.append(
                Problem(case_id, f"file {path.name[:16]}…", "inserted: unknown file in the store")
            )


def verify_vault(
    ws: Workspace,
    tsa_ca_file: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> VaultReport:
    """Check every case: custody chain, signatures, checkpoints, sealed rows and blobs.

    Needs no key: it checks what was stored, not what it says.
    """
    report = VaultReport()
    with ws.engine.connect() as conn:
        case_ids = [r.id for r in conn.execute(select(case_table.c.id).order_by(case_table.c.id))]
        logged = {r.case_id for r in conn.execute(select(custody_table.c.case_id).distinct())}
    for case_id in sorted(set(case_ids) | logged):
        if progress is not None:
            progress(case_id)
        report.cases += 1
        count, problems, notes = verify_case(ws.engine, case_id, tsa_ca_file)
        report.entries += count
        report.problems += problems
        report.notes += [f"case {case_id}: {n}" for n in notes]
        rows, blobs = _committed(ws.engine, case_id)
        _check_rows(ws.engine, case_id, rows, report)
        _check_blobs(ws, case_id, blobs, report)
        if case_id not in case_ids:
            report.problems.append(Problem(case_id, "case", "missing: its log remains"))
    return report


def verify_contents(ws: Workspace, keyring: CaseKeyring) -> tuple[int, list[Problem]]:
    """Decrypt every file of a case's items and check each plaintext SHA-256.

    Returns:
        (files checked, problems).
    """
    store = BlobStore.for_workspace(ws)
    problems: list[Problem] = []
    checked = 0
    for item in list_items(ws.engine, keyring):
        for role, info in item.meta.files.items():
            checked += 1
            where = f"item {item.id} ({role})"
            try:
                digest = store.write_to(keyring, info.address, _Discard())
            except BlobCorrupt as exc:
                problems.append(Problem(keyring.case_id, where, exc.detail))
                continue
            if digest != info.sha256:
                problems.append(
                    Problem(keyring.case_id, where, "content does not match its recorded SHA-256")
                )
            elif keyring.address(bytes.fromhex(digest)) != info.address:
                problems.append(Problem(keyring.case_id, where, "stored under the wrong address"))
    return checked, problems


class _Discard:
    """A binary sink (hashing without keeping the plaintext anywhere)."""

    def write(self, data: bytes) -> int:
        return len(data)
