"""Sealing for people who hold no case key: a case's intake key pair, on the vault's keys.

An intermediary (role ``field``) must be able to seal a testimony to a case without being
able to read the case, and an anonymous tip must be sealed to the recipients without the
server keeping a readable copy. Both use the same construction, built only from the
vault's primitives:

- each case has an **intake key pair** (X25519). The public half is in the clear; the
  private half is sealed under the case key (:meth:`CaseKeyring.seal`), so exactly the
  case's members can open it, and key rotation, membership and audit are the vault's;
- each testimony or tip gets its own random 256-bit key, used as a one-version
  :class:`CaseKeyring` (the vault's AEAD, associated data and blob format, unchanged),
  and that key is wrapped to the intake public key with an X25519 sealed box, labelled
  with what it belongs to — the way the vault wraps case keys to members.

When a member leaves a case the vault rotates the case key; the next member who opens the
case for intake then makes a new intake key pair sealed under the new case key, and new
submissions go to it. Until then (see :func:`current_public`) submissions are refused
rather than sealed to a key the removed member may still hold.
"""

import secrets
from dataclasses import dataclass

from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from sqlalchemy import Connection, func, select

from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import DecryptionError, canonical_json, day_now
from tidetrace.vault.tables import case_table

from .tables import intake_key_table

__all__ = [
    "IntakeKey",
    "current_public",
    "ensure_intake_key",
    "item_keyring",
    "open_private",
    "unwrap_key",
    "wrap_key",
]


class IntakeKeyStale(TidetraceError):
    """The case key was rotated and no member has renewed the intake key yet."""

    STATUS = 409


@dataclass(frozen=True)
class IntakeKey:
    """The public half of a case's intake key pair.

    Attributes:
        case_id: the case.
        version: the key pair's version.
        public: the X25519 public key.
    """

    case_id: str
    version: int
    public: bytes


def _private_context(version: int) -> tuple[str, int]:
    return ("intake-key", version)


def _latest(conn: Connection, case_id: str) -> tuple[int, bytes, int] | None:
    row = conn.execute(
        select(
            intake_key_table.c.version,
            intake_key_table.c.public_key,
            intake_key_table.c.case_key_version,
        )
        .where(intake_key_table.c.case_id == case_id)
        .order_by(intake_key_table.c.version.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.version, bytes(row.public_key), row.case_key_version)


def ensure_intake_key(conn: Connection, keyring: CaseKeyring) -> IntakeKey:
    """The case's current intake key, made (or renewed after a rotation) by a member.

    Args:
        conn: a transaction.
        keyring: the opened case (only members can call this).
    """
    latest = _latest(conn, keyring.case_id)
    if latest is not None and latest[2] >= keyring.version:
        return IntakeKey(keyring.case_id, latest[0], latest[1])
    version = 1 if latest is None else latest[0] + 1
    private = PrivateKey.generate()
    conn.execute(
        intake_key_table.insert().values(
            case_id=keyring.case_id,
            version=version,
            public_key=bytes(private.public_key),
            private_enc=keyring.seal(bytes(private), *_private_context(version)),
            case_key_version=keyring.version,
            created_day=day_now(),
        )
    )
    return IntakeKey(keyring.case_id, version, bytes(private.public_key))


def current_public(conn: Connection, case_id: str) -> IntakeKey:
    """The intake public key to seal new submissions to (no case key needed).

    Raises:
        NotFoundError: no member has opened the case for intake yet.
        IntakeKeyStale: the case key was rotated since; a member must open the case.
    """
    latest = _latest(conn, case_id)
    if latest is None:
        raise NotFoundError(
            "this case takes no submissions yet: a member must open it for intake first"
        )
    case_version = conn.execute(
        select(case_table.c.key_version).where(case_table.c.id == case_id)
    ).scalar_one_or_none()
    if case_version is None:
        raise NotFoundError("no such case")
    if latest[2] < case_version:
        raise IntakeKeyStale(
            "the case's keys were renewed after a member left: a member must open the case "
            "once before new submissions can be sealed"
        )
    return IntakeKey(case_id, latest[0], latest[1])


def open_private(conn: Connection, keyring: CaseKeyring, version: int) -> PrivateKey:
    """The private half of intake key ``version`` (members only).

    Raises:
        DecryptionError: no such version, or it does not open with this case's keys.
    """
    row = conn.execute(
        select(intake_key_table.c.private_enc).where(
            intake_key_table.c.case_id == keyring.case_id,
            intake_key_table.c.version == version,
        )
    ).first()
    if row is None:
        raise DecryptionError(f"intake key version {version} is gone (purged?)")
    return PrivateKey(keyring.open(row.private_enc, *_private_context(version)))


def key_versions(conn: Connection, case_id: str) -> list[int]:
    """Every intake key version of a case, oldest first."""
    rows = conn.execute(
        select(intake_key_table.c.version)
        .where(intake_key_table.c.case_id == case_id)
        .order_by(intake_key_table.c.version)
    )
    return [r.version for r in rows]


def count_keys(conn: Connection, case_id: str) -> int:
    """How many intake key versions a case has."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(intake_key_table)
            .where(intake_key_table.c.case_id == case_id)
        ).scalar_one()
    )


def wrap_key(key: bytes, public: bytes, *label: str | int) -> bytes:
    """Seal a 32-byte item key to an intake public key, labelled with what it opens.

    The label travels inside the sealed box, so a wrapped key copied onto another row is
    refused when unwrapped rather than opening the wrong thing.
    """
    body = canonical_json(list(label)) + b"\n" + key
    return bytes(bindings.crypto_box_seal(body, public))


def unwrap_key(private: PrivateKey, wrapped: bytes, *label: str | int) -> bytes:
    """Open a key sealed by :func:`wrap_key` with the same label.

    Raises:
        DecryptionError: wrong key, altered, or labelled for something else.
    """
    try:
        body = bytes(
            bindings.crypto_box_seal_open(wrapped, bytes(private.public_key), bytes(private))
        )
    except CryptoError:
        raise DecryptionError("the item key does not open") from None
    found, _, key = body.partition(b"\n")
    if found != canonical_json(list(label)) or len(key) != 32:
        raise DecryptionError("the item key belongs to something else")
    return key


def new_item_key() -> bytes:
    """A fresh 256-bit item key."""
    return secrets.token_bytes(32)


def item_keyring(item_id: str, key: bytes) -> CaseKeyring:
    """A one-version keyring for one testimony or tip: the vault's sealing and blob format,
    bound (through the associated data) to ``item_id`` instead of a case.
    """
    return CaseKeyring(item_id, 1, {1: key})


def seal_box(data: bytes, public: bytes) -> bytes:
    """An anonymous X25519 sealed box (what the browser's libsodium makes, too)."""
    return bytes(bindings.crypto_box_seal(data, public))


def open_box(private: PrivateKey, sealed: bytes) -> bytes:
    """Open a sealed box.

    Raises:
        DecryptionError: wrong key or altered.
    """
    try:
        return bytes(
            bindings.crypto_box_seal_open(sealed, bytes(private.public_key), bytes(private))
        )
    except CryptoError:
        raise DecryptionError("a sealed message does not open") from None
