"""Per-user key pairs, sealed under the user's password, and unlocking them.

Each user has an X25519 key pair (case keys are sealed to it) and an Ed25519 key pair (custody
entries are signed with it). The private halves are stored only encrypted, under a key
derived from the user's password with Argon2id, so a database dump opens nothing without a
member's password. Unlocked keys live only in this process's memory: for the CLI for one
command, for the web app bound to one login session (:func:`unlock_for_session`).

The password-derived key is independent of the Argon2 password hash in ``app_user`` (its
own salt and a key-derivation call rather than a verifier), so the hash does not help
anyone derive it.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

from nacl.public import PrivateKey
from nacl.pwhash import argon2id
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import Connection, Engine, select, update

from tidetrace.auth.users import User, authenticate
from tidetrace.exc import NotFoundError, PermissionDenied, TidetraceError
from tidetrace.settings import get_settings
from tidetrace.store.tables import user_table
from tidetrace.vault.crypto import DecryptionError, aad, day_now, open_sealed, seal
from tidetrace.vault.tables import user_key_table

__all__ = [
    "KDF_MEMLIMIT",
    "KDF_OPSLIMIT",
    "PublicKeys",
    "UnlockedUser",
    "VaultLocked",
    "change_password",
    "create_user_keys",
    "forget_session",
    "public_keys",
    "public_keys_by_name",
    "session_user",
    "unlock",
    "unlock_for_session",
    "unlock_user",
]

KDF_NAME = "argon2id13"
# libsodium's "interactive" profile (64 MiB, ~0.07 s), paid on every login. A stronger
# profile would buy nothing: whoever has the database also has the login hash in
# ``app_user`` (argon2-cffi, 64 MiB), which tests a password guess just as well. Raise both
# together. The values used are stored per user, so a change never locks anyone out;
# tests lower them.
KDF_OPSLIMIT = argon2id.OPSLIMIT_INTERACTIVE
KDF_MEMLIMIT = argon2id.MEMLIMIT_INTERACTIVE
UNLOCK_FAILED = "wrong user name or password"


class VaultLocked(TidetraceError):
    """The user's vault keys are not unlocked here (e.g. the server restarted): log in again."""

    STATUS = 401


@dataclass(frozen=True)
class PublicKeys:
    """A user's public keys, as every member and verifier sees them."""

    user_id: int
    name: str
    box_public: bytes
    sign_public: bytes

    @property
    def sign_hex(self) -> str:
        """The Ed25519 public key in hex, as custody entries name their signer."""
        return self.sign_public.hex()


@dataclass(frozen=True)
class UnlockedUser:
    """A user with their private keys in memory. Never logged, never stored.

    Attributes:
        user: the user.
        box_key: X25519 private key (opens case keys sealed to the user).
        signing_key: Ed25519 private key (signs custody entries).
    """

    user: User
    box_key: PrivateKey = field(repr=False)
    signing_key: SigningKey = field(repr=False)

    @property
    def name(self) -> str:
        """The user's name."""
        return self.user.name

    @property
    def sign_hex(self) -> str:
        """The Ed25519 public key in hex."""
        return bytes(self.signing_key.verify_key).hex()

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return bytes(self.signing_key.sign(message).signature)


def _derive(password: str, salt: bytes, ops: int, mem: int) -> bytes:
    return bytes(argon2id.kdf(32, password.encode("utf-8"), salt, opslimit=ops, memlimit=mem))


def _secret_aad(user_id: int, box_public: bytes, sign_public: bytes) -> bytes:
    # Binding the public keys means a swapped public key makes the private keys unusable.
    return aad("user-key", user_id, box_public.hex(), sign_public.hex())


def _seal_private(
    user: User, password: str, box: PrivateKey, signing: SigningKey
) -> dict[str, object]:
    salt = secrets.token_bytes(argon2id.SALTBYTES)
    key = _derive(password, salt, KDF_OPSLIMIT, KDF_MEMLIMIT)
    box_public = bytes(box.public_key)
    sign_public = bytes(signing.verify_key)
    secret = bytes(box) + bytes(signing)
    return {
        "box_public": box_public,
        "sign_public": sign_public,
        "kdf": KDF_NAME,
        "kdf_salt": salt,
        "kdf_ops": KDF_OPSLIMIT,
        "kdf_mem": KDF_MEMLIMIT,
        "sealed_secret": seal(key, 0, secret, _secret_aad(user.id, box_public, sign_public)),
    }


def create_user_keys(engine: Engine | Connection, user: User, password: str) -> PublicKeys:
    """Generate a user's key pairs and store them sealed under ``password``.

    Call right after ``tidetrace.auth.users.add_user`` with the same password; users without
    keys also get them on their first unlock (login or a vault CLI command).

    Raises:
        TidetraceError: the user has keys already.
    """
    box = PrivateKey.generate()
    signing = SigningKey.generate()

    def _insert(conn: Connection) -> None:
        exists = conn.execute(
            select(user_key_table.c.user_id).where(user_key_table.c.user_id == user.id)
        ).first()
        if exists is not None:
            raise TidetraceError(f"user {user.name!r} has vault keys already")
        values = _seal_private(user, password, box, signing)
        conn.execute(
            user_key_table.insert().values(user_id=user.id, created_day=day_now(), **values)
        )

    if isinstance(engine, Connection):
        _insert(engine)
    else:
        with engine.begin() as conn:
            _insert(conn)
    return PublicKeys(user.id, user.name, bytes(box.public_key), bytes(signing.verify_key))


def unlock(engine: Engine, user: User, password: str) -> UnlockedUser:
    """Open ``user``'s private keys with ``password``, creating them on first use.

    The caller must already have authenticated ``user`` with ``password`` (as the login
    route and :func:`unlock_user` do): keys are created for whatever password is given.

    Raises:
        PermissionDenied: the password does not open the stored keys.
    """
    with engine.begin() as conn:
        row = conn.execute(
            select(user_key_table).where(user_key_table.c.user_id == user.id)
        ).first()
        if row is None:
            create_user_keys(conn, user, password)
            row = conn.execute(
                select(user_key_table).where(user_key_table.c.user_id == user.id)
            ).first()
            assert row is not None
    if row.kdf != KDF_NAME:
        raise TidetraceError(f"unknown key derivation {row.kdf!r}")
    key = _derive(password, row.kdf_salt, row.kdf_ops, row.kdf_mem)
    try:
        secret = open_sealed(
            key, row.sealed_secret, _secret_aad(user.id, row.box_public, row.sign_public)
        )
    except DecryptionError:
        raise PermissionDenied(UNLOCK_FAILED) from None
    box = PrivateKey(secret[:32])
    signing = SigningKey(secret[32:64])
    if bytes(box.public_key) != row.box_public or bytes(signing.verify_key) != row.sign_public:
        raise TidetraceError(f"the stored keys of {user.name!r} do not match their public keys")
    return UnlockedUser(user, box, signing)


def unlock_user(engine: Engine, name: str, password: str) -> UnlockedUser:
    """Authenticate ``name`` with ``password`` and unlock their keys (the CLI's way in).

    Raises:
        PermissionDenied: unknown user or wrong password (one message for both).
    """
    user = authenticate(engine, name, password)
    if user is None:
        raise PermissionDenied(UNLOCK_FAILED)
    return unlock(engine, user, password)


def change_password(engine: Engine, unlocked: UnlockedUser, new_password: str) -> None:
    """Re-seal the user's private keys under a new password (the keys stay the same).

    The login password hash in ``app_user`` is changed by ``tidetrace.auth``; call both.
    """
    with engine.begin() as conn:
        values = _seal_private(unlocked.user, new_password, unlocked.box_key, unlocked.signing_key)
        conn.execute(
            update(user_key_table)
            .where(user_key_table.c.user_id == unlocked.user.id)
            .values(**values)
        )


def _rows_to_keys(rows: list[object]) -> list[PublicKeys]:
    return [
        PublicKeys(r.user_id, r.name, r.box_public, r.sign_public)  # type: ignore[attr-defined]
        for r in rows
    ]


def public_keys(conn: Connection, user_ids: list[int] | None = None) -> list[PublicKeys]:
    """Public keys of the given users (every user with keys when None)."""
    query = select(
        user_key_table.c.user_id,
        user_table.c.name,
        user_key_table.c.box_public,
        user_key_table.c.sign_public,
    ).join(user_table, user_table.c.id == user_key_table.c.user_id)
    if user_ids is not None:
        query = query.where(user_key_table.c.user_id.in_(user_ids))
    return _rows_to_keys(list(conn.execute(query.order_by(user_table.c.name)).all()))


def public_keys_by_name(conn: Connection, name: str) -> PublicKeys:
    """The public keys of the user called ``name``.

    Raises:
        NotFoundError: no such user, or the user has never unlocked the vault.
    """
    row = conn.execute(
        select(
            user_key_table.c.user_id,
            user_table.c.name,
            user_key_table.c.box_public,
            user_key_table.c.sign_public,
        )
        .join(user_table, user_table.c.id == user_key_table.c.user_id)
        .where(user_table.c.name == name.strip().lower(), user_table.c.active.is_(True))
    ).first()
    if row is None:
        raise NotFoundError(
            f"user {name!r} has no vault keys yet: they must log in (web) or run a vault "
            "command (CLI) once"
        )
    return _rows_to_keys([row])[0]


def verify_key(sign_public: bytes) -> VerifyKey:
    """The verifier for an Ed25519 public key."""
    return VerifyKey(sign_public)


# --- Web sessions -------------------------------------------------------------------------
# Unlocked keys bound to a session, in this process only: a server restart locks every
# session again (users log in anew), and nothing about them ever reaches the disk.
_sessions: dict[str, tuple[UnlockedUser, float]] = {}
_sessions_lock = threading.Lock()


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def unlock_for_session(
    engine: Engine, user: User, password: str, session_token: str, hours: int | None = None
) -> None:
    """After a successful login, unlock the user's keys and bind them to the session.

    Called by the login route with the password it just checked and the new session's
    cookie value. The keys are forgotten when the session is ended
    (:func:`forget_session`) or after ``hours`` (default: the session lifetime).
    """
    unlocked = unlock(engine, user, password)
    lifetime = (hours if hours is not None else get_settings().session_hours) * 3600
    now = time.monotonic()
    with _sessions_lock:
        for key in [k for k, (_, expires) in _sessions.items() if expires < now]:
            del _sessions[key]
        _sessions[_token_key(session_token)] = (unlocked, now + lifetime)


def session_user(session_token: str | None, user: User | None = None) -> UnlockedUser:
    """The unlocked keys bound to a live session.

    Args:
        session_token: the session cookie value.
        user: the session's user; the keys must be theirs (a guard against mix-ups).

    Raises:
        VaultLocked: no keys for this session (server restarted, or logged in elsewhere).
    """
    if session_token:
        with _sessions_lock:
            found = _sessions.get(_token_key(session_token))
        if found is not None and found[1] >= time.monotonic():
            unlocked = found[0]
            if user is None or unlocked.user.id == user.id:
                return unlocked
    raise VaultLocked(
        "your evidence keys are not unlocked in this server session: log out and log in again"
    )


def forget_session(session_token: str) -> None:
    """Drop the unlocked keys of a session (on logout)."""
    with _sessions_lock:
        _sessions.pop(_token_key(session_token), None)
