"""API keys for ``/match``: yente clients send ``Authorization: ApiKey <key>``.

A key belongs to a user and acts with that user's role (the route admits readers only).
The key is shown once when issued; only its SHA-256 is stored, and a lookup compares
hashes with :func:`hmac.compare_digest`. Issuing and withdrawing keys is audited. A valid
key is remembered for a few seconds (:data:`CACHE_SECONDS`).
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select, update

from tidetrace.auth.roles import Role
from tidetrace.auth.users import User, get_user
from tidetrace.exc import NotFoundError
from tidetrace.screen.tables import api_key_table
from tidetrace.store import audit
from tidetrace.store.entities import utc_now
from tidetrace.store.tables import user_table

__all__ = ["PREFIX", "ApiKey", "check_key", "issue_key", "list_keys", "revoke_key"]

PREFIX = "tt_"
MAX_KEY = 128
CACHE_SECONDS = 5.0
# Key hash → (its user, until when that answer may be reused).
_CACHE: dict[str, tuple[User, float]] = {}


@dataclass(frozen=True)
class ApiKey:
    """An issued key (never the key itself)."""

    id: int
    user: str
    label: str | None
    created_at: str
    revoked_at: str | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def issue_key(
    engine: Engine, user_name: str, label: str | None = None, actor: str = "cli"
) -> tuple[str, ApiKey]:
    """Issue a key for a user; returns the key (shown once) and its record.

    Raises:
        NotFoundError: no such active user.
    """
    user = get_user(engine, user_name)
    key = PREFIX + secrets.token_urlsafe(32)
    now = utc_now()
    with engine.begin() as conn:
        result = conn.execute(
            api_key_table.insert().values(
                user_id=user.id, key_hash=_hash(key), label=label, created_at=now
            )
        )
        key_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        audit.append(conn, actor, "apikey.issue", user.name, {"key": key_id})
    return key, ApiKey(key_id, user.name, label, now, None)


def list_keys(engine: Engine) -> list[ApiKey]:
    """Every key, newest first."""
    query = (
        select(api_key_table, user_table.c.name)
        .join(user_table, user_table.c.id == api_key_table.c.user_id)
        .order_by(api_key_table.c.id.desc())
    )
    with engine.connect() as conn:
        return [
            ApiKey(r.id, r.name, r.label, r.created_at, r.revoked_at) for r in conn.execute(query)
        ]


def revoke_key(engine: Engine, key_id: int, actor: str = "cli") -> None:
    """Withdraw a key; it stops working at once.

    Raises:
        NotFoundError: no such standing key.
    """
    with engine.begin() as conn:
        done = conn.execute(
            update(api_key_table)
            .where(api_key_table.c.id == key_id, api_key_table.c.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
        if done.rowcount == 0:
            raise NotFoundError(f"no standing API key {key_id}")
        # In this process the key stops working now; elsewhere within CACHE_SECONDS.
        _CACHE.clear()
        audit.append(conn, actor, "apikey.revoke", None, {"key": key_id})


def check_key(engine: Engine, key: str) -> User | None:
    """The user a key acts for, or None for an unknown, withdrawn or malformed key.

    A valid key is remembered for :data:`CACHE_SECONDS`, so a client sending hundreds of
    requests a second does not cost a database query each; a withdrawn key stops working
    within that time.
    """
    key = key.strip()
    if not key.startswith(PREFIX) or len(key) > MAX_KEY:
        return None
    digest = _hash(key)
    now = time.monotonic()
    cached = _CACHE.get(digest)
    if cached is not None and cached[1] > now:
        return cached[0]
    query = (
        select(api_key_table.c.key_hash, user_table.c.id, user_table.c.name, user_table.c.role)
        .join(user_table, user_table.c.id == api_key_table.c.user_id)
        .where(
            api_key_table.c.key_hash == digest,
            api_key_table.c.revoked_at.is_(None),
            user_table.c.active.is_(True),
        )
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    user = User(row.id, row.name, Role(row.role))
    if len(_CACHE) > 1000:
        _CACHE.clear()
    _CACHE[digest] = (user, now + CACHE_SECONDS)
    return user
