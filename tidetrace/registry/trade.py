"""The lookup's trade section, read from the supply-chain graph.

Bills of lading reach tidetrace two ways: ``Shipment`` entities in the statement store and
the trade-records Parquet dataset written by ``tidetrace ingest shipments``. The graph
(:mod:`tidetrace.graph`) reads both, maps every party to its canonical entity after entity
resolution, and keeps per-edge totals in memory once opened. So the lookup asks the graph
rather than either store: one place that already knows that ``DALIAN HAI QING FOOD CO LTD``
on a bill and the registry's facility are the same plant.

A lookup never builds the graph: building reads every trade record and a public request
must not be able to start that. When the graph is missing or older than the records, the
summary says so in its ``note`` and shows what the live version holds.
"""

import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tidetrace.exc import NotFoundError
from tidetrace.logs import get_logger
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.graph.graphdb import LoadedGraph

__all__ = ["GraphTrade", "TradeParty", "TradeSource", "TradeSummary", "no_trade"]

log = get_logger("tidetrace.registry.trade")

# Consignees and HS codes shown; the rest are counted in the totals.
TOP_CONSIGNEES = 5
MAX_HS = 20
# Asking whether the graph is stale lists the trade-records files and reads the audit log;
# a busy public page asks at most this often per workspace and graph version.
STALE_TTL = 30.0


@dataclass
class TradeParty:
    """A receiver of the facility's shipments, with its share."""

    id: str
    name: str
    country: str | None
    shipments: int
    tonnage: float | None


@dataclass
class TradeSummary:
    """Shipments sent by the facility (or its operators) in the trade records.

    Attributes:
        available: whether trade records could be read at all (a built graph exists).
        shipments: bills of lading with the facility as shipper.
        tonnage: their gross weight in tonnes (None when no bill gives a weight).
        first_date: first arrival date.
        last_date: last arrival date.
        consignees: the top receivers by tonnage.
        hs_codes: HS codes the bills declare.
        shippers: graph nodes counted as the facility (its canonical entity, operators).
        graph_version: the graph version read (``v3``), or None.
        built_at: when that version was built.
        stale: whether trade records or resolutions arrived after that build.
        note: what a reader should know about the numbers, in one line.
    """

    available: bool
    shipments: int = 0
    tonnage: float | None = None
    first_date: str | None = None
    last_date: str | None = None
    consignees: list[TradeParty] = field(default_factory=list)
    hs_codes: list[str] = field(default_factory=list)
    shippers: list[str] = field(default_factory=list)
    graph_version: str | None = None
    built_at: str | None = None
    stale: bool = False
    note: str = ""


class TradeSource(Protocol):
    """Where the lookup gets its trade section."""

    def summary(self, parties: Mapping[str, list[str]]) -> TradeSummary:
        """Shipments sent by any of ``parties`` (canonical id → its member ids)."""
        ...


def no_trade() -> TradeSummary:
    """The trade section when the caller gave no workspace to read trade records from."""
    return TradeSummary(available=False, note="trade records were not consulted")


_stale_cache: dict[tuple[Path, str], tuple[float, bool]] = {}
_stale_lock = threading.Lock()


def _is_stale(ws: Workspace, version: str) -> bool:
    """Whether newer records exist than graph ``version``; cached for :data:`STALE_TTL`."""
    from tidetrace.graph.build import graph_is_stale

    key = (ws.home, version)
    now = time.monotonic()
    with _stale_lock:
        hit = _stale_cache.get(key)
        if hit is not None and now - hit[0] < STALE_TTL:
            return hit[1]
    try:
        stale = graph_is_stale(ws)
    except Exception as exc:  # noqa: BLE001 - a broken records file must not break a lookup
        log.warning("graph staleness unknown", error=str(exc)[:200])
        stale = True
    with _stale_lock:
        if len(_stale_cache) > 64:
            _stale_cache.clear()
        _stale_cache[key] = (now, stale)
    return stale


class GraphTrade:
    """Trade summaries from a workspace's live graph version (opened once per process).

    Args:
        ws: the workspace whose graph to read.
    """

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _graph(self) -> "LoadedGraph | None":
        from tidetrace.graph.graphdb import open_graph

        try:
            return open_graph(self.ws)
        except NotFoundError:
            return None

    def summary(self, parties: Mapping[str, list[str]]) -> TradeSummary:
        """Shipments sent by any of ``parties`` (canonical id → its member ids).

        A party is found in the graph by its canonical id; a graph built before entity
        resolution linked it knows it only by a member's id, so those are tried too.
        """
        graph = self._graph()
        if graph is None:
            return TradeSummary(
                available=False,
                note="no supply-chain graph has been built: run 'tidetrace graph build'",
            )
        stale = _is_stale(self.ws, graph.version)
        nodes: dict[int, str] = {}
        for canonical, members in parties.items():
            for pid in (canonical, *members):
                idx = graph.index.get(pid)
                if idx is not None:
                    nodes.setdefault(idx, pid)
        result = summarize(graph, sorted(nodes))
        result.graph_version = graph.version
        result.built_at = graph.manifest.get("built_at")
        result.stale = stale
        notes = []
        if not result.shipments:
            notes.append("no shipments from this facility in the trade records")
        if stale:
            notes.append(
                f"the graph ({graph.version}) predates the newest trade records or "
                "resolutions; numbers may be incomplete until 'tidetrace graph build'"
            )
        result.note = "; ".join(notes)
        return result


def summarize(graph: "LoadedGraph", nodes: list[int]) -> TradeSummary:
    """Totals over the bills shipped by ``nodes``, from the graph's per-edge totals."""
    from tidetrace.graph.graphdb import Window

    whole = Window()
    edges = [e for e in graph.observed(nodes, "downstream", whole) if e.kind == "shipped"]
    out = TradeSummary(available=True, shippers=[graph.ids[n] for n in nodes])
    if not edges:
        return out
    kg = sum(e.kg for e in edges)
    by_dst: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
    for edge in edges:
        by_dst[edge.dst][0] += edge.n
        by_dst[edge.dst][1] += edge.kg
    top = sorted(by_dst.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))
    hs: set[str] = set()
    found = graph.evidence({(e.src, e.dst) for e in edges}, whole, limit=0)
    for (_src, _dst, kind), (codes, _bills) in found.items():
        if kind == "shipped":
            hs.update(codes)
    out.shipments = sum(e.n for e in edges)
    out.tonnage = round(kg / 1000, 3) if kg else None
    out.first_date = min(e.first for e in edges).isoformat()
    out.last_date = max(e.last for e in edges).isoformat()
    out.consignees = [
        TradeParty(
            id=graph.ids[dst],
            name=graph.names[dst],
            country=graph.countries[dst],
            shipments=int(n),
            tonnage=round(t / 1000, 3) if t else None,
        )
        for dst, (n, t) in top[:TOP_CONSIGNEES]
    ]
    out.hs_codes = sorted(hs)[:MAX_HS]
    return out
