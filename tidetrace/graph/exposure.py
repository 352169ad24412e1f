"""Exposure: how much of what a company buys traces to flagged entities, and through whom.

Built on an upstream trace. For the company ``C`` and the window:

* ``kg_in``: everything ``C`` received over trade links (its own bills of lading and those
  naming it as notify party);
* ``kg_flagged``: the most of that which can have come from flagged entities, all of them
  together (one maximum flow from every flagged supplier at once, each counting only its
  shipments from its flag date on), and ``kg_flagged_before`` from their earlier shipments;
* ``share``: ``kg_flagged / kg_in``: an upper bound, never an estimate of the mix;
* ``sources``: each flagged supplier with its own bound, tier, flags and best path;
* ``via``: each direct supplier of ``C`` with what it delivered and how much of that can
  have come from flagged sources;
* ``asserted``: flagged suppliers reached only through documents, with the confidence of
  their best path and no tonnage.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tidetrace.graph.flags import FlagIndex
from tidetrace.graph.flow import INF, Edge, max_flow
from tidetrace.graph.graphdb import LoadedGraph, Window
from tidetrace.graph.trace import DEFAULT_MAX_DEPTH, TraceResult, trace

__all__ = ["ExposureResult", "ExposureSource", "ExposureVia", "exposure"]

# A node number no graph uses: the super-source that feeds every flagged supplier.
_SUPER = -1


@dataclass
class ExposureSource:
    """A flagged supplier upstream of the company."""

    id: str
    name: str
    tier: int
    kg: float | None
    kg_before_flag: float | None
    confidence: float | None
    reached_by: list[str]
    flags: list[dict[str, Any]]
    paths: list[int]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "name": self.name,
            "tier": self.tier,
            "kg": _round(self.kg),
            "kg_before_flag": _round(self.kg_before_flag),
            "confidence": _round(self.confidence, 4),
            "reached_by": self.reached_by,
            "flags": self.flags,
            "paths": self.paths,
        }


@dataclass
class ExposureVia:
    """A direct supplier of the company, and how much of its deliveries can be flagged."""

    id: str
    name: str
    kg_in: float
    kg_flagged: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "name": self.name,
            "kg_in": _round(self.kg_in),
            "kg_flagged": _round(self.kg_flagged),
        }


@dataclass
class ExposureResult:
    """The answer of ``tidetrace exposure``."""

    entity: str
    name: str
    window: Window
    kg_in: float
    kg_flagged: float
    kg_flagged_before: float
    sources: list[ExposureSource] = field(default_factory=list)
    via: list[ExposureVia] = field(default_factory=list)
    asserted: list[ExposureSource] = field(default_factory=list)
    trace: TraceResult | None = None

    @property
    def share(self) -> float | None:
        """``kg_flagged / kg_in`` (None when nothing was received)."""
        return self.kg_flagged / self.kg_in if self.kg_in > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (with the upstream trace's paths, for the evidence of each source)."""
        share = self.share
        return {
            "entity": self.entity,
            "name": self.name,
            "window": self.window.to_dict(),
            "kg_in": _round(self.kg_in),
            "kg_flagged": _round(self.kg_flagged),
            "kg_flagged_before": _round(self.kg_flagged_before),
            "share": None if share is None else round(share, 4),
            "sources": [s.to_dict() for s in self.sources],
            "via": [v.to_dict() for v in self.via],
            "asserted": [s.to_dict() for s in self.asserted],
            "paths": [[h.to_dict() for h in p] for p in self.trace.paths] if self.trace else [],
            "graph_version": self.trace.graph_version if self.trace else None,
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    if value is None or value == INF:
        return None
    return round(value, digits)


def exposure(
    graph: LoadedGraph,
    flags: FlagIndex,
    entity_id: str,
    window: Window | None = None,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> ExposureResult:
    """How much of what ``entity_id`` received can have come from flagged entities.

    Args:
        graph: the opened graph.
        flags: standing flags by canonical id.
        entity_id: canonical id of the buyer.
        window: which shipments count.
        max_depth: how many tiers upstream to look.

    Returns:
        The exposure (see the module docs).
    """
    window = window or Window()
    result = trace(graph, flags, entity_id, "upstream", window, max_depth=max_depth)
    start = graph.index[entity_id]
    # Goods-direction edges of the traced subgraph, with their window kg.
    goods: dict[tuple[int, int], float] = defaultdict(float)
    for edge in result.edges:
        if edge.basis == "observed" and edge.kg:
            goods[(graph.index[edge.source], graph.index[edge.target])] += edge.kg
    kg_in = sum(kg for (_u, v), kg in goods.items() if v == start)

    flagged = [n for n in result.nodes if n.flags and n.id != entity_id]
    cutoffs = {graph.index[n.id]: flags.since(n.id) for n in flagged}
    dated = {n: d for n, d in cutoffs.items() if d is not None}
    split = graph.split_kg(dated, "upstream", window)
    post: dict[tuple[int, int], float] = defaultdict(float)
    pre: dict[tuple[int, int], float] = defaultdict(float)
    for (s, d, _kind), (pre_kg, post_kg) in split.items():
        post[(s, d)] += post_kg
        pre[(s, d)] += pre_kg

    def network(caps_for_flagged: dict[tuple[int, int], float] | None) -> list[Edge]:
        # Goods direction; a flagged supplier with a date ships only what the caps allow.
        out: list[Edge] = []
        for (u, v), kg in goods.items():
            if caps_for_flagged is not None and u in dated:
                kg = caps_for_flagged.get((u, v), 0.0)
            out.append((u, v, kg))
        return out

    def flow_to(edges: list[Edge], sources: list[int], target: int) -> float:
        sources = [s for s in sources if s != target]
        if not sources:
            return 0.0
        feed = [(_SUPER, s, INF) for s in sources]
        value = max_flow(edges + feed, _SUPER, target)
        return 0.0 if value == INF else value

    flagged_nodes = [graph.index[n.id] for n in flagged if "observed" in n.reached_by]
    main = network(post)
    kg_flagged = flow_to(main, flagged_nodes, start)
    kg_before = flow_to(network(pre), [n for n in flagged_nodes if n in dated], start)

    via: list[ExposureVia] = []
    for (u, v), kg in sorted(goods.items()):
        if v != start:
            continue
        # What u delivered that can have come from flagged sources: what flagged sources
        # can have sent into u, plus u's own shipments after its flag date when u is
        # flagged itself, capped by the u → start link.
        if u in flagged_nodes and u not in dated:
            flagged_kg = kg
        else:
            into_u = flow_to([e for e in main if e[1] != start], flagged_nodes, u)
            own = post.get((u, start), 0.0) if u in dated else 0.0
            flagged_kg = min(kg, into_u + own)
        via.append(
            ExposureVia(
                id=graph.ids[u],
                name=graph.names[u],
                kg_in=kg,
                kg_flagged=flagged_kg,
            )
        )
    via.sort(key=lambda x: (-x.kg_flagged, -x.kg_in, x.name))

    def source(node: Any) -> ExposureSource:
        return ExposureSource(
            id=node.id,
            name=node.name,
            tier=node.tier,
            kg=node.kg,
            kg_before_flag=node.kg_before_flag,
            confidence=node.confidence,
            reached_by=node.reached_by,
            flags=[f.to_dict() for f in node.flags],
            paths=node.paths,
        )

    sources = [source(n) for n in flagged if "observed" in n.reached_by]
    sources.sort(key=lambda s: (-(s.kg or 0.0), s.tier, s.name))
    asserted = [source(n) for n in flagged if "observed" not in n.reached_by]
    asserted.sort(key=lambda s: (-(s.confidence or 0.0), s.tier, s.name))
    return ExposureResult(
        entity=entity_id,
        name=graph.names[start],
        window=window,
        kg_in=kg_in,
        kg_flagged=kg_flagged,
        kg_flagged_before=kg_before,
        sources=sources,
        via=via,
        asserted=asserted,
        trace=result,
    )
