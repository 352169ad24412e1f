"""Users, Argon2 password hashes and login sessions."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, select

from tidetrace.auth.roles import Role, parse_role
from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.store import audit
from tidetrace.store.tables import session_table, user_table

_hasher = PasswordHasher()
# Verifying against this when a user is unknown makes a failed login take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class User:
    """A person who can log in."""

    id: int
    name: str
    role: Role


@dataclass(frozen=True)
class Session:
    """A logged-in session: the user and the CSRF token its forms must carry."""

    user: User
    csrf_token: str


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def validate_name(name: str) -> str:
    """A user name: 2-64 characters of a-z, 0-9, '.', '_' or '-'."""
    clean = name.strip().lower()
    if not 2 <= len(clean) <= 64 or not set(clean) <= NAME_CHARS:
        raise TidetraceError("a user name is 2-64 characters of a-z, 0-9, '.', '_' or '-'")
    return clean


def add_user(engine: Engine, name: str, role: str, password: str, actor: str = "cli") -> User:
    """Create a user; the password is stored only as an Argon2 hash."""
    clean = validate_name(name)
    try:
        parsed = parse_role(role)
    except ValueError as exc:
        raise TidetraceError(str(exc)) from None
    if len(password) < MIN_PASSWORD:
        raise TidetraceError(f"a password needs at least {MIN_PASSWORD} characters")
    with engine.begin() as conn:
        exists = conn.execute(select(user_table.c.id).where(user_table.c.name == clean)).first()
        if exists is not None:
            raise TidetraceError(f"user {clean!r} exists already")
        result = conn.execute(
            user_table.insert().values(
                name=clean,
                role=parsed.value,
                password_hash=_hasher.hash(password),
                active=True,
                created_at=datetime.now(UTC),
            )
        )
        user_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        audit.append(conn, actor, "user.add", clean, {"role": parsed.value})
    return User(user_id, clean, parsed)


def list_users(engine: Engine) -> list[User]:
    """Every active user."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(user_table).where(user_table.c.active.is_(True)).order_by(user_table.c.name)
        ).all()
    return [User(r.id, r.name, Role(r.role)) for r in rows]


def get_user(engine: Engine, name: str) -> User:
    """The active user called ``name``."""
    with engine.connect() as conn:
        row = conn.execute(
            select(user_table).where(
                user_table.c.name == name.strip().lower(), user_table.c.active.is_(True)
            )
        ).first()
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    return User(row.id, row.name, Role(row.role))


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    """The user when the password is right; None otherwise, in the same time either way."""
    with engine.connect() as conn:
        row = conn.execute(
            select(user_table).where(
                user_table.c.name == name.strip().lower(), user_table.c.active.is_(True)
            )
        ).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return User(row.id, row.name, Role(row.role))


def start_session(engine: Engine, user: User, hours: int) -> tuple[str, Session]:
    """Open a session; returns the cookie value (shown once, stored only hashed)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(delete(session_table).where(session_table.c.expires_at < now))
        conn.execute(
            session_table.insert().values(
                token_hash=_hash_token(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return token, Session(user, csrf)


def load_session(engine: Engine, token: str) -> Session | None:
    """The live session for a cookie value, or None."""
    if not token or len(token) > 128:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(session_table, user_table.c.name, user_table.c.role, user_table.c.active)
            .join(user_table, user_table.c.id == session_table.c.user_id)
            .where(session_table.c.token_hash == _hash_token(token))
        ).first()
    if row is None or not row.active:
        return None
    expires = row.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        return None
    return Session(User(row.user_id, row.name, Role(row.role)), row.csrf_token)


def end_session(engine: Engine, token: str) -> None:
    """Log out: the cookie value stops working."""
    with engine.begin() as conn:
        conn.execute(delete(session_table).where(session_table.c.token_hash == _hash_token(token)))
