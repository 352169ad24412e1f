"""The chain of custody: an append-only, hash-chained log per case, every entry signed.

An entry has public fields anyone can check without a key — case, number, day, actor,
action, target id, ``refs`` (hashes of the encrypted rows and blobs it vouches for), the
signer's public key and the previous entry's hash — and an encrypted payload (exact time,
file names, plaintext hashes, grades, notes …). The hash covers the public fields plus a
salted commitment to the payload, and the acting user signs the hash with Ed25519. So:

- anyone can recompute the chain and the signatures (``tidetrace verify``, the bundle);
- a member can open the payloads, and an export can reveal chosen payloads (an "opening":
  salt + payload) that anyone can check against the signed commitment;
- the commitment's salt keeps a guessable payload (a known file's SHA-256) from being
  confirmed by someone with only the database.

Heads are checkpointed with RFC 3161 timestamp tokens (``checkpoint``), which catch a
truncated or rewritten tail that a recomputed chain would hide. ``verify_case`` reports
every problem by entry, with no key needed.
"""

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from tidetrace.exc import TidetraceError
from tidetrace.logs import get_logger
from tidetrace.store.tables import user_table
from tidetrace.vault import tsa
from tidetrace.vault.bundle_verify import (
    ENTRY_VERSION,
    GENESIS,
    check_chain,
    check_checkpoint_heads,
    checkpoint_digest,
    entry_hash,
    payload_commit,
    signed_message,
)
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import canonical_json, day_now, now_iso
from tidetrace.vault.keys import UnlockedUser
from tidetrace.vault.tables import checkpoint_table, custody_table, user_key_table

__all__ = [
    "ACTIONS",
    "Checkpoint",
    "Entry",
    "OpenedEntry",
    "Problem",
    "append",
    "checkpoint",
    "checkpoint_if_configured",
    "checkpoints",
    "entries",
    "history",
    "open_entry",
    "registered_keys",
    "verify_case",
]

log = get_logger("tidetrace.vault.custody")

# What an entry can record. Testimony intake adds its own actions through the same log.
ACTIONS = frozenset(
    {
        "capture",  # an item entered the vault (files, hashes, derivations)
        "view",  # someone opened an item
        "export",  # an item left the vault (bundle, download)
        "grade",  # source reliability / information credibility changed
        "link",  # an item was linked to a claim
        "redaction",  # a new working copy replaced the shared one
        "amend",  # verification steps, claimed place/time, notes changed
        "claim",  # a claim was written or changed
        "triage",  # video keyframes / OCR flags recorded
        "delete",  # a row was removed on purpose
    }
)


@dataclass(frozen=True)
class Entry:
    """One custody entry as stored (public fields, hash and signature)."""

    case: str
    seq: int
    day: str
    actor: str
    action: str
    target: str | None
    refs: dict[str, Any]
    commit: str
    signer: str
    prev: str
    hash: str
    signature: str
    payload_enc: bytes = field(repr=False, default=b"")

    def public(self) -> dict[str, Any]:
        """The entry as exported (everything but the encrypted payload)."""
        return {
            "v": ENTRY_VERSION,
            "case": self.case,
            "seq": self.seq,
            "day": self.day,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "refs": self.refs,
            "commit": self.commit,
            "signer": self.signer,
            "prev": self.prev,
            "hash": self.hash,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class OpenedEntry:
    """An entry with its payload decrypted (members only).

    Attributes:
        entry: the stored entry.
        salt: the commitment salt (hex); with ``payload`` it proves the payload to others.
        payload: ``{"at": exact time, ...details}``.
    """

    entry: Entry
    salt: str
    payload: dict[str, Any]

    @property
    def at(self) -> str:
        """The exact time of the entry (UTC, to the second)."""
        return str(self.payload.get("at", self.entry.day))


@dataclass(frozen=True)
class Problem:
    """Something ``verify`` found wrong, named so a person can act on it.

    Attributes:
        case: the case.
        where: what is wrong ("custody entry 4", "blob 3fa2…", "item ev-…").
        reason: what is wrong with it.
    """

    case: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"case {self.case}: {self.where}: {self.reason}"


@dataclass(frozen=True)
class Checkpoint:
    """A timestamp token over a case's log head."""

    case: str
    seq: int
    head_hash: str
    gen_time: str
    tsa_url: str
    token: bytes = field(repr=False)


def _payload_aad(case_id: str, seq: int) -> tuple[str, str, int]:
    return ("custody", case_id, seq)


def _row_entry(row: Any) -> Entry:
    return Entry(
        case=row.case_id,
        seq=row.seq,
        day=row.day,
        actor=row.actor,
        action=row.action,
        target=row.target,
        refs=json.loads(row.refs),
        commit=row.payload_commit,
        signer=row.signer,
        prev=row.prev_hash,
        hash=row.hash,
        signature=row.signature,
        payload_enc=row.payload_enc,
    )


def append(
    conn: Connection,
    keyring: CaseKeyring,
    actor: UnlockedUser,
    action: str,
    target: str | None = None,
    refs: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> Entry:
    """Append a signed entry inside the caller's transaction.

    Args:
        conn: the transaction that also writes what the entry vouches for.
        keyring: the case's keys (the payload is sealed under them).
        actor: the acting user, who signs.
        action: one of :data:`ACTIONS`.
        target: the item (or claim, link …) id the entry is about.
        refs: public hashes vouched for: ``{"rows": {row_id: sha256 of its sealed
            column}, "blobs": {address: ciphertext sha256}}``.
        details: what happened, sealed (file names, plaintext hashes, old/new grade …).

    Returns:
        The stored entry.
    """
    if action not in ACTIONS:
        raise TidetraceError(f"unknown custody action {action!r}")
    case_id = keyring.case_id
    if conn.dialect.name == "postgresql":
        # Two writers must not both read the same head and append after it.
        conn.execute(text("LOCK TABLE vault_custody IN EXCLUSIVE MODE"))
    head = conn.execute(
        select(custody_table.c.seq, custody_table.c.hash)
        .where(custody_table.c.case_id == case_id)
        .order_by(custody_table.c.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head is not None else (1, GENESIS)
    payload = {"at": now_iso(), **(details or {})}
    salt = secrets.token_hex(32)
    entry = Entry(
        case=case_id,
        seq=seq,
        day=day_now(),
        actor=actor.name,
        action=action,
        target=target,
        refs=refs or {},
        commit=payload_commit(salt, payload),
        signer=actor.sign_hex,
        prev=prev,
        hash="",
        signature="",
    )
    digest = entry_hash(entry.public())
    sealed = keyring.seal(
        canonical_json({"salt": salt, "payload": payload}), *_payload_aad(case_id, seq)
    )
    entry = replace(
        entry,
        hash=digest,
        signature=actor.sign(signed_message(digest)).hex(),
        payload_enc=sealed,
    )
    conn.execute(
        custody_table.insert().values(
            case_id=case_id,
            seq=seq,
            day=entry.day,
            actor=entry.actor,
            action=action,
            target=target,
            refs=canonical_json(entry.refs).decode("utf-8"),
            payload_commit=entry.commit,
            payload_enc=sealed,
            signer=entry.signer,
            prev_hash=prev,
            hash=digest,
            signature=entry.signature,
        )
    )
    return entry


def entries(conn: Connection, case_id: str, target: str | None = None) -> list[Entry]:
    """A case's entries in stored order (optionally only those about ``target``)."""
    query = select(custody_table).where(custody_table.c.case_id == case_id)
    if target is not None:
        query = query.where(custody_table.c.target == target)
    return [_row_entry(r) for r in conn.execute(query.order_by(custody_table.c.seq))]


def open_entry(keyring: CaseKeyring, entry: Entry) -> OpenedEntry:
    """Decrypt an entry's payload.

    Raises:
        DecryptionError: the payload was altered or moved.
    """
    opened = json.loads(keyring.open(entry.payload_enc, *_payload_aad(entry.case, entry.seq)))
    return OpenedEntry(entry, opened["salt"], opened["payload"])


def history(engine: Engine, keyring: CaseKeyring, target: str | None = None) -> list[OpenedEntry]:
    """The decrypted custody history of a case, or of one item in it."""
    with engine.connect() as conn:
        found = entries(conn, keyring.case_id, target)
    return [open_entry(keyring, e) for e in found]


def registered_keys(conn: Connection) -> dict[str, str]:
    """User name -> hex Ed25519 public key, for every user with vault keys."""
    rows = conn.execute(
        select(user_table.c.name, user_key_table.c.sign_public).join(
            user_key_table, user_key_table.c.user_id == user_table.c.id
        )
    )
    return {r.name: bytes(r.sign_public).hex() for r in rows}


def checkpoints(conn: Connection, case_id: str) -> list[Checkpoint]:
    """A case's timestamp checkpoints, oldest first."""
    rows = conn.execute(
        select(checkpoint_table)
        .where(checkpoint_table.c.case_id == case_id)
        .order_by(checkpoint_table.c.seq)
    )
    return [
        Checkpoint(r.case_id, r.seq, r.head_hash, r.gen_time, r.tsa_url, bytes(r.token))
        for r in rows
    ]


def checkpoint(engine: Engine, case_id: str, tsa_url: str) -> Checkpoint | None:
    """Timestamp the case's current log head at ``tsa_url`` (None when the log is empty).

    Raises:
        TsaError: the TSA failed.
    """
    with engine.connect() as conn:
        head = conn.execute(
            select(custody_table.c.seq, custody_table.c.hash)
            .where(custody_table.c.case_id == case_id)
            .order_by(custody_table.c.seq.desc())
            .limit(1)
        ).first()
        if head is None:
            return None
        done = conn.execute(
            select(checkpoint_table.c.seq).where(
                checkpoint_table.c.case_id == case_id, checkpoint_table.c.seq == head.seq
            )
        ).first()
    if done is not None:
        with engine.connect() as conn:
            return next(c for c in checkpoints(conn, case_id) if c.seq == head.seq)
    token = tsa.request_token(tsa_url, checkpoint_digest(case_id, head.seq, head.hash))
    info = tsa.token_info(token)
    with engine.begin() as conn:
        conn.execute(
            checkpoint_table.insert().values(
                case_id=case_id,
                seq=head.seq,
                head_hash=head.hash,
                token=token,
                gen_time=info.gen_time,
                tsa_url=tsa_url,
            )
        )
    return Checkpoint(case_id, head.seq, head.hash, info.gen_time, tsa_url, token)


def checkpoint_if_configured(
    engine: Engine, case_id: str, tsa_url: str | None
) -> tuple[Checkpoint | None, str | None]:
    """Checkpoint when a TSA is configured; a failing TSA is a warning, not an error.

    Evidence must be captured even when the TSA is down; the entries stay uncovered until
    the next checkpoint succeeds, and ``verify`` says so.

    Returns:
        (the checkpoint or None, a warning or None).
    """
    if not tsa_url:
        return None, None
    try:
        return checkpoint(engine, case_id, tsa_url), None
    except tsa.TsaError as exc:
        log.warning("checkpoint failed", case_id=case_id, detail=exc.detail)
        return None, f"custody log not timestamped now: {exc.detail}"


def _entry_dicts(found: Iterable[Entry]) -> list[dict[str, Any]]:
    return [e.public() for e in found]


def verify_case(
    engine: Engine, case_id: str, tsa_ca_file: Path | None = None
) -> tuple[int, list[Problem], list[str]]:
    """Recompute a case's chain, signatures and checkpoints. No key needed.

    Returns:
        (entry count, problems, notes such as "entries 9-12 not yet timestamped").
    """
    notes: list[str] = []
    with engine.connect() as conn:
        found = entries(conn, case_id)
        keys = registered_keys(conn)
        cps = checkpoints(conn, case_id)
    dicts = _entry_dicts(found)
    problems = [
        Problem(case_id, f"custody entry {seq}", reason) for seq, reason in check_chain(dicts, keys)
    ]
    cp_dicts = [{"seq": c.seq, "head_hash": c.head_hash} for c in cps]
    problems += [
        Problem(case_id, f"checkpoint at entry {seq}", reason)
        for seq, reason in check_checkpoint_heads(dicts, cp_dicts)
    ]
    for cp in cps:
        digest = checkpoint_digest(case_id, cp.seq, cp.head_hash)
        info = tsa.token_info(cp.token)
        if info.digest != digest:
            problems.append(
                Problem(case_id, f"checkpoint at entry {cp.seq}", "token is for another head")
            )
        elif tsa_ca_file is not None:
            ok, why = tsa.verify_token(cp.token, digest, tsa_ca_file)
            if not ok:
                problems.append(
                    Problem(case_id, f"checkpoint at entry {cp.seq}", f"token fails: {why}")
                )
    if cps and tsa_ca_file is None:
        notes.append("timestamp signatures not checked: set TIDETRACE_TSA_CA_FILE")
    last = max((e.seq for e in found), default=0)
    covered = max((c.seq for c in cps), default=0)
    if covered < last:
        span = f"entry {last}" if covered + 1 == last else f"entries {covered + 1}-{last}"
        notes.append(f"{span} not yet timestamped (a cut-off tail there would not show)")
    return len(found), problems, notes
