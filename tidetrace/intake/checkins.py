"""Safety check-ins: was everyone who spoke still safe, weeks after publication?

Each check-in is scheduled for a codename on a day (e.g. two months after publication);
the outcome and notes are sealed under the case key and written on the custody log; the
case page lists check-ins that are overdue.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, update

from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.vault import custody
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import day_now, new_id, now_iso, sha256_hex
from tidetrace.vault.keys import UnlockedUser

from .tables import checkin_table, testimony_table
from .testimony import INTAKE_ROWS

__all__ = ["OUTCOMES", "Checkin", "list_checkins", "overdue", "record", "schedule"]

OUTCOMES = ("safe", "concern", "no-contact", "harmed")


@dataclass(frozen=True)
class Checkin:
    """A check-in, opened.

    Attributes:
        id: its id.
        codename: whom it is for.
        due: the day it is due.
        done: the day it was recorded (None while open).
        outcome: ``safe``, ``concern``, ``no-contact`` or ``harmed`` (None while open).
        note: what was learnt (sealed).
        by: who recorded it.
    """

    id: str
    codename: str
    due: str
    done: str | None
    outcome: str | None
    note: str
    by: str | None

    def is_overdue(self, today: str) -> bool:
        """Open and past its day."""
        return self.done is None and self.due < today


def _context(checkin_id: str) -> tuple[str, str]:
    return ("checkin", checkin_id)


def _parse_day(value: str) -> str:
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise TidetraceError(f"{value!r} is not a day (YYYY-MM-DD)") from None


def schedule(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    codename: str,
    *,
    due: str | None = None,
    in_days: int | None = None,
) -> Checkin:
    """Schedule a check-in for a codename, on ``due`` or ``in_days`` from today.

    Raises:
        TidetraceError: neither or both of ``due``/``in_days``; no testimony with that codename.
    """
    if (due is None) == (in_days is None):
        raise TidetraceError("give the day it is due, or in how many days")
    if in_days is not None:
        if not 1 <= in_days <= 3650:
            raise TidetraceError("a check-in is due in 1 to 3650 days")
        due_day = (datetime.now(UTC).date() + timedelta(days=in_days)).isoformat()
    else:
        due_day = _parse_day(due or "")
    name = codename.strip().lower()
    checkin_id = new_id("ci")
    with engine.begin() as conn:
        known = conn.execute(
            select(testimony_table.c.id).where(
                testimony_table.c.case_id == case.case_id, testimony_table.c.codename == name
            )
        ).first()
        if known is None:
            raise NotFoundError(f"no testimony with codename {name!r} in this case")
        sealed = case.seal_json({"outcome": None, "note": "", "by": None}, *_context(checkin_id))
        conn.execute(
            checkin_table.insert().values(
                id=checkin_id,
                case_id=case.case_id,
                codename=name,
                due_day=due_day,
                done_day=None,
                created_day=day_now(),
                outcome_enc=sealed,
            )
        )
        custody.append(
            conn,
            case,
            actor,
            "amend",
            target=checkin_id,
            refs={INTAKE_ROWS: {checkin_id: sha256_hex(sealed)}},
            details={"kind": "checkin scheduled", "codename": name, "due": due_day},
        )
    return Checkin(checkin_id, name, due_day, None, None, "", None)


def record(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    checkin_id: str,
    outcome: str,
    note: str = "",
) -> Checkin:
    """Record how a check-in went (sealed) and close it.

    Raises:
        TidetraceError: unknown outcome, or the check-in is closed already.
    """
    if outcome not in OUTCOMES:
        raise TidetraceError(f"outcome is one of {', '.join(OUTCOMES)}")
    today = day_now()
    with engine.begin() as conn:
        row = conn.execute(
            select(checkin_table).where(
                checkin_table.c.id == checkin_id, checkin_table.c.case_id == case.case_id
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no check-in {checkin_id!r} in this case")
        if row.done_day is not None:
            raise TidetraceError("this check-in is recorded already; schedule a new one")
        clean = note.strip()[:4000]
        sealed = case.seal_json(
            {"outcome": outcome, "note": clean, "by": actor.name, "at": now_iso()},
            *_context(checkin_id),
        )
        conn.execute(
            update(checkin_table)
            .where(checkin_table.c.id == checkin_id)
            .values(done_day=today, outcome_enc=sealed)
        )
        custody.append(
            conn,
            case,
            actor,
            "amend",
            target=checkin_id,
            refs={INTAKE_ROWS: {checkin_id: sha256_hex(sealed)}},
            details={"kind": "checkin recorded", "codename": row.codename, "outcome": outcome},
        )
    return Checkin(checkin_id, row.codename, row.due_day, today, outcome, clean, actor.name)


def list_checkins(engine: Engine, case: CaseKeyring) -> list[Checkin]:
    """A case's check-ins, by due day (outcomes opened: members only)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(checkin_table)
            .where(checkin_table.c.case_id == case.case_id)
            .order_by(checkin_table.c.due_day, checkin_table.c.codename)
        ).all()
    out = []
    for r in rows:
        body = case.open_json(r.outcome_enc, *_context(r.id))
        out.append(
            Checkin(
                r.id, r.codename, r.due_day, r.done_day, body["outcome"], body["note"], body["by"]
            )
        )
    return out


def overdue(engine: Engine, case_id: str, today: str | None = None) -> list[tuple[str, str, str]]:
    """Open check-ins past their day: (id, codename, due day). No key needed."""
    day = today or day_now()
    with engine.connect() as conn:
        rows = conn.execute(
            select(checkin_table.c.id, checkin_table.c.codename, checkin_table.c.due_day)
            .where(
                checkin_table.c.case_id == case_id,
                checkin_table.c.done_day.is_(None),
                checkin_table.c.due_day < day,
            )
            .order_by(checkin_table.c.due_day)
        ).all()
    return [(r.id, r.codename, r.due_day) for r in rows]
