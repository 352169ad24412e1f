"""A built graph version, opened for queries; kept per process so repeat traces are warm.

Observed edges stay in Parquet and are read through DuckDB with filters on the sorted node
column, so a trace touches the row groups of the parties it visits and nothing else. Node
labels and asserted edges are small and held in memory.
"""

import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow.parquet as pq

from tidetrace.exc import NotFoundError
from tidetrace.graph.asserted import AssertedEdge
from tidetrace.graph.build import KIND_NAMES, GraphPaths
from tidetrace.store.search import name_tokens
from tidetrace.workspace import Workspace

__all__ = ["EdgeAgg", "LoadedGraph", "Window", "open_graph"]

Direction = Literal["downstream", "upstream"]
# Node numbers per IN list; DuckDB prunes row groups on the min/max of the sorted column.
_CHUNK = 2000


@dataclass(frozen=True)
class Window:
    """Which shipments count: arrival between ``since`` and ``until`` (inclusive), HS prefix.

    Attributes:
        since: first day, or None for no lower bound.
        until: last day, or None.
        hs: HS code prefix (digits), or None for all goods.
    """

    since: date | None = None
    until: date | None = None
    hs: str | None = None

    def sql(self) -> str:
        """The window as a SQL condition on ``day`` and ``hs`` (values are validated)."""
        parts = ["TRUE"]
        if self.since is not None:
            parts.append(f"day >= DATE '{self.since.isoformat()}'")
        if self.until is not None:
            parts.append(f"day <= DATE '{self.until.isoformat()}'")
        if self.hs is not None:
            if not self.hs.isdigit():
                raise ValueError("HS prefix must be digits")
            parts.append(f"(hs LIKE '{self.hs}%' OR hs LIKE '% {self.hs}%')")
        return " AND ".join(parts)

    def to_dict(self) -> dict[str, str | None]:
        """JSON-able form."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "hs": self.hs,
        }


@dataclass
class EdgeAgg:
    """Shipments on one observed edge in a window (goods direction ``src`` → ``dst``).

    Attributes:
        src: node number of the shipper (or consignee, for notify edges).
        dst: node number of the receiver.
        kind: ``shipped`` or ``notify``.
        kg: total weight in kg.
        n: number of shipments (bills of lading).
        first: first arrival date.
        last: last arrival date.
    """

    src: int
    dst: int
    kind: str
    kg: float
    n: int
    first: date
    last: date


class LoadedGraph:
    """One graph version: node labels, asserted edges, and DuckDB over its edge events."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.version = path.name
        self.manifest = json.loads((path / "manifest.json").read_text())
        nodes = pq.read_table(path / "nodes.parquet").to_pydict()
        self.ids: list[str] = nodes["id"]
        self.names: list[str] = nodes["name"]
        self.schemas: list[str] = nodes["schema"]
        self.countries: list[str | None] = nodes["country"]
        self.roles: list[str] = nodes["role"]
        self.in_store: list[bool] = nodes["in_store"]
        self.index = {node_id: i for i, node_id in enumerate(self.ids)}
        self.asserted: list[AssertedEdge] = [
            AssertedEdge.from_dict(d) for d in json.loads((path / "asserted.json").read_text())
        ]
        self.asserted_out: dict[int, list[int]] = defaultdict(list)
        self.asserted_in: dict[int, list[int]] = defaultdict(list)
        for i, edge in enumerate(self.asserted):
            self.asserted_out[self.index[edge.src]].append(i)
            self.asserted_in[self.index[edge.dst]].append(i)
        self._con = duckdb.connect()
        self._con.execute("SET preserve_insertion_order = false")
        for name in ("events_src", "events_dst", "edges"):
            file = str(path / f"{name}.parquet").replace("'", "''")
            self._con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{file}')"  # noqa: S608
            )
        self._lock = threading.Lock()
        self._tokens: dict[str, list[int]] | None = None

    def find_by_name(self, query: str, limit: int = 50) -> list[int]:
        """Nodes whose name has every token of ``query`` (the last one as a prefix)."""
        tokens = sorted(name_tokens(query))
        if not tokens:
            return []
        if self._tokens is None:
            index: dict[str, list[int]] = defaultdict(list)
            for i, name in enumerate(self.names):
                for token in name_tokens(name):
                    index[token].append(i)
            self._tokens = dict(index)
        found: set[int] | None = None
        for token in tokens:
            hits = set(self._tokens.get(token, ()))
            if len(token) >= 3:
                for key, nodes in self._tokens.items():
                    if key.startswith(token):
                        hits.update(nodes)
            found = hits if found is None else found & hits
            if not found:
                return []
        return sorted(found or (), key=lambda i: (len(self.names[i]), self.names[i]))[:limit]

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for this thread (DuckDB connections are not shared across threads)."""
        with self._lock:
            return self._con.cursor()

    def node(self, entity_id: str) -> int:
        """The node number of an entity id; NotFoundError when the graph lacks it."""
        idx = self.index.get(entity_id)
        if idx is None:
            raise NotFoundError(f"{entity_id!r} has no edges in the graph")
        return idx

    def observed(self, nodes: list[int], direction: Direction, window: Window) -> list[EdgeAgg]:
        """Observed edges leaving (downstream) or entering (upstream) ``nodes`` in a window."""
        if not nodes:
            return []
        table, column = (
            ("events_src", "src") if direction == "downstream" else ("events_dst", "dst")
        )
        cond = window.sql()
        out: list[EdgeAgg] = []
        cur = self.cursor()
        for start in range(0, len(nodes), _CHUNK):
            chunk = ",".join(str(int(n)) for n in sorted(nodes[start : start + _CHUNK]))
            rows = cur.execute(
                f"""
                SELECT src, dst, kind, coalesce(sum(kg), 0), sum(n), min(day), max(day)
                FROM {table} WHERE {column} IN ({chunk}) AND {cond}
                GROUP BY src, dst, kind
                """  # noqa: S608 - node numbers are ints, the window is validated
            ).fetchall()
            for src, dst, kind, kg, n, first, last in rows:
                out.append(EdgeAgg(src, dst, KIND_NAMES[kind], float(kg), int(n), first, last))
        return out

    def split_kg(
        self, cutoffs: dict[int, date], direction: Direction, window: Window
    ) -> dict[tuple[int, int, str], tuple[float, float]]:
        """Per edge leaving a node in ``cutoffs``: kg before and from that node's cutoff day.

        Args:
            cutoffs: node → the day its flag applies from.
            direction: unused for the filter (cutoffs apply to shipments *by* the node).
            window: the query window.

        Returns:
            (src, dst, kind) → (kg before the cutoff, kg on or after it).
        """
        if not cutoffs:
            return {}
        values = ", ".join(f"({int(n)}, DATE '{d.isoformat()}')" for n, d in cutoffs.items())
        nodes = ",".join(str(int(n)) for n in cutoffs)
        rows = (
            self.cursor()
            .execute(
                f"""
            SELECT e.src, e.dst, e.kind,
                   coalesce(sum(e.kg) FILTER (WHERE e.day < c.d), 0),
                   coalesce(sum(e.kg) FILTER (WHERE e.day >= c.d), 0)
            FROM events_src e JOIN (VALUES {values}) AS c(node, d) ON e.src = c.node
            WHERE e.src IN ({nodes}) AND {window.sql()}
            GROUP BY e.src, e.dst, e.kind
            """  # noqa: S608 - ints and validated dates only
            )
            .fetchall()
        )
        return {(s, d, KIND_NAMES[k]): (float(pre), float(post)) for s, d, k, pre, post in rows}

    def evidence(
        self, pairs: set[tuple[int, int]], window: Window, limit: int = 10
    ) -> dict[tuple[int, int, str], tuple[list[str], list[str]]]:
        """HS codes and (up to ``limit``) bill numbers of observed edges in a window.

        Returns:
            (src, dst, kind) → (HS codes, bill numbers).
        """
        if not pairs:
            return {}
        values = ", ".join(f"({int(s)}, {int(d)})" for s, d in sorted(pairs))
        srcs = ",".join(sorted({str(int(s)) for s, _d in pairs}))
        rows = (
            self.cursor()
            .execute(
                f"""
            SELECT e.src, e.dst, e.kind,
                   list_sort(list_distinct(flatten(list(string_split(coalesce(e.hs, ''), ' '))))),
                   list_sort(list_distinct(flatten(list(e.bills))))[:{int(limit)}]
            FROM events_src e JOIN (VALUES {values}) AS p(s, d) ON e.src = p.s AND e.dst = p.d
            WHERE e.src IN ({srcs}) AND {window.sql()}
            GROUP BY e.src, e.dst, e.kind
            """  # noqa: S608 - ints and validated values only
            )
            .fetchall()
        )
        return {
            (s, d, KIND_NAMES[k]): ([h for h in hs if h], list(bills))
            for s, d, k, hs, bills in rows
        }

    def asserted_edges(self, nodes: list[int], direction: Direction) -> list[int]:
        """Indexes of asserted edges leaving (downstream) or entering (upstream) ``nodes``."""
        table = self.asserted_out if direction == "downstream" else self.asserted_in
        out: list[int] = []
        for node in nodes:
            out.extend(table.get(node, ()))
        return out

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._con.close()


_CACHE: dict[Path, LoadedGraph] = {}
_CACHE_LOCK = threading.Lock()


def open_graph(ws: Workspace) -> LoadedGraph:
    """The live graph version of a workspace, opened once per process.

    Raises:
        NotFoundError: the graph has not been built yet.
    """
    current = GraphPaths.of(ws).current()
    if current is None:
        raise NotFoundError("no graph yet: run 'tidetrace graph build'")
    with _CACHE_LOCK:
        graph = _CACHE.get(current)
        if graph is None:
            # Older versions of this workspace are superseded. They are not closed here: a
            # request on another thread may still be reading; the connection closes when
            # the last reference goes.
            for path in [p for p in _CACHE if p.parent == current.parent]:
                _CACHE.pop(path)
            graph = LoadedGraph(current)
            _CACHE[current] = graph
        return graph


def drop_cache() -> None:
    """Forget every opened graph (benchmarks measure cold traces with it)."""
    with _CACHE_LOCK:
        for graph in _CACHE.values():
            graph.close()
        _CACHE.clear()
