"""The screening index: every matchable entity, its names analysed once, in memory.

Screening a supplier list and answering ``/match`` both compare a query with candidates
from the facilities registry, the sanctions lists and the graph's trade parties. Names are
analysed by the entity-resolution pipeline (:mod:`tidetrace.resolve`) when the index is
built, so a query costs one analysis plus a few dozen comparisons.

Candidates are found by blocking keys with inverse-document-frequency weights: own words,
the first letters of a folded romanisation (``reungnado`` and ``rungrado`` meet), Chinese
own words, character trigrams of the compact name (typos), identifiers, and, for names
with no own word, places and vocabulary concepts.

The index is rebuilt when the store, the graph or the flags change; the check is one
small query, made at most once per :data:`CHECK_SECONDS`.
"""

import heapq
import itertools
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from tidetrace.graph.build import GraphPaths, store_fingerprint
from tidetrace.graph.flags import FlagIndex, load_flag_index
from tidetrace.graph.tables import flag_table
from tidetrace.model import model
from tidetrace.resolve.features import Prepared, korean_fold, prepare
from tidetrace.resolve.records import Record, from_entity
from tidetrace.store.tables import statement_table
from tidetrace.workspace import Workspace

__all__ = ["CHECK_SECONDS", "IndexEntry", "ScreenIndex", "blocking_keys", "get_index"]

CHECK_SECONDS = 2.0
# Schemata screened: firms, plants, public bodies, vessels, and listed people.
SCHEMATA = ("LegalEntity", "Organization", "Company", "PublicBody", "Facility", "Vessel", "Person")
# Properties kept for display and for records (names, places, identifiers, topics).
PROPS = (
    "name",
    "alias",
    "previousName",
    "weakAlias",
    "country",
    "jurisdiction",
    "nationality",
    "flag",
    "address",
    "city",
    "province",
    "topics",
    "registrationNumber",
    "taxNumber",
    "idNumber",
    "imoNumber",
    "approvalCode",
    "feiNumber",
    "leiCode",
    "mmsi",
    "innCode",
    "birthDate",
)
TRADE_DATASET = "trade_records"
# A key carried by more than this share of entities says little and costs much.
_COMMON_SHARE = 0.05
_COMMON_GRAM_SHARE = 0.001


@dataclass
class IndexEntry:
    """One screened entity.

    Attributes:
        id: canonical id.
        schema: FtM schema.
        caption: display name.
        properties: property values (those in :data:`PROPS`).
        datasets: datasets its statements come from.
        referents: the source ids merged into it.
        first_seen: earliest statement.
        last_seen: latest statement.
        prepared: its analysed record.
        keys: one comparison string per name form (for the cheap first ranking).
    """

    id: str
    schema: str
    caption: str
    properties: dict[str, list[str]]
    datasets: list[str]
    referents: list[str]
    first_seen: str | None
    last_seen: str | None
    prepared: Prepared
    keys: list[str] = field(default_factory=list)

    @property
    def topics(self) -> list[str]:
        """FtM topics of the entity."""
        return self.properties.get("topics", [])


def blocking_keys(prepared: Prepared) -> set[str]:
    """The keys a record is found by (see the module docs)."""
    keys: set[str] = set()
    for form in prepared.forms:
        words = [w for w in form.words if w]
        for word in words:
            keys.add(f"w:{word}")
            folded = korean_fold(word)
            if len(folded) >= 4:
                keys.add(f"f:{folded[:4]}")
        for han in form.han_words:
            keys.add(f"h:{han}")
        compact = form.compact
        for i in range(len(compact) - 2):
            keys.add(f"g:{compact[i : i + 3]}")
        if not words:
            keys.update(f"p:{p}" for p in form.places)
            keys.update(f"c:{c}" for c in form.concepts)
    for ident in prepared.identifiers:
        keys.add(f"i:{ident}")
    return keys


@dataclass
class ScreenIndex:
    """Entities with their analysed names and blocking postings."""

    entries: list[IndexEntry] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=dict)
    flags: FlagIndex = field(default_factory=FlagIndex)
    fingerprint: tuple[Any, ...] = ()
    graph_version: str | None = None
    built_at: float = 0.0
    by_id: dict[str, int] = field(default_factory=dict)
    graph_ids: set[str] = field(default_factory=set)
    datasets: set[str] = field(default_factory=set)

    def add(self, entry: IndexEntry) -> None:
        """Add an entry and its keys."""
        if not entry.keys:
            entry.keys = [
                f.compact or " ".join(t.text for t in f.tokens) for f in entry.prepared.forms
            ]
        idx = len(self.entries)
        self.entries.append(entry)
        self.by_id[entry.id] = idx
        self.datasets.update(entry.datasets)
        for ref in entry.referents:
            self.by_id.setdefault(ref, idx)
        for key in blocking_keys(entry.prepared):
            self.postings.setdefault(key, []).append(idx)

    def candidates(
        self,
        query: Prepared,
        limit: int,
        accept: Callable[[int], bool] | None = None,
    ) -> list[int]:
        """Entry numbers most likely to match ``query``, best first (at most ``limit``).

        Args:
            query: the analysed query.
            limit: how many candidates to return.
            accept: when given, only entries it accepts.
        """
        n = max(1, len(self.entries))
        common = max(1000, int(n * _COMMON_SHARE))
        # Trigrams are many per name: only the rarer ones are worth walking.
        common_gram = max(100, int(n * _COMMON_GRAM_SHARE))
        scores: dict[int, float] = defaultdict(float)
        for key in blocking_keys(query):
            hits = self.postings.get(key)
            if not hits:
                continue
            gram = key.startswith("g:")
            if len(hits) > (common_gram if gram else common) and not key.startswith("i:"):
                continue
            weight = math.log(1 + n / len(hits))
            if gram:
                weight *= 0.3
            elif key.startswith("i:"):
                weight *= 10
            for idx in hits:
                scores[idx] += weight
        if accept is None:
            ordered = heapq.nlargest(limit, scores.items(), key=lambda item: item[1])
        else:
            ordered = sorted(scores.items(), key=lambda item: -item[1])
        ranked = (idx for idx, _score in ordered)
        if accept is not None:
            ranked = (idx for idx in ranked if accept(idx))
        return list(itertools.islice(ranked, limit))


def _record_from_props(
    entity_id: str, schema: str, props: dict[str, list[str]], datasets: list[str]
) -> Record | None:
    proxy = model.make_entity(schema)
    proxy.id = entity_id
    for prop, values in props.items():
        if prop in proxy.schema.properties:
            proxy.add(prop, values, quiet=True, cleaned=True)
    if schema == "Person":
        names = tuple(dict.fromkeys(v for p in ("name", "alias") for v in props.get(p, [])))
        if not names:
            return None
        return Record(entity_id, "Person", names, source=", ".join(datasets))
    return from_entity(proxy, source=", ".join(datasets))


def _load_store(engine: Engine, index: ScreenIndex) -> None:
    query = (
        select(
            statement_table.c.canonical_id,
            statement_table.c.entity_id,
            statement_table.c.schema,
            statement_table.c.prop,
            statement_table.c.value,
            statement_table.c.dataset,
            statement_table.c.first_seen,
            statement_table.c.last_seen,
        )
        .where(
            statement_table.c.schema.in_(_schemata()),
            statement_table.c.prop.in_((*PROPS, "id")),
        )
        .order_by(statement_table.c.canonical_id)
    )
    current: str | None = None
    rows: list[Any] = []

    def flush() -> None:
        if not rows:
            return
        props: dict[str, list[str]] = defaultdict(list)
        datasets: set[str] = set()
        referents: set[str] = set()
        schema = rows[0].schema
        for row in rows:
            datasets.add(row.dataset)
            referents.add(row.entity_id)
            if row.prop != "id" and row.value not in props[row.prop]:
                props[row.prop].append(row.value)
            # Merged entities may mix schemata; the more specific one describes them.
            if row.schema != schema and model.get(row.schema) is not None:
                other = model.get(row.schema)
                if other is not None and other.is_a(schema):
                    schema = row.schema
        record = _record_from_props(rows[0].canonical_id, schema, props, sorted(datasets))
        if record is None:
            return
        names = props.get("name") or list(record.names)
        index.add(
            IndexEntry(
                id=rows[0].canonical_id,
                schema=schema,
                caption=names[0],
                properties=dict(props),
                datasets=sorted(datasets),
                referents=sorted(referents - {rows[0].canonical_id}),
                first_seen=min(r.first_seen for r in rows),
                last_seen=max(r.last_seen for r in rows),
                prepared=prepare(record),
            )
        )

    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
        for row in result:
            if row.canonical_id != current:
                flush()
                rows = []
                current = row.canonical_id
            rows.append(row)
        flush()


def _schemata() -> list[str]:
    names = set(SCHEMATA)
    for schema in model.schemata.values():
        if any(schema.is_a(s) for s in SCHEMATA if s != "LegalEntity") or schema.name in SCHEMATA:
            names.add(schema.name)
    return sorted(names)


def _load_graph(ws: Workspace, index: ScreenIndex) -> None:
    """Trade parties the store does not hold, from the live graph version."""
    from tidetrace.graph.graphdb import open_graph

    try:
        graph = open_graph(ws)
    except Exception:  # noqa: BLE001 - no graph yet: screen against the store alone
        return
    index.graph_version = graph.version
    index.graph_ids = set(graph.ids)
    for i, node_id in enumerate(graph.ids):
        if graph.in_store[i] or node_id in index.by_id:
            continue
        country = graph.countries[i]
        record = Record(
            node_id,
            "LegalEntity",
            (graph.names[i],),
            (country,) if country else (),
            source=TRADE_DATASET,
        )
        index.add(
            IndexEntry(
                id=node_id,
                schema="LegalEntity",
                caption=graph.names[i],
                properties={
                    "name": [graph.names[i]],
                    **({"country": [country]} if country else {}),
                },
                datasets=[TRADE_DATASET],
                referents=[],
                first_seen=None,
                last_seen=None,
                prepared=prepare(record),
            )
        )


def _fingerprint(ws: Workspace) -> tuple[Any, ...]:
    with ws.engine.connect() as conn:
        flags = conn.execute(
            select(func.count(), func.max(flag_table.c.id), func.max(flag_table.c.revoked_at))
        ).one()
    return (store_fingerprint(ws.engine), GraphPaths.of(ws).current(), tuple(flags))


def build_index(ws: Workspace) -> ScreenIndex:
    """Build the screening index of a workspace now."""
    index = ScreenIndex()
    index.fingerprint = _fingerprint(ws)
    _load_store(ws.engine, index)
    _load_graph(ws, index)
    index.flags = load_flag_index(ws.engine)
    index.built_at = time.monotonic()
    return index


_CACHE: dict[str, ScreenIndex] = {}
_CHECKED: dict[str, float] = {}
_LOCK = threading.Lock()


def get_index(ws: Workspace) -> ScreenIndex:
    """The workspace's screening index, rebuilt when its sources changed."""
    key = str(ws.home)
    now = time.monotonic()
    with _LOCK:
        index = _CACHE.get(key)
        if index is not None and now - _CHECKED.get(key, 0.0) < CHECK_SECONDS:
            return index
        if index is None or _fingerprint(ws) != index.fingerprint:
            index = build_index(ws)
            _CACHE[key] = index
        _CHECKED[key] = now
        return index


def drop_cache() -> None:
    """Forget built indexes (tests and benchmarks)."""
    with _LOCK:
        _CACHE.clear()
        _CHECKED.clear()
