"""Flags: why an entity is a source of risk, since when, and on what evidence.

An entity is flagged by

* a list hit: a UN Security Council 1718 listing (regime ``DPRK``, reference numbers
  ``KPi.*``/``KPe.*``) or an OFAC ``DPRK*`` programme, found on the ``Sanction`` entities in
  the store (refreshed by every graph build);
* the UFLPA Entity List or a CBP Withhold Release Order, when an investigator imports one
  (:func:`import_watchlist`; the CSV layout is :data:`WATCHLIST_HEADER`);
* an investigator's finding with evidence (:func:`add_flag`, ``tidetrace flag``).

Every change is one transaction with an audit-log entry. Flags are kept on the id they were
given and read back through the canonical id, so a flag survives entity resolution merging
its entity into another.
"""

import csv
import hashlib
import json
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, select, update

from tidetrace.exc import InputError, NotFoundError
from tidetrace.graph.tables import flag_table
from tidetrace.model import model
from tidetrace.store import audit
from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore, utc_now
from tidetrace.store.tables import statement_table

__all__ = [
    "WATCHLIST_HEADER",
    "Flag",
    "FlagIndex",
    "WatchlistResult",
    "add_flag",
    "canonical_ids",
    "import_watchlist",
    "list_flags",
    "load_flag_index",
    "refresh_list_flags",
    "revoke_flag",
]

# The regime key of the UN 1718 list and OFAC's DPRK programmes (DPRK, DPRK2, DPRK3 …).
_DPRK = re.compile(r"\bDPRK", re.IGNORECASE)
_KP_REFERENCE = re.compile(r"^KP[ei]\.", re.IGNORECASE)
_SANCTION_PROPS = (
    "entity",
    "program",
    "programId",
    "authority",
    "authorityId",
    "unscId",
    "listingDate",
    "startDate",
)
MAX_REASON = 2000
MAX_EVIDENCE = 50


@dataclass
class Flag:
    """One flag on one entity.

    Attributes:
        id: database id.
        entity_id: the entity as flagged.
        kind: ``finding``, ``list``, ``uflpa``, ``wro`` or ``computed``.
        reason: why, in one line or a paragraph.
        evidence: references to evidence (URLs, vault ids, file names).
        since: the day the flag applies from (None: always).
        source: what raised it (sanction id, list row, finding id).
        created_by: who (a user name, or ``build`` for list hits).
        created_at: when.
        revoked_at: when withdrawn, or None while it stands.
        revoked_by: who withdrew it.
        revoke_reason: why it was withdrawn.
    """

    id: int
    entity_id: str
    kind: str
    reason: str
    evidence: list[str] = field(default_factory=list)
    since: date | None = None
    source: str = ""
    created_by: str = ""
    created_at: str = ""
    revoked_at: str | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    @property
    def active(self) -> bool:
        """Whether the flag stands (not revoked)."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.id,
            "entity_id": self.entity_id,
            "kind": self.kind,
            "reason": self.reason,
            "evidence": self.evidence,
            "since": self.since.isoformat() if self.since else None,
            "source": self.source,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
            "revoke_reason": self.revoke_reason,
        }


def _row_flag(row: Any) -> Flag:
    return Flag(
        id=row.id,
        entity_id=row.entity_id,
        kind=row.kind,
        reason=row.reason,
        evidence=json.loads(row.evidence) if row.evidence else [],
        since=date.fromisoformat(row.since) if row.since else None,
        source=row.source,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
    )


def canonical_ids(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """The canonical id of each id the store knows (source or canonical); others are absent."""
    out: dict[str, str] = {}
    id_list = sorted(set(ids))
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        rows = conn.execute(
            select(statement_table.c.entity_id, statement_table.c.canonical_id)
            .where(statement_table.c.entity_id.in_(chunk))
            .distinct()
        )
        for row in rows:
            out[row.entity_id] = row.canonical_id
        rows = conn.execute(
            select(statement_table.c.canonical_id)
            .where(statement_table.c.canonical_id.in_(chunk))
            .distinct()
        )
        for row in rows:
            out.setdefault(row.canonical_id, row.canonical_id)
    return out


def add_flag(
    engine: Engine,
    entity_id: str,
    reason: str,
    *,
    evidence: Iterable[str] = (),
    since: date | None = None,
    actor: str = "cli",
    kind: str = "finding",
) -> Flag:
    """Flag an entity on an investigator's finding.

    Args:
        engine: the app database.
        entity_id: the entity (a store id or a trade party id from the graph).
        reason: why; required, at most 2,000 characters.
        evidence: references to the evidence (URLs, vault item ids, file names).
        since: the day the finding applies from; trade before it is reported separately.
        actor: who flags, for the record and the audit log.
        kind: ``finding`` (the risk work may add ``computed``).

    Returns:
        The new flag.

    Raises:
        InputError: empty or over-long reason, too many evidence items.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise InputError("--reason", "a flag needs a reason")
    if len(reason) > MAX_REASON:
        raise InputError("--reason", f"longer than {MAX_REASON} characters")
    items = [e.strip() for e in evidence if e.strip()]
    if len(items) > MAX_EVIDENCE:
        raise InputError("--evidence", f"more than {MAX_EVIDENCE} items")
    values = {
        "entity_id": entity_id,
        "kind": kind,
        "reason": reason,
        "evidence": json.dumps(items, ensure_ascii=False) if items else None,
        "since": since.isoformat() if since else None,
        "source": f"{kind}:{secrets.token_hex(8)}",
        "created_by": actor,
        "created_at": utc_now(),
    }
    with engine.begin() as conn:
        result = conn.execute(flag_table.insert().values(**values))
        flag_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        audit.append(
            conn,
            actor,
            "flag.add",
            entity_id,
            {"flag": flag_id, "kind": kind, "since": values["since"], "evidence": len(items)},
        )
    return Flag(id=flag_id, **{**values, "evidence": items, "since": since})  # type: ignore[arg-type]


def revoke_flag(engine: Engine, flag_id: int, reason: str, actor: str = "cli") -> Flag:
    """Withdraw a flag; it stays on record with who withdrew it and why.

    Raises:
        NotFoundError: no such flag, or it is already withdrawn.
        InputError: no reason given.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise InputError("--reason", "say why the flag is withdrawn")
    with engine.begin() as conn:
        row = conn.execute(select(flag_table).where(flag_table.c.id == flag_id)).first()
        if row is None or row.revoked_at is not None:
            raise NotFoundError(f"no standing flag {flag_id}")
        now = utc_now()
        conn.execute(
            update(flag_table)
            .where(flag_table.c.id == flag_id)
            .values(revoked_at=now, revoked_by=actor, revoke_reason=reason[:MAX_REASON])
        )
        audit.append(conn, actor, "flag.revoke", row.entity_id, {"flag": flag_id})
        row = conn.execute(select(flag_table).where(flag_table.c.id == flag_id)).one()
    return _row_flag(row)


def list_flags(
    engine: Engine,
    entity_ids: Iterable[str] | None = None,
    kind: str | None = None,
    include_revoked: bool = False,
) -> list[Flag]:
    """Flags, newest first; filtered by entity (any of its ids) and kind."""
    query = select(flag_table).order_by(flag_table.c.id.desc())
    if kind is not None:
        query = query.where(flag_table.c.kind == kind)
    if not include_revoked:
        query = query.where(flag_table.c.revoked_at.is_(None))
    with engine.connect() as conn:
        if entity_ids is not None:
            wanted = set(entity_ids)
            canon = canonical_ids(conn, wanted)
            targets = {canon.get(i, i) for i in wanted}
            rows = list(conn.execute(query))
            flagged = canonical_ids(conn, {r.entity_id for r in rows})
            return [_row_flag(r) for r in rows if flagged.get(r.entity_id, r.entity_id) in targets]
        return [_row_flag(r) for r in conn.execute(query)]


@dataclass
class FlagIndex:
    """Standing flags by canonical entity id, for tracing."""

    by_entity: dict[str, list[Flag]] = field(default_factory=dict)

    def get(self, entity_id: str) -> list[Flag]:
        """Standing flags of an entity (canonical id)."""
        return self.by_entity.get(entity_id, [])

    def since(self, entity_id: str) -> date | None:
        """The earliest day any standing flag of the entity applies from.

        None when a flag applies at all times or there is no flag; use :meth:`get` to tell
        the two apart.
        """
        flags = self.get(entity_id)
        if not flags or any(f.since is None for f in flags):
            return None
        return min(f.since for f in flags if f.since is not None)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.by_entity


def load_flag_index(engine: Engine) -> FlagIndex:
    """Every standing flag, keyed by the canonical id of its entity."""
    with engine.connect() as conn:
        rows = list(conn.execute(select(flag_table).where(flag_table.c.revoked_at.is_(None))))
        canon = canonical_ids(conn, {r.entity_id for r in rows})
    index: dict[str, list[Flag]] = defaultdict(list)
    for row in rows:
        index[canon.get(row.entity_id, row.entity_id)].append(_row_flag(row))
    return FlagIndex(dict(index))


# -- list hits ----------------------------------------------------------------------------------


def _list_hits(conn: Connection) -> Iterator[dict[str, Any]]:
    props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    query = select(
        statement_table.c.canonical_id, statement_table.c.prop, statement_table.c.value
    ).where(
        statement_table.c.schema == "Sanction",
        statement_table.c.prop.in_(_SANCTION_PROPS),
    )
    for row in conn.execute(query.order_by(statement_table.c.value)):
        props[row.canonical_id][row.prop].append(row.value)
    for sanction_id, values in props.items():
        programs = values["program"] + values["programId"]
        refs = values["unscId"] + values["authorityId"]
        hit = any(_DPRK.search(p) for p in programs) or any(_KP_REFERENCE.match(r) for r in refs)
        if not hit:
            continue
        authority = values["authority"][0] if values["authority"] else "Sanctions list"
        program = ", ".join(sorted(set(values["program"]))) or "DPRK"
        ref = next((r for r in refs if _KP_REFERENCE.match(r)), refs[0] if refs else None)
        reason = f"{authority}: {program}" + (f" ({ref})" if ref else "")
        listed = min(values["listingDate"] + values["startDate"], default=None)
        for entity_id in values["entity"]:
            yield {
                "entity_id": entity_id,
                "source": sanction_id,
                "reason": reason,
                "since": listed[:10] if listed and len(listed) >= 10 else None,
            }


def refresh_list_flags(conn: Connection, actor: str = "build") -> tuple[int, int]:
    """Bring ``list`` flags in line with the DPRK sanctions in the store.

    Runs in the caller's transaction. A listing that disappeared from the store loses its
    flag (the row is deleted: the list, not a person, withdrew it).

    Returns:
        (flags added, flags removed).
    """
    wanted = {(h["source"], h["entity_id"]): h for h in _list_hits(conn)}
    existing = {
        (r.source, r.entity_id): r
        for r in conn.execute(select(flag_table).where(flag_table.c.kind == "list"))
    }
    now = utc_now()
    added = 0
    for key, hit in wanted.items():
        row = existing.get(key)
        if row is None:
            conn.execute(
                flag_table.insert().values(
                    kind="list", created_by=actor, created_at=now, evidence=None, **hit
                )
            )
            added += 1
        elif row.reason != hit["reason"] or row.since != hit["since"]:
            conn.execute(
                update(flag_table)
                .where(flag_table.c.id == row.id)
                .values(reason=hit["reason"], since=hit["since"])
            )
    gone = [r.id for key, r in existing.items() if key not in wanted]
    for start in range(0, len(gone), 500):
        conn.execute(delete(flag_table).where(flag_table.c.id.in_(gone[start : start + 500])))
    if added or gone:
        audit.append(conn, actor, "flag.list_refresh", None, {"added": added, "removed": len(gone)})
    return added, len(gone)


# -- UFLPA Entity List and CBP Withhold Release Orders --------------------------------------------

WATCHLIST_HEADER = (
    "name",
    "aliases",
    "country",
    "address",
    "identifier",
    "since",
    "reference",
    "merchandise",
    "url",
)
WATCHLISTS = {
    "uflpa": DatasetInfo(
        name="uflpa_entity_list",
        title="UFLPA Entity List (as imported)",
        publisher="US Department of Homeland Security, Forced Labor Enforcement Task Force",
        url="https://www.dhs.gov/uflpa-entity-list",
        licence="US Government work, public domain",
    ),
    "wro": DatasetInfo(
        name="cbp_wro",
        title="CBP Withhold Release Orders and Findings (as imported)",
        publisher="US Customs and Border Protection",
        url="https://www.cbp.gov/newsroom/stats/trade/withhold-release-orders-and-findings",
        licence="US Government work, public domain",
    ),
}
WATCHLIST_REASON = {
    "uflpa": "UFLPA Entity List",
    "wro": "CBP Withhold Release Order",
}


@dataclass
class WatchlistResult:
    """What a watchlist import did."""

    kind: str
    entities: int = 0
    added: int = 0
    withdrawn: int = 0

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"{self.kind}: {self.entities} listed entities, {self.added} new flags, "
            f"{self.withdrawn} withdrawn (no longer listed)"
        )


def _watchlist_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            if "name" not in header:
                raise InputError(
                    path,
                    f"expected a header with at least 'name' ({', '.join(WATCHLIST_HEADER)})",
                    line=1,
                )
            unknown = [h for h in header if h not in WATCHLIST_HEADER]
            if unknown:
                raise InputError(path, f"unknown columns: {', '.join(unknown)}", line=1)
            reader.fieldnames = header
            for row in reader:
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                if not any(clean.values()):
                    continue
                yield reader.line_num, clean
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8: {exc.reason}") from None
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}") from None


def _parse_since(path: Path, line: int, value: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise InputError(path, f"not an ISO date: {value[:40]!r}", line, "since") from None


def import_watchlist(engine: Engine, path: Path, kind: str, actor: str = "cli") -> WatchlistResult:
    """Import the UFLPA Entity List or CBP WROs from a CSV and flag every listed entity.

    The CSV has the header :data:`WATCHLIST_HEADER` (only ``name`` required; ``aliases``
    separated by ``;``; ``since`` an ISO date). Listed entities go into the store as
    ``Company`` entities of their own dataset, so entity resolution can link them to trade
    parties; each gets a flag of ``kind``. A re-import withdraws flags of entities no longer
    listed. Nothing is written unless the whole file is good.

    Raises:
        InputError: the file, row and field at fault.
    """
    if kind not in WATCHLISTS:
        raise InputError("--list", f"unknown list {kind!r}; choose uflpa or wro")
    info = WATCHLISTS[kind]
    entities = []
    hits: dict[str, dict[str, Any]] = {}
    for line, row in _watchlist_rows(path):
        if not row.get("name"):
            raise InputError(path, "name is required", line, "name")
        since = _parse_since(path, line, row.get("since", ""))
        key = f"{row['name'].casefold()}|{row.get('country', '').casefold()}"
        digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
        entity = model.make_entity("Company")
        entity.id = f"{kind}-{digest}"
        entity.add("name", row["name"])
        entity.add("alias", [a.strip() for a in row.get("aliases", "").split(";") if a.strip()])
        entity.add("country", row.get("country") or None, quiet=True)
        entity.add("address", row.get("address") or None)
        entity.add("registrationNumber", row.get("identifier") or None)
        entity.add("sourceUrl", row.get("url") or None, quiet=True)
        entity.add("topics", "export.risk")
        entities.append(entity)
        reason = WATCHLIST_REASON[kind]
        if row.get("reference"):
            reason += f" ({row['reference']})"
        if row.get("merchandise"):
            reason += f": {row['merchandise']}"
        hits[entity.id] = {
            "reason": reason[:MAX_REASON],
            "since": since,
            "evidence": json.dumps([row["url"]]) if row.get("url") else None,
        }
    result = WatchlistResult(kind=kind, entities=len(entities))
    store = EntityStore(engine)
    now = utc_now()
    with store.writer() as writer:
        writer.add_dataset(info)
        for entity in entities:
            writer.add_entity(entity, info.name, origin=path.name)
        writer.flush()
        conn = writer.conn
        existing = {
            r.entity_id: r
            for r in conn.execute(
                select(flag_table).where(
                    and_(flag_table.c.kind == kind, flag_table.c.revoked_at.is_(None))
                )
            )
        }
        for entity_id, hit in hits.items():
            current = existing.get(entity_id)
            if current is None:
                conn.execute(
                    flag_table.insert().values(
                        entity_id=entity_id,
                        kind=kind,
                        source=f"{kind}:{entity_id}:{now}",
                        created_by=actor,
                        created_at=now,
                        **hit,
                    )
                )
                result.added += 1
            else:
                conn.execute(update(flag_table).where(flag_table.c.id == current.id).values(**hit))
        for entity_id, stale in existing.items():
            if entity_id not in hits:
                conn.execute(
                    update(flag_table)
                    .where(flag_table.c.id == stale.id)
                    .values(revoked_at=now, revoked_by=actor, revoke_reason="no longer listed")
                )
                result.withdrawn += 1
        audit.append(
            conn,
            actor,
            f"flag.import_{kind}",
            info.name,
            {"file": path.name, "entities": result.entities, "added": result.added},
        )
    return result
