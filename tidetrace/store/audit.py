"""The audit log: an append-only, hash-chained record of every change made through tidetrace.

Each entry's hash covers its content and the previous entry's hash, so editing, removing
or reordering an entry breaks the chain at that point, which :func:`verify_chain` names.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from tidetrace.store.entities import utc_now
from tidetrace.store.tables import audit_table

GENESIS = "0" * 64


def _entry_hash(
    seq: int, at: str, actor: str, action: str, target: str | None, detail: str | None, prev: str
) -> str:
    body = json.dumps(
        [seq, at, actor, action, target, detail, prev], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    conn: Connection,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append an entry inside the caller's transaction; returns its sequence number."""
    if conn.dialect.name == "postgresql":
        # Two writers must not both read the same head and append after it.
        conn.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    head = conn.execute(
        select(audit_table.c.seq, audit_table.c.hash).order_by(audit_table.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (head[0] + 1, head[1]) if head is not None else (1, GENESIS)
    at = utc_now()
    detail_text = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
    digest = _entry_hash(seq, at, actor, action, target, detail_text, prev)
    conn.execute(
        audit_table.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            detail=detail_text,
            prev_hash=prev,
            hash=digest,
        )
    )
    return seq


@dataclass
class ChainProblem:
    """Where the chain breaks and why."""

    seq: int
    reason: str


def verify_chain(engine: Engine) -> tuple[int, list[ChainProblem]]:
    """Recompute the whole chain; returns the entry count and every problem found."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected = 1
    count = 0
    with engine.connect() as conn:
        for row in conn.execute(select(audit_table).order_by(audit_table.c.seq)):
            count += 1
            if row.seq != expected:
                problems.append(ChainProblem(row.seq, f"expected entry {expected} here"))
            if row.prev_hash != prev:
                problems.append(ChainProblem(row.seq, "does not follow the entry before it"))
            digest = _entry_hash(
                row.seq, row.at, row.actor, row.action, row.target, row.detail, row.prev_hash
            )
            if digest != row.hash:
                problems.append(ChainProblem(row.seq, "content does not match its hash"))
            prev = row.hash
            expected = row.seq + 1
    return count, problems
