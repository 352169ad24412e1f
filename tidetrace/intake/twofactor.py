"""TOTP second factor (RFC 6238, pyotp) for the roles that read testimonies and tips.

The shared secret is sealed to the user's own X25519 public key (the vault's user keys),
so it can only be checked by a process that has unlocked those keys with the user's
password: a database dump holds no usable TOTP secret, and the second factor cannot be
checked — or skipped — without the first. Each accepted code's time step is remembered
and never accepted again.

A passed check is a :class:`SecondFactor`. The web app binds it to the login session in
this process's memory (like the vault's unlocked keys, so a restart asks again); a CLI
command gets one from ``--code``. Functions that read testimonies require one.
"""

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pyotp
from sqlalchemy import Engine, delete, select, update

from tidetrace.auth.roles import TWO_FACTOR_ROLES, Role
from tidetrace.auth.users import User
from tidetrace.exc import PermissionDenied, TidetraceError
from tidetrace.settings import get_settings
from tidetrace.store import audit
from tidetrace.vault.crypto import day_now
from tidetrace.vault.keys import UnlockedUser

from .sealing import open_box, seal_box
from .tables import totp_table

__all__ = [
    "SecondFactor",
    "SecondFactorRequired",
    "enrol",
    "forget_session",
    "is_enrolled",
    "mark_session",
    "new_secret",
    "next_after_login",
    "provisioning_uri",
    "require_factor",
    "reset",
    "session_factor",
    "verify",
]

ISSUER = "tidetrace"
STEP = 30
# One step either side: phones drift; replay is stopped by the remembered step instead.
WINDOW = 1
BAD_CODE = "wrong or already used code"
# The clock codes are checked against (tests move it on by whole steps).
clock: Callable[[], float] = time.time
TWO_FACTOR_PATH = "/intake/2fa"


class SecondFactorRequired(TidetraceError):
    """The action needs a passed TOTP check in this session (or ``--code`` on the CLI)."""

    STATUS = 401


@dataclass(frozen=True)
class SecondFactor:
    """Proof that ``user_id`` passed a TOTP check (in this session, or this command)."""

    user_id: int
    step: int


def new_secret() -> str:
    """A fresh 160-bit TOTP secret in base32."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, name: str) -> str:
    """The ``otpauth://`` URI an authenticator app imports (typed or scanned)."""
    return pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=name, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, after: int) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    now = int(clock()) // STEP
    for step in range(now - WINDOW, now + WINDOW + 1):
        if step > after and pyotp.utils.strings_equal(totp.at(step * STEP), code):
            return step
    return None


def is_enrolled(engine: Engine, user_id: int) -> bool:
    """Whether the user has a second factor."""
    with engine.connect() as conn:
        row = conn.execute(
            select(totp_table.c.user_id).where(totp_table.c.user_id == user_id)
        ).first()
    return row is not None


def enrol(engine: Engine, unlocked: UnlockedUser, secret: str, code: str) -> SecondFactor:
    """Store ``secret`` as the user's second factor once ``code`` proves the app has it.

    Raises:
        TidetraceError: already enrolled (an admin resets it first), or a wrong code.
    """
    if is_enrolled(engine, unlocked.user.id):
        raise TidetraceError("a second factor is enrolled already; an admin can reset it")
    step = _matching_step(secret, code, 0)
    if step is None:
        raise TidetraceError(BAD_CODE)
    sealed = seal_box(secret.encode("ascii"), bytes(unlocked.box_key.public_key))
    with engine.begin() as conn:
        conn.execute(
            totp_table.insert().values(
                user_id=unlocked.user.id,
                sealed_secret=sealed,
                enrolled_day=day_now(),
                last_step=step,
            )
        )
        audit.append(conn, unlocked.name, "intake.2fa.enrol", unlocked.name)
    return SecondFactor(unlocked.user.id, step)


def verify(engine: Engine, unlocked: UnlockedUser, code: str) -> SecondFactor:
    """Check a code against the user's sealed secret; each code works once.

    Raises:
        SecondFactorRequired: not enrolled yet.
        PermissionDenied: a wrong or replayed code.
    """
    with engine.connect() as conn:
        row = conn.execute(
            select(totp_table).where(totp_table.c.user_id == unlocked.user.id)
        ).first()
    if row is None:
        raise SecondFactorRequired(
            "enrol a second factor first (tidetrace totp enrol, or /intake/2fa)"
        )
    secret = open_box(unlocked.box_key, row.sealed_secret).decode("ascii")
    step = _matching_step(secret, code, row.last_step)
    if step is None:
        raise PermissionDenied(BAD_CODE)
    with engine.begin() as conn:
        # Compare-and-set: two requests racing with one code cannot both pass.
        done = conn.execute(
            update(totp_table)
            .where(totp_table.c.user_id == unlocked.user.id, totp_table.c.last_step < step)
            .values(last_step=step)
        )
    if done.rowcount != 1:
        raise PermissionDenied(BAD_CODE)
    return SecondFactor(unlocked.user.id, step)


def reset(engine: Engine, admin: User, name: str) -> None:
    """Remove a user's second factor (lost phone); they enrol again at their next login.

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    if admin.role != Role.ADMIN:
        raise PermissionDenied("only an admin resets a second factor")
    from tidetrace.auth.users import get_user

    target = get_user(engine, name)
    with engine.begin() as conn:
        conn.execute(delete(totp_table).where(totp_table.c.user_id == target.id))
        audit.append(conn, admin.name, "intake.2fa.reset", target.name)


def require_factor(user: User, factor: SecondFactor | None) -> None:
    """Refuse a testimony or tip read unless a second factor was passed by this user.

    Raises:
        SecondFactorRequired: no (or someone else's) passed check.
    """
    if factor is None or factor.user_id != user.id:
        raise SecondFactorRequired(
            "reading testimonies and tips needs two-factor login: enter your TOTP code"
        )
    if user.role not in TWO_FACTOR_ROLES:
        raise PermissionDenied(f"your role ({user.role.value}) does not read testimonies")


# --- Web sessions -------------------------------------------------------------------------
# A passed check bound to a session, in this process only (as the vault binds unlocked keys).
_sessions: dict[str, tuple[SecondFactor, float]] = {}
_lock = threading.Lock()


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def mark_session(token: str, factor: SecondFactor, hours: int | None = None) -> None:
    """Bind a passed check to a session for its lifetime."""
    lifetime = (hours if hours is not None else get_settings().session_hours) * 3600
    now = time.monotonic()
    with _lock:
        for key in [k for k, (_, expires) in _sessions.items() if expires < now]:
            del _sessions[key]
        _sessions[_token_key(token)] = (factor, now + lifetime)


def session_factor(token: str | None, user: User | None) -> SecondFactor | None:
    """The check passed in this session by ``user``, or None."""
    if not token or user is None:
        return None
    with _lock:
        found = _sessions.get(_token_key(token))
    if found is None or found[1] < time.monotonic() or found[0].user_id != user.id:
        return None
    return found[0]


def forget_session(token: str) -> None:
    """Drop a session's passed check (on logout)."""
    with _lock:
        _sessions.pop(_token_key(token), None)


def next_after_login(user: User, target: str) -> str:
    """Where the login route sends ``user`` next: the second-factor page for roles that
    read testimonies and tips (who can skip it, but then read nothing), else ``target``.
    """
    if user.role in TWO_FACTOR_ROLES:
        return f"{TWO_FACTOR_PATH}?next={quote(target, safe='')}"
    return target
