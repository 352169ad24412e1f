"""Who may submit to a case: its members, and the intermediaries (``field``) assigned to it.

An assignment lets a field user seal submissions to the case's intake key; it gives no key
that opens anything, so a field user never reads a testimony, theirs or anyone else's.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, select

from tidetrace.auth.roles import Role
from tidetrace.auth.users import User
from tidetrace.exc import NotFoundError, PermissionDenied, TidetraceError
from tidetrace.store import audit
from tidetrace.store.tables import user_table
from tidetrace.vault.cases import CaseKeyring, is_member
from tidetrace.vault.crypto import day_now
from tidetrace.vault.keys import UnlockedUser

from .sealing import ensure_intake_key
from .tables import assignment_table

__all__ = ["Assignment", "assign", "assigned_cases", "assignments", "check_submitter", "unassign"]

NO_CASE = "no case {case!r} among yours"


@dataclass(frozen=True)
class Assignment:
    """A field user assigned to a case."""

    case_id: str
    user: str
    day: str


def _field_user(conn: Connection, name: str) -> tuple[int, str]:
    row = conn.execute(
        select(user_table.c.id, user_table.c.name, user_table.c.role).where(
            user_table.c.name == name.strip().lower(), user_table.c.active.is_(True)
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    if row.role != Role.FIELD.value:
        raise TidetraceError(
            f"{row.name} is an {row.role}: only field users are assigned; "
            "investigators join the case as members"
        )
    return row.id, row.name


def assign(engine: Engine, actor: UnlockedUser, keyring: CaseKeyring, name: str) -> Assignment:
    """Let field user ``name`` submit to the case (a member's act, on the audit log)."""
    today = day_now()
    with engine.begin() as conn:
        user_id, clean = _field_user(conn, name)
        ensure_intake_key(conn, keyring)
        exists = conn.execute(
            select(assignment_table.c.user_id).where(
                assignment_table.c.case_id == keyring.case_id,
                assignment_table.c.user_id == user_id,
            )
        ).first()
        if exists is None:
            conn.execute(
                assignment_table.insert().values(
                    case_id=keyring.case_id, user_id=user_id, assigned_day=today
                )
            )
            audit.append(conn, actor.name, "intake.assign", keyring.case_id, {"user": clean})
    return Assignment(keyring.case_id, clean, today)


def unassign(engine: Engine, actor: UnlockedUser, keyring: CaseKeyring, name: str) -> None:
    """Stop field user ``name`` from submitting to the case."""
    with engine.begin() as conn:
        user_id, clean = _field_user(conn, name)
        conn.execute(
            delete(assignment_table).where(
                assignment_table.c.case_id == keyring.case_id,
                assignment_table.c.user_id == user_id,
            )
        )
        audit.append(conn, actor.name, "intake.unassign", keyring.case_id, {"user": clean})


def assignments(conn: Connection, case_id: str) -> list[Assignment]:
    """The field users assigned to a case."""
    rows = conn.execute(
        select(user_table.c.name, assignment_table.c.assigned_day)
        .join(user_table, user_table.c.id == assignment_table.c.user_id)
        .where(assignment_table.c.case_id == case_id)
        .order_by(user_table.c.name)
    )
    return [Assignment(case_id, r.name, r.assigned_day) for r in rows]


def assigned_cases(conn: Connection, user_id: int) -> list[str]:
    """Ids of the cases a field user may submit to."""
    rows = conn.execute(
        select(assignment_table.c.case_id)
        .where(assignment_table.c.user_id == user_id)
        .order_by(assignment_table.c.case_id)
    )
    return [r.case_id for r in rows]


def check_submitter(conn: Connection, case_id: str, user: User) -> None:
    """Refuse unless ``user`` may submit to ``case_id``.

    Non-members learn nothing, not even whether the case exists.

    Raises:
        NotFoundError: not a member of the case and not assigned to it.
        PermissionDenied: a role that never submits (analyst, public).
    """
    if user.role in (Role.ANALYST, Role.PUBLIC):
        raise PermissionDenied(f"your role ({user.role.value}) does not submit testimonies")
    if user.role == Role.FIELD:
        if case_id in assigned_cases(conn, user.id):
            return
    elif is_member(conn, case_id, user.id):
        return
    raise NotFoundError(NO_CASE.format(case=case_id))
