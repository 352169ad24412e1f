"""Multi-tier tracing: who can have received a plant's goods, and who can have supplied a buyer.

A trace walks the graph from one entity, tier by tier, over observed edges (shipments in
the time window) and asserted edges (documents whose period overlaps the window), and
reports for every entity reached:

* ``tier``: how many parties away it is. A forwarder or NVOCC does not count as a tier:
  the importer behind a forwarder is tier 1 of the plant, as it would be without it.
* ``kg``: the most that can have come from the start (downstream) or gone to it
  (upstream), under the volume bound: every shipment link carries at most what was shipped
  on it in the window, and no party passes on more than it received. This is the maximum
  flow (:mod:`tidetrace.graph.flow`), over observed edges only, because documents state
  links without tonnage. ``kg_bound`` is the same bound when asserted links may carry
  anything: a buyer reached through an importer's asserted link can have had at most what
  the importer received.
* ``kg_before_flag``: when the start (downstream) or a supplier (upstream) is flagged from
  a date, what its shipments before that date can account for, reported separately; the
  main ``kg`` counts only shipments from the flag's date on.
* paths: for each entity, the path with the highest weakest-link confidence over observed
  edges, and, when different, over all edges. Each hop lists its evidence: shipment count,
  kg, dates, HS codes and bill numbers for a trade link; the source, its words and period
  for an asserted one. Asserted and observed evidence are never merged into one hop.

Hops after the first are counted over the whole window: goods shipped to an importer in
March may leave it in May. A tighter bound would need each consignment's timing.
"""

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from tidetrace.exc import InputError
from tidetrace.graph.asserted import AssertedEdge
from tidetrace.graph.flags import Flag, FlagIndex
from tidetrace.graph.flow import INF, Edge, pass_on, reach_bounds
from tidetrace.graph.graphdb import EdgeAgg, LoadedGraph, Window

__all__ = [
    "OBSERVED_CONFIDENCE",
    "Hop",
    "TraceEdge",
    "TraceNode",
    "TraceResult",
    "trace",
]

Direction = Literal["downstream", "upstream"]
Basis = Literal["all", "observed", "asserted"]

# How sure a trade record makes a link. A bill of lading names shipper and consignee; the
# remainder covers names misread or mis-resolved. A notify party is often a customs broker
# or bank rather than the buyer, so its link is weaker.
OBSERVED_CONFIDENCE = {"shipped": 0.95, "notify": 0.7}
DEFAULT_MAX_DEPTH = 6
MAX_DEPTH = 12
DEFAULT_MAX_NODES = 10_000
BILLS_PER_HOP = 10

# An edge reference: ("o", src, dst, kind) for observed, ("a", index) for asserted.
EdgeRef = tuple[Any, ...]


@dataclass
class Hop:
    """One hop of a path, in the direction the goods travel.

    Attributes:
        source: entity id the goods leave (``from`` in JSON).
        target: entity id they reach (``to`` in JSON).
        basis: ``observed`` (trade records) or ``asserted`` (a document).
        relation: ``shipped``, ``notify``, or the document's wording.
        kg: kilograms on this link in the window (None for an asserted link).
        confidence: how sure the evidence makes this link, 0-1.
        evidence: what backs the hop (see the module docs).
    """

    source: str
    target: str
    basis: str
    relation: str
    kg: float | None
    confidence: float
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form with ``from``/``to`` keys."""
        return {
            "from": self.source,
            "to": self.target,
            "basis": self.basis,
            "relation": self.relation,
            "kg": _round(self.kg),
            "confidence": round(self.confidence, 4),
            "evidence": self.evidence,
        }


@dataclass
class TraceNode:
    """An entity reached by a trace.

    Attributes:
        id: canonical entity id.
        name: display name.
        schema: FtM schema (``LegalEntity`` for a trade party the store lacks).
        country: country code, when known.
        role: plant, exporter, forwarder, importer, distributor, retailer … (pictures only).
        tier: parties away from the start (0 for the start).
        column: links away from the start, forwarders counted: where pictures draw it.
        kg: volume bound over observed edges, in kg; None when not reached by trade records.
        kg_before_flag: the bound from shipments before the flag date; None if no split.
        kg_bound: the bound when asserted links may carry anything; None when unbounded.
        flow: kg under proportional pass-on (what the Sankey draws); None if not observed.
        confidence: weakest-link confidence of the best path over all edges.
        observed_confidence: the same over observed edges only; None if none.
        reached_by: ``observed`` and/or ``asserted``.
        flags: standing flags of the entity.
        paths: indexes into the result's ``paths``.
        in_store: whether the entity store holds it (a trade party may be known only by
            its name on bills of lading).
    """

    id: str
    name: str
    schema: str
    country: str | None
    role: str
    tier: int
    column: int = 0
    kg: float | None = None
    kg_before_flag: float | None = None
    kg_bound: float | None = None
    flow: float | None = None
    confidence: float | None = None
    observed_confidence: float | None = None
    reached_by: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    paths: list[int] = field(default_factory=list)
    in_store: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "name": self.name,
            "schema": self.schema,
            "in_store": self.in_store,
            "country": self.country,
            "role": self.role,
            "tier": self.tier,
            "column": self.column,
            "kg": _round(self.kg),
            "kg_before_flag": _round(self.kg_before_flag),
            "kg_bound": _round(self.kg_bound),
            "flow": _round(self.flow),
            "confidence": _round(self.confidence, 4),
            "observed_confidence": _round(self.observed_confidence, 4),
            "reached_by": self.reached_by,
            "flags": [f.to_dict() for f in self.flags],
            "paths": self.paths,
        }


@dataclass
class TraceEdge:
    """An edge of the traced subgraph, for pictures and tables (goods direction).

    Attributes:
        source: entity id the goods leave.
        target: entity id they reach.
        basis: observed or asserted.
        relation: shipped, notify, or the document's wording.
        kg: kilograms in the window (observed only).
        flow: kilograms under proportional pass-on from the start (observed only).
        confidence: of this edge.
        shipments: bills of lading in the window (observed only).
        first: first arrival in the window.
        last: last arrival in the window.
        link: the asserting entity's id (asserted only).
        flow_before: like ``flow``, for the start's shipments before its flag date.
    """

    source: str
    target: str
    basis: str
    relation: str
    kg: float | None
    flow: float | None
    confidence: float
    shipments: int | None = None
    first: str | None = None
    last: str | None = None
    link: str | None = None
    flow_before: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "from": self.source,
            "to": self.target,
            "basis": self.basis,
            "relation": self.relation,
            "kg": _round(self.kg),
            "flow": _round(self.flow),
            "flow_before": _round(self.flow_before),
            "confidence": round(self.confidence, 4),
            "shipments": self.shipments,
            "first": self.first,
            "last": self.last,
            "link": self.link,
        }


@dataclass
class TraceResult:
    """Everything a trace found (``to_dict`` is the ``--json`` output).

    Attributes:
        start: canonical id of the start entity.
        direction: downstream or upstream.
        window: the time and HS window.
        max_depth: tier limit.
        basis: which edges were followed.
        flag_since: downstream: the start's flag date that splits its shipments.
        nodes: every entity reached, start first, then by tier and kg.
        paths: lists of hops in goods order.
        path_confidence: weakest-link confidence of each path.
        edges: the traced subgraph.
        graph_version: the graph version traced.
        truncated: True when ``max_nodes`` stopped the walk early.
        notes: anything the reader should know about this result.
    """

    start: str
    direction: str
    window: Window
    max_depth: int
    basis: str
    flag_since: date | None
    nodes: list[TraceNode]
    paths: list[list[Hop]]
    path_confidence: list[float]
    edges: list[TraceEdge]
    graph_version: str
    truncated: bool = False
    notes: list[str] = field(default_factory=list)

    def node(self, entity_id: str) -> TraceNode | None:
        """The node of an entity id, or None."""
        return next((n for n in self.nodes if n.id == entity_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``tidetrace trace … --json``."""
        return {
            "start": self.start,
            "direction": self.direction,
            "window": self.window.to_dict(),
            "max_depth": self.max_depth,
            "basis": self.basis,
            "flag_since": self.flag_since.isoformat() if self.flag_since else None,
            "graph_version": self.graph_version,
            "truncated": self.truncated,
            "notes": self.notes,
            "nodes": [n.to_dict() for n in self.nodes],
            "paths": [[h.to_dict() for h in path] for path in self.paths],
            "path_confidence": [round(c, 4) for c in self.path_confidence],
            "edges": [e.to_dict() for e in self.edges],
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    if value is None or value == INF:
        return None
    return round(value, digits)


@dataclass
class _Walk:
    """The subgraph a walk collected (goods direction)."""

    tiers: dict[int, int]
    observed: dict[tuple[int, int, str], EdgeAgg]
    asserted: dict[int, AssertedEdge]
    truncated: bool


def _walk(
    graph: LoadedGraph,
    start: int,
    direction: Direction,
    window: Window,
    basis: Basis,
    max_depth: int,
    max_nodes: int,
) -> _Walk:
    tiers = {start: 0}
    observed: dict[tuple[int, int, str], EdgeAgg] = {}
    asserted: dict[int, AssertedEdge] = {}
    expanded: set[int] = set()
    truncated = False
    tier = 0
    current = [start]
    while current:
        pending = current
        later: set[int] = set()
        while pending:
            expanded.update(pending)
            found: list[tuple[int, int, EdgeRef]] = []  # (leaving node, other node, ref)
            if basis in ("all", "observed"):
                for agg in graph.observed(pending, direction, window):
                    key = (agg.src, agg.dst, agg.kind)
                    observed[key] = agg
                    here, other = (
                        (agg.src, agg.dst) if direction == "downstream" else (agg.dst, agg.src)
                    )
                    found.append((here, other, ("o", *key)))
            if basis in ("all", "asserted"):
                for i in graph.asserted_edges(pending, direction):
                    edge = graph.asserted[i]
                    if not edge.overlaps(window.since, window.until):
                        continue
                    src, dst = graph.index[edge.src], graph.index[edge.dst]
                    asserted[i] = edge
                    here, other = (src, dst) if direction == "downstream" else (dst, src)
                    found.append((here, other, ("a", i)))
            same_tier: list[int] = []
            for here, other, _ref in found:
                # A forwarder stands in for the party behind it: leaving it adds no tier.
                cost = 0 if here != start and graph.roles[here] == "forwarder" else 1
                new_tier = tiers[here] + cost
                if new_tier > max_depth:
                    continue
                if other in tiers and tiers[other] <= new_tier:
                    continue
                if other not in tiers and len(tiers) >= max_nodes:
                    truncated = True
                    continue
                tiers[other] = new_tier
                if cost == 0:
                    same_tier.append(other)
                else:
                    later.add(other)
            pending = [n for n in dict.fromkeys(same_tier) if n not in expanded]
        tier += 1
        current = sorted(n for n in later if tiers[n] == tier and n not in expanded)
        if tier >= max_depth:
            # Nodes at the last tier are reached but not expanded; edges among known nodes
            # found so far are all kept.
            break
    # Edges to nodes beyond the limit were never added; drop any that point outside.
    observed = {k: v for k, v in observed.items() if k[0] in tiers and k[1] in tiers}
    asserted = {
        i: e
        for i, e in asserted.items()
        if graph.index[e.src] in tiers and graph.index[e.dst] in tiers
    }
    return _Walk(tiers, observed, asserted, truncated)


def _trav(direction: Direction, src: int, dst: int) -> tuple[int, int]:
    # Flows and paths run from the start outward: against the goods for upstream traces.
    return (src, dst) if direction == "downstream" else (dst, src)


def _best_paths(
    edges: list[tuple[int, int, float, float, EdgeRef]], start: int, max_hops: int
) -> tuple[dict[int, float], dict[int, list[EdgeRef]]]:
    """Widest-confidence paths by hop layers: best weakest link, then fewest hops, then kg."""
    out_edges: dict[int, list[tuple[int, float, float, EdgeRef]]] = defaultdict(list)
    for a, b, conf, kg, ref in edges:
        out_edges[a].append((b, conf, kg, ref))
    best: dict[int, tuple[float, int, float]] = {start: (1.0, 0, INF)}
    layer: dict[int, tuple[float, float]] = {start: (1.0, INF)}
    pred: dict[tuple[int, int], tuple[int, EdgeRef]] = {}
    final: dict[int, int] = {}
    for k in range(1, max_hops + 1):
        new: dict[int, tuple[float, float]] = {}
        for a, (conf_a, kg_a) in layer.items():
            for b, conf, kg, ref in out_edges.get(a, ()):
                if b == start:
                    continue
                cand = (min(conf_a, conf), min(kg_a, kg))
                old = best.get(b)
                # An earlier layer's path has fewer hops: only a strictly better link wins.
                if old is not None and old[0] >= cand[0]:
                    continue
                if b not in new or cand > new[b]:
                    new[b] = cand
                    pred[(k, b)] = (a, ref)
        if not new:
            break
        for b, (conf_b, kg_b) in new.items():
            best[b] = (conf_b, k, kg_b)
            final[b] = k
        layer = new
    paths: dict[int, list[EdgeRef]] = {}
    for node, k in final.items():
        refs: list[EdgeRef] = []
        at, layer_k = node, k
        while layer_k > 0:
            a, ref = pred[(layer_k, at)]
            refs.append(ref)
            at, layer_k = a, layer_k - 1
        refs.reverse()
        paths[node] = refs
    return {n: v[0] for n, v in best.items()}, paths


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector during one trace.

    A trace allocates a few hundred thousand small objects; with the collector on, a full
    collection now and then walks every object of the loaded graph as well and doubles the
    trace's time. Nothing a trace allocates forms cycles that outlive it, and the collector
    runs again as soon as the trace returns.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def trace(
    graph: LoadedGraph,
    flags: FlagIndex,
    start_id: str,
    direction: Direction = "downstream",
    window: Window | None = None,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    basis: Basis = "all",
    max_nodes: int = DEFAULT_MAX_NODES,
) -> TraceResult:
    """Trace downstream or upstream from one entity.

    Args:
        graph: the opened graph.
        flags: standing flags by canonical id.
        start_id: canonical id of the start entity (it must be in the graph).
        direction: ``downstream`` (where its goods went) or ``upstream`` (where they came from).
        window: which shipments count; None for all.
        max_depth: the last tier to reach (1-12).
        basis: follow ``all`` edges, only ``observed`` or only ``asserted`` ones.
        max_nodes: stop reaching new entities after this many.

    Returns:
        The trace (see :class:`TraceResult`).

    Raises:
        InputError: a parameter out of range.
        NotFoundError: the start is not in the graph.
    """
    with _no_gc_pauses():
        return _trace(graph, flags, start_id, direction, window, max_depth, basis, max_nodes)


def _trace(
    graph: LoadedGraph,
    flags: FlagIndex,
    start_id: str,
    direction: Direction,
    window: Window | None,
    max_depth: int,
    basis: Basis,
    max_nodes: int,
) -> TraceResult:
    window = window or Window()
    if not 1 <= max_depth <= MAX_DEPTH:
        raise InputError("--max-depth", f"must be between 1 and {MAX_DEPTH}")
    if window.since and window.until and window.since > window.until:
        raise InputError("--since", "is after --until")
    start = graph.node(start_id)
    walk = _walk(graph, start, direction, window, basis, max_depth, max_nodes)
    tiers = walk.tiers

    # -- volume bounds --------------------------------------------------------------------
    def caps(kg_of: dict[tuple[int, int, str], float] | None = None) -> list[Edge]:
        out: list[Edge] = []
        for key, agg in walk.observed.items():
            kg = agg.kg if kg_of is None else kg_of.get(key, agg.kg)
            a, b = _trav(direction, agg.src, agg.dst)
            out.append((a, b, kg))
        return out

    order = sorted(tiers, key=lambda n: (tiers[n], n))
    flag_since: date | None = None
    pre_caps: list[Edge] | None = None
    before: dict[int, float] = {}
    if direction == "downstream":
        flag_since = flags.since(graph.ids[start])
        if flag_since is not None and window.since is not None and flag_since <= window.since:
            flag_since = None  # the whole window is after the flag date: nothing to split
        if flag_since is not None:
            split = graph.split_kg({start: flag_since}, direction, window)
            post = {k: v[1] for k, v in split.items()}
            pre = {k: v[0] for k, v in split.items()}
            # Edges of the start absent from the split had nothing in the window.
            for key in walk.observed:
                if key[0] == start:
                    post.setdefault(key, 0.0)
                    pre.setdefault(key, 0.0)
            main_caps = caps(post)
            pre_caps = caps(pre)
            bounds = reach_bounds(main_caps, start, order)
            before = reach_bounds(pre_caps, start, order)
        else:
            main_caps = caps()
            bounds = reach_bounds(main_caps, start, order)
    else:
        cutoffs = {
            n: since
            for n in tiers
            if n != start and (since := flags.since(graph.ids[n])) is not None
        }
        split = graph.split_kg(cutoffs, direction, window)
        post_over: dict[int, dict[tuple[int, int], float]] = defaultdict(dict)
        pre_over: dict[int, dict[tuple[int, int], float]] = defaultdict(dict)
        for key, agg in walk.observed.items():
            if agg.src in cutoffs:
                pre_kg, post_kg = split.get(key, (0.0, 0.0))
                a, b = _trav(direction, agg.src, agg.dst)
                post_over[agg.src][(a, b)] = post_kg
                pre_over[agg.src][(a, b)] = pre_kg
        main_caps = caps()
        bounds = reach_bounds(main_caps, start, order, override=post_over)
        if pre_over:
            pre_all = reach_bounds(caps(), start, order, override=pre_over)
            before = {n: pre_all.get(n, 0.0) for n in cutoffs}
    goods_asserted = [
        (*_trav(direction, graph.index[e.src], graph.index[e.dst]), INF)
        for e in walk.asserted.values()
        if e.carries_goods
    ]
    loose = reach_bounds(main_caps + goods_asserted, start, order) if goods_asserted else bounds
    # The pictures draw what the numbers count: after the start's flag date, if any.
    # Pictures lay out by links, not tiers: a forwarder and the importer behind it share a
    # tier but must stand in successive columns for the link between them to be drawn.
    columns = _columns(
        start,
        [(a, b) for a, b, _ in main_caps]
        + [
            _trav(direction, graph.index[e.src], graph.index[e.dst]) for e in walk.asserted.values()
        ],
    )
    flows = pass_on(main_caps, start, columns)
    # Shipments before the start's flag date are drawn apart, never mixed into the flow.
    flows_before = pass_on(pre_caps, start, columns) if pre_caps is not None else {}
    inflow: dict[int, float] = defaultdict(float)
    for (_a, b), kg in flows.items():
        inflow[b] += kg

    # -- paths ------------------------------------------------------------------------------
    path_edges: list[tuple[int, int, float, float, EdgeRef]] = []
    for key, agg in walk.observed.items():
        a, b = _trav(direction, agg.src, agg.dst)
        path_edges.append((a, b, OBSERVED_CONFIDENCE[agg.kind], agg.kg, ("o", *key)))
    observed_only = list(path_edges)
    for i, edge in walk.asserted.items():
        a, b = _trav(direction, graph.index[edge.src], graph.index[edge.dst])
        path_edges.append((a, b, edge.confidence, 0.0, ("a", i)))
    max_hops = max(max_depth * 2, 1)
    conf_all, paths_all = _best_paths(path_edges, start, max_hops)
    if walk.asserted:
        conf_obs, paths_obs = _best_paths(observed_only, start, max_hops)
    else:
        conf_obs, paths_obs = conf_all, paths_all  # the same edges: the same paths

    evidence_pairs = {
        (ref[1], ref[2])
        for refs in (*paths_all.values(), *paths_obs.values())
        for ref in refs
        if ref[0] == "o"
    }
    evidence = graph.evidence(evidence_pairs, window, BILLS_PER_HOP)

    def hop(ref: EdgeRef) -> Hop:
        if ref[0] == "o":
            agg = walk.observed[(ref[1], ref[2], ref[3])]
            hs, bills = evidence.get((ref[1], ref[2], ref[3]), ([], []))
            return Hop(
                source=graph.ids[agg.src],
                target=graph.ids[agg.dst],
                basis="observed",
                relation=agg.kind,
                kg=agg.kg,
                confidence=OBSERVED_CONFIDENCE[agg.kind],
                evidence=[
                    {
                        "basis": "observed",
                        "type": "bill_of_lading",
                        "relation": agg.kind,
                        "shipments": agg.n,
                        "kg": round(agg.kg, 1),
                        "first": agg.first.isoformat(),
                        "last": agg.last.isoformat(),
                        "hs": hs,
                        "bills": bills,
                    }
                ],
            )
        edge = walk.asserted[ref[1]]
        return Hop(
            source=edge.src,
            target=edge.dst,
            basis="asserted",
            relation=edge.relation,
            kg=None,
            confidence=edge.confidence,
            evidence=[
                {
                    "basis": edge.basis,
                    "type": edge.schema,
                    "link": edge.id,
                    "relation": edge.relation,
                    "datasets": edge.datasets,
                    "description": edge.description,
                    "period": edge.period,
                    "confidence": edge.confidence,
                }
            ],
        )

    # Paths share their first hops; each hop (and its evidence) is built once.
    made: dict[EdgeRef, Hop] = {}

    def hop_of(ref: EdgeRef) -> Hop:
        found = made.get(ref)
        if found is None:
            found = made[ref] = hop(ref)
        return found

    paths: list[list[Hop]] = []
    path_conf: list[float] = []
    path_index: dict[int, list[int]] = defaultdict(list)
    for node in order:
        if node == start:
            continue
        chosen: list[list[EdgeRef]] = []
        if node in paths_obs:
            chosen.append(paths_obs[node])
        if node in paths_all and paths_all[node] not in chosen:
            chosen.append(paths_all[node])
        for refs in chosen:
            hops = [hop_of(r) for r in refs]
            if direction == "upstream":
                hops.reverse()  # goods order: from the far supplier to the start
            path_index[node].append(len(paths))
            paths.append(hops)
            path_conf.append(min(h.confidence for h in hops))

    # -- nodes and edges ---------------------------------------------------------------------
    reached: dict[int, set[str]] = defaultdict(set)
    for key in walk.observed:
        for n in key[:2]:
            reached[n].add("observed")
    for edge in walk.asserted.values():
        for n in (graph.index[edge.src], graph.index[edge.dst]):
            reached[n].add("asserted")
    nodes: list[TraceNode] = []
    for n in order:
        by_trade = "observed" in reached.get(n, set())
        # Reached over trade links but nothing in the (post-flag) window: zero, not unknown.
        node_kg = bounds.get(n, 0.0 if by_trade else None)
        bound = loose.get(n)
        split_here = flag_since is not None if direction == "downstream" else n in before
        node_before = before.get(n, 0.0 if by_trade else None) if split_here else None
        nodes.append(
            TraceNode(
                id=graph.ids[n],
                name=graph.names[n],
                schema=graph.schemas[n],
                country=graph.countries[n],
                role=graph.roles[n],
                tier=tiers[n],
                column=columns.get(n, tiers[n]),
                kg=None if n == start else node_kg,
                kg_before_flag=None if n == start else node_before,
                kg_bound=None if n == start or bound is None or bound == INF else bound,
                flow=inflow.get(n) if n != start else None,
                confidence=None if n == start else conf_all.get(n),
                observed_confidence=None if n == start else conf_obs.get(n),
                reached_by=sorted(reached.get(n, set())),
                flags=flags.get(graph.ids[n]),
                paths=path_index.get(n, []),
                in_store=graph.in_store[n],
            )
        )
    nodes.sort(key=lambda t: (t.tier, -(t.kg or 0.0), -(t.kg_before_flag or 0.0), t.name))
    edges: list[TraceEdge] = []
    for _key, agg in sorted(walk.observed.items()):
        a, b = _trav(direction, agg.src, agg.dst)
        edges.append(
            TraceEdge(
                source=graph.ids[agg.src],
                target=graph.ids[agg.dst],
                basis="observed",
                relation=agg.kind,
                kg=agg.kg,
                flow=flows.get((a, b)),
                flow_before=flows_before.get((a, b)),
                confidence=OBSERVED_CONFIDENCE[agg.kind],
                shipments=agg.n,
                first=agg.first.isoformat(),
                last=agg.last.isoformat(),
            )
        )
    for _i, edge in sorted(walk.asserted.items()):
        edges.append(
            TraceEdge(
                source=edge.src,
                target=edge.dst,
                basis="asserted",
                relation=edge.relation,
                kg=None,
                flow=None,
                confidence=edge.confidence,
                link=edge.id,
            )
        )
    notes: list[str] = []
    if walk.truncated:
        notes.append(f"stopped after {max_nodes} entities; narrow the window or the depth")
    if window.hs is not None and walk.asserted:
        notes.append("asserted links carry no HS codes: they are followed whatever --hs says")
    if flag_since is not None:
        notes.append(
            f"the start is flagged from {flag_since.isoformat()}: kg counts its shipments "
            f"from that day; kg_before_flag those up to "
            f"{(flag_since - timedelta(days=1)).isoformat()}"
        )
    return TraceResult(
        start=graph.ids[start],
        direction=direction,
        window=window,
        max_depth=max_depth,
        basis=basis,
        flag_since=flag_since,
        nodes=nodes,
        paths=paths,
        path_confidence=path_conf,
        edges=edges,
        graph_version=graph.version,
        truncated=walk.truncated,
        notes=notes,
    )


def _columns(start: int, edges: list[tuple[int, int]]) -> dict[int, int]:
    out: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        out[a].append(b)
    columns = {start: 0}
    frontier = [start]
    while frontier:
        nxt = []
        for a in frontier:
            for b in out.get(a, ()):
                if b not in columns:
                    columns[b] = columns[a] + 1
                    nxt.append(b)
        frontier = nxt
    return columns


def tiers_of(result: TraceResult) -> dict[str, int]:
    """Entity id → tier, for tests and callers that only need the tiers."""
    return {n.id: n.tier for n in result.nodes}
