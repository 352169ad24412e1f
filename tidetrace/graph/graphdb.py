"""A built graph version, opened for queries; kept per process so repeat traces are warm.

Observed edges are Arrow tables in memory, indexed by node (:class:`_Csr`), so a trace
touches only the rows of the parties it visits: the per-edge totals (read when the graph
opens) answer traces over the whole period, the per-day events (read on the first windowed
trace) answer the others. Node labels and asserted edges are small and held in memory.
The flag split and windowed evidence ask DuckDB over the Parquet files.
"""

import json
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tidetrace.exc import NotFoundError
from tidetrace.graph.asserted import AssertedEdge
from tidetrace.graph.build import GRAPH_FORMAT, KIND_NAMES, GraphPaths, event_files
from tidetrace.store.search import name_tokens
from tidetrace.workspace import Workspace

__all__ = ["EdgeAgg", "LoadedGraph", "Window", "open_graph"]

Direction = Literal["downstream", "upstream"]


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

    @property
    def unbounded(self) -> bool:
        """Whether every shipment counts (no dates, no HS prefix)."""
        return self.since is None and self.until is None and self.hs is None

    def mask(self, table: pa.Table) -> Any:
        """The window as a boolean Arrow mask over a table of events; None for no filter."""
        parts = []
        if self.since is not None:
            parts.append(pc.greater_equal(table["day"], pa.scalar(self.since, pa.date32())))
        if self.until is not None:
            parts.append(pc.less_equal(table["day"], pa.scalar(self.until, pa.date32())))
        if self.hs is not None:
            hs = pc.fill_null(table["hs"], "")
            parts.append(pc.or_(pc.starts_with(hs, self.hs), pc.match_substring(hs, " " + self.hs)))
        if not parts:
            return None
        mask = parts[0]
        for part in parts[1:]:
            mask = pc.and_(mask, part)
        return mask

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


class _Csr:
    """Rows of an Arrow table grouped by a sorted node column: node → (first row, count)."""

    def __init__(self, table: pa.Table, key: str) -> None:
        self.table = table
        self.offsets: dict[int, tuple[int, int]] = {}
        counts = pc.value_counts(table[key])
        # value_counts keeps first-appearance order, which for a sorted column is ascending.
        start = 0
        for item in counts.to_pylist():
            self.offsets[item["values"]] = (start, item["counts"])
            start += item["counts"]

    def rows(self, nodes: Iterable[int]) -> pa.Table:
        """The rows of ``nodes``, in node order."""
        index: list[int] = []
        for node in nodes:
            found = self.offsets.get(node)
            if found is not None:
                index.extend(range(found[0], found[0] + found[1]))
        return self.table.take(pa.array(index, pa.int64()))


class _Segments:
    """Several :class:`_Csr` over tables of the same columns (a sorted file and its delta)."""

    def __init__(self, parts: list[_Csr]) -> None:
        self.parts = parts

    def rows(self, nodes: Iterable[int]) -> pa.Table:
        """The rows of ``nodes`` in every part (node order within each part)."""
        if len(self.parts) == 1:
            return self.parts[0].rows(nodes)
        wanted = list(nodes)
        return pa.concat_tables([part.rows(wanted) for part in self.parts])


class LoadedGraph:
    """One graph version: node labels, asserted edges and observed edges, ready to trace."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.version = path.name
        self.manifest = json.loads((path / "manifest.json").read_text())
        if self.manifest.get("format") != GRAPH_FORMAT:
            raise NotFoundError(
                "the graph was built by another version of tidetrace: run 'tidetrace graph build'"
            )
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
            # Events: the sorted file and the delta of newer events beside it, if any.
            files = event_files(path, name) if name != "edges" else [path / "edges.parquet"]
            listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            self._con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listed}])"  # noqa: S608
            )
        self._lock = threading.Lock()
        self._tokens: dict[str, list[int]] | None = None
        # ``bill_list`` is for the build (exact incremental summaries), not for traces.
        table = pq.read_table(
            path / "edges.parquet",
            columns=["src", "dst", "kind", "kg", "n", "first", "last", "hs", "bills"],
        ).combine_chunks()
        edges = table.select(["src", "dst", "kind", "kg", "n", "first", "last"])
        self._edges_out = _Csr(edges, "src")
        by_dst = edges.take(pc.sort_indices(edges, [("dst", "ascending")])).combine_chunks()
        self._edges_in = _Csr(by_dst, "dst")
        # HS codes and example bills of each edge (space-separated), in the same row order
        # as _edges_out: the evidence of a hop over the whole period.
        self._edge_dst: list[int] = table["dst"].to_pylist()
        self._edge_kind: list[int] = table["kind"].to_pylist()
        self._edge_hs: list[str | None] = table["hs"].to_pylist()
        self._edge_bills: list[str | None] = table["bills"].to_pylist()
        self._events: dict[str, _Segments] = {}

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

    def _events_csr(self, direction: Direction) -> "_Segments":
        name, key = ("events_src", "src") if direction == "downstream" else ("events_dst", "dst")
        with self._lock:
            csr = self._events.get(name)
            if csr is None:
                tables = [
                    pq.read_table(
                        file, columns=["src", "dst", "kind", "day", "hs", "kg", "n"]
                    ).combine_chunks()
                    for file in event_files(self.path, name)
                ]
                csr = _Segments([_Csr(t, key) for t in tables])
                self._events[name] = csr
            return csr

    def observed(self, nodes: list[int], direction: Direction, window: Window) -> list[EdgeAgg]:
        """Observed edges leaving (downstream) or entering (upstream) ``nodes`` in a window."""
        if not nodes:
            return []
        if window.unbounded:
            csr = self._edges_out if direction == "downstream" else self._edges_in
            return [
                EdgeAgg(r["src"], r["dst"], KIND_NAMES[r["kind"]], float(r["kg"] or 0.0),
                        int(r["n"]), r["first"], r["last"])
                for r in csr.rows(nodes).to_pylist()
            ]  # fmt: skip
        events = self._events_csr(direction).rows(nodes)
        mask = window.mask(events)
        if mask is not None:
            events = events.filter(mask)
        if events.num_rows == 0:
            return []
        grouped = events.group_by(["src", "dst", "kind"], use_threads=False).aggregate(
            [("kg", "sum"), ("n", "sum"), ("day", "min"), ("day", "max")]
        )
        return [
            EdgeAgg(r["src"], r["dst"], KIND_NAMES[r["kind"]], float(r["kg_sum"] or 0.0),
                    int(r["n_sum"]), r["day_min"], r["day_max"])
            for r in grouped.to_pylist()
        ]  # fmt: skip

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
        if window.unbounded:
            wanted: dict[int, set[int]] = defaultdict(set)
            for s, d in pairs:
                wanted[s].add(d)
            out: dict[tuple[int, int, str], tuple[list[str], list[str]]] = {}
            for s, dsts in wanted.items():
                found = self._edges_out.offsets.get(s)
                if found is None:
                    continue
                for row in range(found[0], found[0] + found[1]):
                    if self._edge_dst[row] in dsts:
                        hs = sorted(set((self._edge_hs[row] or "").split()))
                        bills = (self._edge_bills[row] or "").split()[:limit]
                        out[(s, self._edge_dst[row], KIND_NAMES[self._edge_kind[row]])] = (
                            hs,
                            bills,
                        )
            return out
        values = ", ".join(f"({int(s)}, {int(d)})" for s, d in sorted(pairs))
        srcs = ",".join(sorted({str(int(s)) for s, _d in pairs}))
        rows = (
            self.cursor()
            .execute(
                f"""
            SELECT e.src, e.dst, e.kind,
                   list_sort(list_distinct(flatten(list(string_split(coalesce(e.hs, ''), ' '))))),
                   min(e.bill, {int(limit)})
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
