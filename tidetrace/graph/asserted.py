"""Asserted edges: supply and control relationships that a document states.

Trade records show goods moving; everything else the store knows about who supplies whom
is an assertion from a document: the investigation's ``SupplyLink`` edges, FtM
``Ownership`` and ``UnknownLink`` records, a registry's facility operator. Each becomes an
:class:`AssertedEdge` that keeps its own source, confidence and period, and is never
merged with an observed edge between the same parties.

Edges point the way goods (or exposure) travel:

================ =============================== ============ =====================
schema           edge                            relation     default confidence
================ =============================== ============ =====================
``SupplyLink``   supplier → customer             its relation its ``confidence``/0.5
``Ownership``    asset → owner                   ``owned_by`` 0.9
``UnknownLink``  subject → object                its role     0.3
``Facility``     facility → operator             operated_by  0.9
================ =============================== ============ =====================

An owner does not receive goods, but a buyer's parent is exposed through it, so ownership
edges are followed with no tonnage. A ``SupplyLink`` whose relation is certification or
audit (:data:`NOT_SUPPLY`) is not an edge: the certifier handles no goods.
"""

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from tidetrace.store.tables import statement_table

__all__ = ["AssertedEdge", "load_asserted", "parse_period"]

LINK_SCHEMATA = ("SupplyLink", "Ownership", "UnknownLink")
# Relations that link parties without goods passing between them: a certifier or auditor
# is not a supplier of the plant it certifies, so these are not graph edges.
NOT_SUPPLY = frozenset({"certified", "audited", "certifies", "audits"})
DEFAULT_CONFIDENCE = {"SupplyLink": 0.5, "Ownership": 0.9, "UnknownLink": 0.3, "Facility": 0.9}
# Properties of link entities read for edges (entity-typed and descriptive).
_LINK_PROPS = (
    "supplier",
    "customer",
    "owner",
    "asset",
    "subject",
    "object",
    "relation",
    "role",
    "basis",
    "confidence",
    "period",
    "description",
    "startDate",
    "endDate",
    "sourceUrl",
    "publisher",
)


@dataclass
class AssertedEdge:
    """One document's statement that goods (or control) pass from ``src`` to ``dst``.

    Attributes:
        id: the link entity's id (or ``<facility>:operator`` for a facility's operator).
        src: entity id the goods come from (mapped to its canonical id by the build).
        dst: entity id they go to.
        relation: as the source words it (``supplied``, ``shipped_to``, ``owned_by`` …).
        schema: the FtM schema the edge came from.
        confidence: 0-1, how sure the source makes the link.
        datasets: datasets the link entity's statements come from.
        description: the source's own words, when given.
        period: the period as written ("since 2017").
        start: first day the link holds, parsed from dates or the period; None if open.
        end: last day the link holds; None if open.
        basis: ``asserted`` unless the link entity says otherwise.
        carries_goods: False for ownership, which exposes a parent without moving goods.
    """

    id: str
    src: str
    dst: str
    relation: str
    schema: str
    confidence: float
    datasets: list[str] = field(default_factory=list)
    description: str | None = None
    period: str | None = None
    start: date | None = None
    end: date | None = None
    basis: str = "asserted"
    carries_goods: bool = True

    def overlaps(self, since: date | None, until: date | None) -> bool:
        """Whether the link may hold at some time in [since, until] (open ends match)."""
        if since is not None and self.end is not None and self.end < since:
            return False
        return not (until is not None and self.start is not None and self.start > until)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (dates as ISO strings)."""
        data = asdict(self)
        data["start"] = self.start.isoformat() if self.start else None
        data["end"] = self.end.isoformat() if self.end else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AssertedEdge":
        """The inverse of :meth:`to_dict`."""
        data = dict(data)
        for key in ("start", "end"):
            data[key] = date.fromisoformat(data[key]) if data.get(key) else None
        return cls(**data)


_YEAR = r"(19\d{2}|20\d{2})"
_SINCE = re.compile(rf"\b(?:since|from|after)\s+{_YEAR}\b", re.IGNORECASE)
_UNTIL = re.compile(rf"\b(?:until|till|to|before)\s+{_YEAR}\b", re.IGNORECASE)
_RANGE = re.compile(rf"^\s*{_YEAR}\s*[-–]\s*{_YEAR}\b")
_SINGLE = re.compile(rf"^\s*{_YEAR}\s*$")


def parse_period(text: str | None) -> tuple[date | None, date | None]:
    """First and last day of a period written by a source, when it is one we can read.

    Reads "since 2017", "until 2021 per …", "2023-2024" and "2022"; anything else is an
    open period (the link is kept in every time window and its period shown as written).

    Args:
        text: the period as written.

    Returns:
        (start, end), each None when open or unreadable.
    """
    if not text:
        return None, None
    if (m := _RANGE.match(text)) is not None:
        return date(int(m.group(1)), 1, 1), date(int(m.group(2)), 12, 31)
    if (m := _SINGLE.match(text)) is not None:
        year = int(m.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    start = end = None
    if (m := _SINCE.search(text)) is not None:
        start = date(int(m.group(1)), 1, 1)
    if (m := _UNTIL.search(text)) is not None:
        end = date(int(m.group(1)), 12, 31)
    return start, end


def _iso(value: str | None) -> date | None:
    if not value:
        return None
    # FtM dates may be partial (2021, 2021-06): the link holds from the period's first day.
    parts = value[:10].split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2]) if len(parts) > 2 else 1
        return date(year, month, day)
    except (ValueError, IndexError):
        return None


def _confidence(values: list[str], schema: str) -> float:
    for value in values:
        try:
            number = float(value)
        except ValueError:
            continue
        if 0.0 <= number <= 1.0:
            return number
    return DEFAULT_CONFIDENCE[schema]


def load_asserted(engine: Engine) -> list[AssertedEdge]:
    """Every asserted edge in the entity store (ids as stored, not yet canonical).

    Args:
        engine: the app database.

    Returns:
        The edges, sorted by id.
    """
    props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    schemata: dict[str, str] = {}
    datasets: dict[str, set[str]] = defaultdict(set)
    query = select(
        statement_table.c.canonical_id,
        statement_table.c.schema,
        statement_table.c.prop,
        statement_table.c.value,
        statement_table.c.dataset,
    ).where(
        statement_table.c.schema.in_(LINK_SCHEMATA),
        statement_table.c.prop.in_(_LINK_PROPS),
    )
    operators = select(
        statement_table.c.canonical_id,
        statement_table.c.value,
        statement_table.c.dataset,
    ).where(statement_table.c.schema == "Facility", statement_table.c.prop == "operator")
    edges: list[AssertedEdge] = []
    with engine.connect() as conn:
        for row in conn.execute(query.order_by(statement_table.c.value)):
            props[row.canonical_id][row.prop].append(row.value)
            schemata[row.canonical_id] = row.schema
            datasets[row.canonical_id].add(row.dataset)
        for op in conn.execute(operators):
            edges.append(
                AssertedEdge(
                    id=f"{op.canonical_id}:operator:{op.value}",
                    src=op.canonical_id,
                    dst=op.value,
                    relation="operated_by",
                    schema="Facility",
                    confidence=DEFAULT_CONFIDENCE["Facility"],
                    datasets=[op.dataset],
                )
            )
    for link_id, values in props.items():
        schema = schemata[link_id]
        if schema == "SupplyLink":
            pairs = [(s, c) for s in values["supplier"] for c in values["customer"]]
            relation = values["relation"][0] if values["relation"] else "supplies"
            if relation.lower() in NOT_SUPPLY:
                continue
        elif schema == "Ownership":
            pairs = [(a, o) for a in values["asset"] for o in values["owner"]]
            relation = "owned_by"
        else:
            pairs = [(s, o) for s in values["subject"] for o in values["object"]]
            relation = values["role"][0] if values["role"] else "linked"
        period = values["period"][0] if values["period"] else None
        start, end = parse_period(period)
        start = _iso(min(values["startDate"], default=None)) or start
        end = _iso(max(values["endDate"], default=None)) or end
        basis = values["basis"][0] if values["basis"] else "asserted"
        for src, dst in pairs:
            if src == dst:
                continue
            edges.append(
                AssertedEdge(
                    id=link_id if len(pairs) == 1 else f"{link_id}:{src}:{dst}",
                    src=src,
                    dst=dst,
                    relation=relation,
                    schema=schema,
                    confidence=_confidence(values["confidence"], schema),
                    datasets=sorted(datasets[link_id]),
                    description=values["description"][0] if values["description"] else None,
                    period=period,
                    start=start,
                    end=end,
                    basis=basis,
                    carries_goods=schema != "Ownership",
                )
            )
    edges.sort(key=lambda e: e.id)
    return edges
