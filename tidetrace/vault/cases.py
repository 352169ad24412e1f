"""Cases, their members and their keys.

A case has a random 256-bit key. Each member holds it sealed (X25519 sealed box) to their
public key, so only a member's unlock opens it; the server holds no other copy. Removing a
member rotates the key: a new version is sealed to the remaining members, and the old
version is sealed under the new one (a key chain, as Keybase does for teams), so members
read old material without re-encrypting it, while the removed member never sees anything
sealed under the new version. Membership changes go to the general audit log as well.
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nacl import bindings
from nacl.exceptions import CryptoError
from sqlalchemy import Connection, Engine, delete, select, update

from tidetrace.auth.roles import WRITERS
from tidetrace.exc import NotFoundError, PermissionDenied, TidetraceError
from tidetrace.store import audit
from tidetrace.store.tables import user_table
from tidetrace.vault.crypto import (
    DecryptionError,
    aad,
    canonical_json,
    day_now,
    derive_subkey,
    new_id,
    open_sealed,
    seal,
    sealed_version,
)
from tidetrace.vault.keys import UnlockedUser, public_keys, public_keys_by_name
from tidetrace.vault.tables import case_key_table, case_table, member_table

__all__ = [
    "CaseInfo",
    "CaseKeyring",
    "add_member",
    "case_members",
    "create_case",
    "is_member",
    "list_cases",
    "open_case",
    "remove_member",
]

MAX_NAME = 200


@dataclass(frozen=True)
class CaseKeyring:
    """The opened keys of one case: seal and open its records, address its blobs.

    Attributes:
        case_id: the case.
        version: the newest key version (new material is sealed under it).
        keys: every key version the holder can reach, newest first reachable down to 1.
    """

    case_id: str
    version: int
    keys: Mapping[int, bytes] = field(repr=False)

    def _key(self, version: int, purpose: bytes) -> bytes:
        try:
            return derive_subkey(self.keys[version], purpose)
        except KeyError:
            raise DecryptionError(f"no key version {version} for this case") from None

    def seal(self, data: bytes, *context: str | int) -> bytes:
        """Encrypt ``data`` under the newest key, bound to this case and ``context``.

        ``context`` names where the value is kept, e.g. ``("item", item_id, "meta")``; the
        same context must be given to :meth:`open`.
        """
        return seal(
            self._key(self.version, b"tt.record"),
            self.version,
            data,
            aad("record", self.case_id, *context),
        )

    def open(self, sealed: bytes, *context: str | int) -> bytes:
        """Decrypt a value made by :meth:`seal` (any key version of this case).

        Raises:
            DecryptionError: altered, moved to another row or case, or an unknown version.
        """
        version = sealed_version(sealed)
        return open_sealed(
            self._key(version, b"tt.record"), sealed, aad("record", self.case_id, *context)
        )

    def seal_json(self, value: Any, *context: str | int) -> bytes:
        """:meth:`seal` for a JSON value."""
        return self.seal(canonical_json(value), *context)

    def open_json(self, sealed: bytes, *context: str | int) -> Any:
        """:meth:`open` for a JSON value."""
        return json.loads(self.open(sealed, *context))

    def file_key_wrap(self, file_key: bytes, context: str) -> bytes:
        """Seal a blob's own key (blobs carry it wrapped in their header)."""
        return self.seal(file_key, "file-key", context)

    def file_key_unwrap(self, wrapped: bytes, context: str) -> bytes:
        """Open a blob's key wrapped by :meth:`file_key_wrap`."""
        return self.open(wrapped, "file-key", context)

    def address(self, sha256_digest: bytes) -> str:
        """A blob's address: HMAC-SHA256 of the plaintext's SHA-256 under a case key.

        The same file gets the same address within a case (deduplication), but someone with
        a dump cannot test whether a known document is in the vault. Derived from key
        version 1, so addresses survive key rotation.
        """
        return hmac.new(self._key(1, b"tt.address"), sha256_digest, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CaseInfo:
    """A case as its members see it."""

    id: str
    name: str
    created_day: str
    key_version: int
    members: list[str]


def _require_writer(actor: UnlockedUser) -> None:
    if actor.user.role not in WRITERS:
        raise PermissionDenied(
            f"your role ({actor.user.role.value}) may not work on cases; "
            "an investigator or admin can"
        )


def _wrap(case_id: str, version: int, key: bytes, box_public: bytes) -> bytes:
    # The plaintext names its case and version, so a wrapped key copied to another row
    # is refused rather than opening the wrong case.
    body = canonical_json([case_id, version]) + b"\n" + key
    return bytes(bindings.crypto_box_seal(body, box_public))


def _unwrap(actor: UnlockedUser, case_id: str, version: int, wrapped: bytes) -> bytes:
    try:
        body = bytes(
            bindings.crypto_box_seal_open(
                wrapped, bytes(actor.box_key.public_key), bytes(actor.box_key)
            )
        )
    except CryptoError:
        raise DecryptionError("your copy of the case key does not open") from None
    label, _, key = body.partition(b"\n")
    if label != canonical_json([case_id, version]) or len(key) != 32:
        raise DecryptionError("your copy of the case key belongs to another case")
    return key


def _chain_key(key: bytes) -> bytes:
    return derive_subkey(key, b"tt.chain")


def _keyring(conn: Connection, actor: UnlockedUser, case_id: str) -> CaseKeyring:
    member = conn.execute(
        select(member_table).where(
            member_table.c.case_id == case_id, member_table.c.user_id == actor.user.id
        )
    ).first()
    if member is None:
        raise NotFoundError(f"no case {case_id!r} among yours")
    version = member.key_version
    keys = {version: _unwrap(actor, case_id, version, member.wrapped_key)}
    rows = {
        r.version: r.prev_enc
        for r in conn.execute(select(case_key_table).where(case_key_table.c.case_id == case_id))
    }
    for v in range(version, 1, -1):
        prev_enc = rows.get(v)
        if prev_enc is None:
            raise DecryptionError(f"case {case_id}: key version {v - 1} is missing")
        keys[v - 1] = open_sealed(_chain_key(keys[v]), prev_enc, aad("chain", case_id, v))
    return CaseKeyring(case_id, version, keys)


def _case_name(keyring: CaseKeyring, name_enc: bytes) -> str:
    return keyring.open(name_enc, "case", keyring.case_id, "name").decode("utf-8")


def _clean_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_NAME:
        raise TidetraceError(f"a case name is 1-{MAX_NAME} characters")
    return clean


def create_case(engine: Engine, actor: UnlockedUser, name: str) -> CaseInfo:
    """Create a case with a fresh key; the actor is its first member.

    Raises:
        PermissionDenied: the actor is not an investigator or admin.
    """
    _require_writer(actor)
    clean = _clean_name(name)
    case_id = new_id("case")
    key = secrets.token_bytes(32)
    keyring = CaseKeyring(case_id, 1, {1: key})
    today = day_now()
    with engine.begin() as conn:
        conn.execute(
            case_table.insert().values(
                id=case_id,
                name_enc=keyring.seal(clean.encode("utf-8"), "case", case_id, "name"),
                key_version=1,
                created_day=today,
            )
        )
        conn.execute(
            case_key_table.insert().values(
                case_id=case_id, version=1, prev_enc=None, created_day=today
            )
        )
        conn.execute(
            member_table.insert().values(
                case_id=case_id,
                user_id=actor.user.id,
                key_version=1,
                wrapped_key=_wrap(case_id, 1, key, bytes(actor.box_key.public_key)),
                added_day=today,
            )
        )
        audit.append(conn, actor.name, "vault.case.create", case_id)
    return CaseInfo(case_id, clean, today, 1, [actor.name])


def case_members(conn: Connection, case_id: str) -> list[str]:
    """Names of a case's members."""
    rows = conn.execute(
        select(user_table.c.name)
        .join(member_table, member_table.c.user_id == user_table.c.id)
        .where(member_table.c.case_id == case_id)
        .order_by(user_table.c.name)
    )
    return [r.name for r in rows]


def is_member(conn: Connection, case_id: str, user_id: int) -> bool:
    """Whether the user holds a key to the case."""
    row = conn.execute(
        select(member_table.c.user_id).where(
            member_table.c.case_id == case_id, member_table.c.user_id == user_id
        )
    ).first()
    return row is not None


def list_cases(engine: Engine, actor: UnlockedUser) -> list[CaseInfo]:
    """The cases the actor is a member of, names decrypted, by name."""
    out = []
    with engine.connect() as conn:
        rows = conn.execute(
            select(case_table)
            .join(member_table, member_table.c.case_id == case_table.c.id)
            .where(member_table.c.user_id == actor.user.id)
        ).all()
        for row in rows:
            keyring = _keyring(conn, actor, row.id)
            out.append(
                CaseInfo(
                    row.id,
                    _case_name(keyring, row.name_enc),
                    row.created_day,
                    row.key_version,
                    case_members(conn, row.id),
                )
            )
    return sorted(out, key=lambda c: (c.name.lower(), c.id))


def resolve_case(engine: Engine, actor: UnlockedUser, case_ref: str) -> str:
    """The id of the actor's case named or identified by ``case_ref``.

    Raises:
        NotFoundError: no such case among the actor's (non-members cannot tell whether it
            exists at all).
        TidetraceError: two of the actor's cases have that name.
    """
    ref = case_ref.strip()
    with engine.connect() as conn:
        member = conn.execute(
            select(member_table.c.case_id).where(
                member_table.c.case_id == ref, member_table.c.user_id == actor.user.id
            )
        ).first()
    if member is not None:
        return ref
    matches = [c.id for c in list_cases(engine, actor) if c.name.lower() == ref.lower()]
    if not matches:
        raise NotFoundError(f"no case {case_ref!r} among yours")
    if len(matches) > 1:
        raise TidetraceError(f"{len(matches)} of your cases are called {case_ref!r}: use its id")
    return matches[0]


def open_case(engine: Engine, actor: UnlockedUser, case_ref: str) -> CaseKeyring:
    """Open one of the actor's cases by id or name.

    Raises:
        NotFoundError: not a case the actor is a member of.
        PermissionDenied: the actor's role no longer allows case work (e.g. demoted to
            analyst while still holding a key).
    """
    _require_writer(actor)
    case_id = resolve_case(engine, actor, case_ref)
    with engine.connect() as conn:
        return _keyring(conn, actor, case_id)


def add_member(engine: Engine, actor: UnlockedUser, case_ref: str, name: str) -> None:
    """Give ``name`` the case key (sealed to their public key).

    Raises:
        PermissionDenied: the actor or the new member may not work on cases.
        NotFoundError: no such user or case, or the user has no keys yet.
    """
    _require_writer(actor)
    keyring = open_case(engine, actor, case_ref)
    case_id = keyring.case_id
    with engine.begin() as conn:
        target = public_keys_by_name(conn, name)
        role = conn.execute(
            select(user_table.c.role).where(user_table.c.id == target.user_id)
        ).scalar_one()
        if role not in {r.value for r in WRITERS}:
            raise PermissionDenied(
                f"{target.name} is an {role}: only investigators and admins can join a case"
            )
        if is_member(conn, case_id, target.user_id):
            raise TidetraceError(f"{target.name} is a member already")
        conn.execute(
            member_table.insert().values(
                case_id=case_id,
                user_id=target.user_id,
                key_version=keyring.version,
                wrapped_key=_wrap(
                    case_id, keyring.version, keyring.keys[keyring.version], target.box_public
                ),
                added_day=day_now(),
            )
        )
        audit.append(conn, actor.name, "vault.member.add", case_id, {"member": target.name})


def remove_member(engine: Engine, actor: UnlockedUser, case_ref: str, name: str) -> int:
    """Take ``name`` off the case and rotate its key; returns the new key version.

    What the removed member already read or copied stays known to them; nothing sealed
    from now on (new evidence, notes, custody payloads) can be opened with their keys.

    Raises:
        TidetraceError: ``name`` is not a member, or is the last one.
    """
    _require_writer(actor)
    keyring = open_case(engine, actor, case_ref)
    case_id = keyring.case_id
    new_version = keyring.version + 1
    new_key = secrets.token_bytes(32)
    with engine.begin() as conn:
        target = public_keys_by_name(conn, name)
        if not is_member(conn, case_id, target.user_id):
            raise TidetraceError(f"{target.name} is not a member")
        remaining = [
            r.user_id
            for r in conn.execute(
                select(member_table.c.user_id).where(member_table.c.case_id == case_id)
            )
            if r.user_id != target.user_id
        ]
        if not remaining:
            raise TidetraceError("a case keeps at least one member")
        conn.execute(
            case_key_table.insert().values(
                case_id=case_id,
                version=new_version,
                prev_enc=seal(
                    _chain_key(new_key),
                    new_version,
                    keyring.keys[keyring.version],
                    aad("chain", case_id, new_version),
                ),
                created_day=day_now(),
            )
        )
        conn.execute(
            delete(member_table).where(
                member_table.c.case_id == case_id, member_table.c.user_id == target.user_id
            )
        )
        for keys in public_keys(conn, remaining):
            conn.execute(
                update(member_table)
                .where(member_table.c.case_id == case_id, member_table.c.user_id == keys.user_id)
                .values(
                    key_version=new_version,
                    wrapped_key=_wrap(case_id, new_version, new_key, keys.box_public),
                )
            )
        conn.execute(
            update(case_table).where(case_table.c.id == case_id).values(key_version=new_version)
        )
        audit.append(
            conn,
            actor.name,
            "vault.member.remove",
            case_id,
            {"member": target.name, "key_version": new_version},
        )
    return new_version
