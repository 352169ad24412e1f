"""Volume bounds on a supply graph: how many kilograms can have come from a source.

The question "how much of what reached X can have come from plant P?" has an exact upper
bound: the maximum flow from P to X when every trade link may carry at most the kilograms
shipped on it, and no party passes on more than it received. That is what
:func:`reach_bounds` computes, per node. A node fed by a single link needs no flow
computation (its bound is that link's weight or its supplier's bound, whichever is lower);
the rest run Dinic's algorithm on the part of the graph that can reach them.

:func:`pass_on` is the other, smaller number the pictures use: a consistent flow in which
each party passes on what it received in proportion to what it shipped. Sankey widths
must add up at every node; per-node bounds, each the best case for that node alone,
do not.

Graphs here are small (the part of the trade graph reachable from one entity), so plain
Python with adjacency lists is fast enough and keeps the dependency list short.
"""

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping

__all__ = ["INF", "Edge", "max_flow", "pass_on", "reach_bounds"]

INF = float("inf")
# Flows are in kilograms; anything below a gram is rounding noise.
_EPS = 1e-3

# (from node, to node, capacity in kg)
Edge = tuple[int, int, float]


class _Dinic:
    """Dinic's max-flow on float capacities (residual graph as parallel arrays)."""

    def __init__(self, nodes: Iterable[int]) -> None:
        self.index = {node: i for i, node in enumerate(nodes)}
        n = len(self.index)
        self.adj: list[list[int]] = [[] for _ in range(n)]
        self.to: list[int] = []
        self.cap: list[float] = []

    def add(self, u: int, v: int, cap: float) -> None:
        a, b = self.index[u], self.index[v]
        self.adj[a].append(len(self.to))
        self.to.append(b)
        self.cap.append(cap)
        self.adj[b].append(len(self.to))
        self.to.append(a)
        self.cap.append(0.0)

    def _levels(self, s: int, t: int) -> list[int] | None:
        level = [-1] * len(self.adj)
        level[s] = 0
        queue = deque([s])
        while queue:
            u = queue.popleft()
            for e in self.adj[u]:
                if self.cap[e] > _EPS and level[self.to[e]] < 0:
                    level[self.to[e]] = level[u] + 1
                    queue.append(self.to[e])
        return level if level[t] >= 0 else None

    def _push(self, s: int, t: int, level: list[int], it: list[int]) -> float:
        # Iterative DFS along the level graph; returns the bottleneck pushed (0 if none).
        stack: list[int] = []  # edge ids on the current path
        u = s
        while True:
            if u == t:
                amount = min(self.cap[e] for e in stack)
                for e in stack:
                    self.cap[e] -= amount
                    self.cap[e ^ 1] += amount
                return amount
            advanced = False
            while it[u] < len(self.adj[u]):
                e = self.adj[u][it[u]]
                v = self.to[e]
                if self.cap[e] > _EPS and level[v] == level[u] + 1:
                    stack.append(e)
                    u = v
                    advanced = True
                    break
                it[u] += 1
            if not advanced:
                if not stack:
                    return 0.0
                # Dead end: retreat and never try this edge again in this phase.
                level[u] = -1
                e = stack.pop()
                u = self.to[e ^ 1]
                it[u] += 1

    def run(self, source: int, sink: int, limit: float = INF) -> float:
        s, t = self.index[source], self.index[sink]
        total = 0.0
        while (level := self._levels(s, t)) is not None:
            it = [0] * len(self.adj)
            while (pushed := self._push(s, t, level, it)) > _EPS:
                if pushed == INF:
                    return INF
                total += pushed
                if total >= limit - _EPS:
                    # The flow reached a known upper bound: no need to prove there is no more.
                    return limit
        return total


# Below this many edges, plain augmenting paths over dicts beat Dinic's set-up cost.
_SMALL = 300


def _edmonds_karp(edges: list[Edge], source: int, sink: int, limit: float) -> float:
    residual: dict[int, dict[int, float]] = defaultdict(dict)
    for u, v, cap in edges:
        row = residual[u]
        row[v] = row.get(v, 0.0) + cap
        residual[v].setdefault(u, 0.0)
    return _augment(residual, source, sink, limit)


def _augment(residual: dict[int, dict[int, float]], source: int, sink: int, limit: float) -> float:
    """Shortest augmenting paths on a residual graph (changed in place) up to ``limit``."""
    total = 0.0
    while total < limit - _EPS:
        parent = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v, cap in residual[u].items():
                if cap > _EPS and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            break
        amount = INF
        v = sink
        while v != source:
            u = parent[v]
            amount = min(amount, residual[u][v])
            v = u
        if amount == INF:
            return INF
        v = sink
        while v != source:
            u = parent[v]
            residual[u][v] -= amount
            residual[v][u] += amount
            v = u
        total += amount
    return min(total, limit)


def max_flow(edges: Iterable[Edge], source: int, sink: int, limit: float = INF) -> float:
    """The maximum flow from ``source`` to ``sink``; ``INF`` when unbounded.

    Args:
        edges: directed edges with capacities (parallel edges add up).
        source: where the flow starts.
        sink: where it must arrive.
        limit: a known upper bound on the answer; the search stops when it is reached.

    Returns:
        The largest amount that can travel from source to sink.
    """
    edge_list = [e for e in edges if e[2] > 0 and e[0] != e[1]]
    nodes = {source, sink}
    for u, v, _cap in edge_list:
        nodes.add(u)
        nodes.add(v)
    if source == sink:
        return INF
    if len(edge_list) <= _SMALL:
        return _edmonds_karp(edge_list, source, sink, limit)
    dinic = _Dinic(sorted(nodes))
    for u, v, cap in edge_list:
        dinic.add(u, v, cap)
    return dinic.run(source, sink, limit)


def _ancestors(target: int, into: Mapping[int, list[tuple[int, float]]]) -> set[int]:
    seen = {target}
    queue = deque([target])
    while queue:
        v = queue.popleft()
        for u, _cap in into.get(v, ()):
            if u not in seen:
                seen.add(u)
                queue.append(u)
    return seen


def reach_bounds(
    edges: Iterable[Edge],
    source: int,
    order: Iterable[int] | None = None,
    override: Mapping[int, Mapping[tuple[int, int], float]] | None = None,
) -> dict[int, float]:
    """For every node reachable from ``source``: the most that can have come from it.

    Args:
        edges: directed edges with capacities in kg (parallel edges add up).
        source: the origin; its own bound is ``INF``.
        order: the order to compute nodes in, e.g. by tier; nodes fed by one link reuse
            their supplier's bound, so suppliers should come first (BFS order if None).
        override: per target node, capacities to use instead for some edges when computing
            that node's bound (an upstream trace caps a flagged supplier's own shipments
            at those after its flag date).

    Returns:
        Node → bound in kg (the source maps to ``INF``); unreachable nodes are absent.
    """
    caps: dict[tuple[int, int], float] = defaultdict(float)
    for u, v, cap in edges:
        if cap > 0 and u != v:
            caps[(u, v)] += cap
    out: dict[int, list[int]] = defaultdict(list)
    for u, v in caps:
        out[u].append(v)
    reached = [source]
    seen = {source}
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v in out.get(u, ()):
            if v not in seen:
                seen.add(v)
                reached.append(v)
                queue.append(v)
    # Only edges among reachable nodes matter; an edge from outside never carries source flow.
    into: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (u, v), cap in caps.items():
        if u in seen and v in seen:
            into[v].append((u, cap))
    bounds: dict[int, float] = {source: INF}
    # Node → the child of the source whose chain of single-feeder parties leads to it.
    branch: dict[int, int | None] = {}
    todo = [n for n in (order if order is not None else reached) if n in seen and n != source]
    listed = set(todo)
    todo += [n for n in reached if n not in listed and n != source]
    for v in todo:
        special = override.get(v) if override is not None else None
        feeders = into.get(v, [])
        if len(feeders) == 1:
            first = feeders[0][0]
            branch[v] = v if first == source else branch.get(first)
        if special is None and len(feeders) == 1 and feeders[0][0] in bounds:
            # One link in: everything v got came over it, and its supplier can only have
            # passed on what it got (any flow to v ends with this link and starts as a
            # flow to the supplier that cannot pass through v).
            u, cap = feeders[0]
            bounds[v] = min(cap, bounds[u])
            continue
        roots = [source if u == source else branch.get(u) for u, _cap in feeders]
        if (
            special is None
            and None not in roots
            and len(set(roots)) == len(roots)
            and all(u in bounds for u, _cap in feeders)
        ):
            # Each feeder is the source itself or hangs off the source by its own single
            # chain of one-feeder parties, each chain on a different branch: the paths into v
            # share no link, so the flow is the sum of what each can carry (the common
            # plant → importers → notify party shape, and its mirror upstream).
            bounds[v] = sum(min(cap, bounds[u]) for u, cap in feeders)
            continue
        # The flow problem on v's ancestors, gathered in one walk back from v: residual
        # capacities, and what the source sends into them (the source-side cut, often the
        # bottleneck: a plant ships far less than its buyers trade among themselves).
        residual: dict[int, dict[int, float]] = defaultdict(dict)
        source_cut = 0.0
        seen_back = {v}
        queue = deque([v])
        while queue:
            w = queue.popleft()
            for u, cap in into.get(w, ()):
                if special is not None:
                    cap = special.get((u, w), cap)
                if cap <= 0:
                    continue
                row = residual[u]
                row[w] = row.get(w, 0.0) + cap
                residual[w].setdefault(u, 0.0)
                if u == source:
                    source_cut += cap
                elif u not in seen_back:
                    seen_back.add(u)
                    queue.append(u)
        # Each link into v carries at most what its supplier can have had: with the source
        # cut, a ceiling the search stops at as soon as it reaches it.
        ceiling = sum(
            min(special.get((u, v), cap) if special else cap, bounds.get(u, INF))
            for u, cap in feeders
        )
        bounds[v] = _augment(residual, source, v, min(ceiling, source_cut))
    return bounds


def pass_on(
    edges: Iterable[Edge],
    source: int,
    tiers: Mapping[int, int],
) -> dict[tuple[int, int], float]:
    """A consistent flow for pictures: each party passes on what it got, pro rata.

    Only edges from a lower to a higher tier are used (a Sankey cannot draw cycles). The
    source ships what its links carry; a party that received ``a`` kg and shipped ``w`` kg
    in total sends ``min(1, a / w)`` of each outgoing link's weight.

    Args:
        edges: directed edges with capacities in kg.
        source: the origin.
        tiers: node → tier (distance from the source); nodes without a tier are left out.

    Returns:
        (from, to) → kg carried in this flow.
    """
    caps: dict[tuple[int, int], float] = defaultdict(float)
    for u, v, cap in edges:
        if cap > 0 and u in tiers and v in tiers and tiers[u] < tiers[v]:
            caps[(u, v)] += cap
    shipped: dict[int, float] = defaultdict(float)
    for (u, _v), cap in caps.items():
        shipped[u] += cap
    received: dict[int, float] = defaultdict(float)
    received[source] = INF
    flow: dict[tuple[int, int], float] = {}
    for (u, v), cap in sorted(caps.items(), key=lambda item: (tiers[item[0][0]], item[0])):
        have = received[u]
        if have <= 0:
            continue
        share = 1.0 if have == INF else min(1.0, have / shipped[u])
        amount = cap * share
        if amount > _EPS:
            flow[(u, v)] = amount
            received[v] += amount
    return flow
