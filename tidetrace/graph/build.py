"""Build the supply-chain graph from trade records and the entity store, incrementally.

Layout under ``<workspace>/graph/``::

    parts/<partition>-<fp>.parquet     shipments of one source partition, reduced to what
    parts/<partition>-<fp>.parties.parquet  the graph needs, with raw party ids (one pair of
                                       files per partition *content*: a changed partition
                                       gets new files, the old ones stay until the next
                                       version no longer needs them)
    parts/manifest.json                partition → fingerprint and file
    v<N>/events_src.parquet            observed edge events (one row per bill and edge, with
                                       the bill's key), canonical node numbers, by src
    v<N>/events_dst.parquet            the same rows sorted by dst (upstream traces)
    v<N>/events_*.delta.parquet        events added since those were written, sorted the
                                       same way (readers take both; see :func:`event_files`)
    v<N>/edges.parquet                 one summary row per observed edge (whole period)
    v<N>/nodes.parquet                 node number → id, name, schema, country, role
    v<N>/idmap.parquet                 raw party id → canonical id, as this version used it
    v<N>/asserted.json                 asserted edges (:mod:`tidetrace.graph.asserted`)
    v<N>/manifest.json                 what the version was built from (partition → file)
    CURRENT                            the name of the live version directory

Two stages, both incremental. *Aggregation* reads only partitions whose fingerprint changed
and writes one part file each, keyed by the parties' raw ids. *Compaction* maps raw ids to
canonical ones (entity resolution may have merged parties since), numbers the nodes and
writes a new version directory, then switches ``CURRENT`` to it in one rename: a reader
sees the old graph or the new one, never half of each.

A full compaction reads every part. An incremental one starts from the live version and
works on *dirty bills* only: the bills of added, changed and removed partitions, and the
bills naming a party whose canonical id changed. Their old events are taken out, their
current versions (the latest across all partitions) are mapped, the edges they touch are
summed again, and node numbers are kept (new nodes appended, vanished ones closed up in
order). When only new events come, the sorted event files are linked into the new version
unchanged and the new events go to small sorted *delta* files beside them, until those
outgrow :data:`FOLD_SHARE` of them; otherwise the old events are merged with the new ones
into new sorted files (a merge, not a sort). When most bills are dirty, a full compaction
is cheaper, and the result says so. Either way the version holds the same nodes, edges
and events, up to node numbering.

Edges: shipper → consignee (``shipped``) and consignee → notify party (``notify``) per
shipment; asserted edges from the store. A party resolved into the same entity on both
ends of a bill (a self-loop) is dropped. Nodes are the ends of observed and asserted edges.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, or_, select

from tidetrace.graph.asserted import AssertedEdge, load_asserted
from tidetrace.graph.events import EVENT_SCHEMA, edge_rows, merge_sorted, remap, write_events
from tidetrace.graph.flags import refresh_list_flags
from tidetrace.graph.sources import Partition, ShipmentSource, default_sources
from tidetrace.store import audit
from tidetrace.store.datasets import TRADE_PARTIES_DATASET
from tidetrace.store.entities import utc_now
from tidetrace.store.tables import audit_table, statement_table
from tidetrace.workspace import Workspace

__all__ = [
    "BuildResult",
    "GraphPaths",
    "build_graph",
    "ensure_graph",
    "event_files",
    "graph_is_stale",
    "store_fingerprint",
]

# Audit actions of changes the graph is built from: imports and ingests add entities and
# trade records, resolution changes canonical ids. Users, keys, flags, cases, evidence and
# intake do not change the graph.
GRAPH_ACTIONS = ("import.", "ingest.", "registry.", "resolve.", "shipments.", "entities.")
# Properties read for node labels and roles.
_NODE_PROPS = ("name", "country", "sector", "topics")
NOTIFY_KIND = 1
SHIPPED_KIND = 0
KIND_NAMES = {SHIPPED_KIND: "shipped", NOTIFY_KIND: "notify"}
ROW_GROUP = 65_536
# Bumped when part files change shape: older ones are then read again from the sources.
PARTS_FORMAT = 3
# Bumped when version files change shape: an older version is rebuilt, never misread.
GRAPH_FORMAT = 5
# An incremental compaction re-reads every dirty bill; past this share of all bills a full
# one is as cheap and simpler.
FULL_SHARE = 0.5
# ... unless the dirty bills are this few: then the incremental path is cheap regardless.
FULL_MIN_BILLS = 100_000
# New events go to small sorted delta files beside the version's sorted event files (which
# are linked, not rewritten) until they outgrow this share of them; then both are merged.
FOLD_SHARE = 0.1
# Bill numbers kept per edge as examples (the evidence of a hop over the whole period).
BILL_SAMPLE = 10


@dataclass
class GraphPaths:
    """Where a workspace's graph files live."""

    root: Path

    @classmethod
    def of(cls, ws: Workspace) -> "GraphPaths":
        """The graph directory of a workspace."""
        return cls(ws.home / "graph")

    @property
    def parts(self) -> Path:
        """Aggregated partitions."""
        return self.root / "parts"

    @property
    def current_file(self) -> Path:
        """The file naming the live version."""
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        """The live version directory, or None before the first build."""
        try:
            name = self.current_file.read_text().strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if re.fullmatch(r"v\d+", name) and path.is_dir() else None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One build at a time per workspace (an advisory file lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class BuildResult:
    """What a build did.

    ``mode`` says how the version was compacted: ``full`` (every part read),
    ``incremental`` (the previous version's events carried over, only dirty bills read), or
    empty when the graph was already current. For an incremental compaction the
    ``*_reused`` counts say what was carried over and ``parts_reused`` names the partitions
    whose bills were not read again.
    """

    version: str = ""
    partitions_read: int = 0
    partitions_kept: int = 0
    partitions_dropped: int = 0
    nodes: int = 0
    observed_edges: int = 0
    asserted_edges: int = 0
    events: int = 0
    list_flags_added: int = 0
    list_flags_removed: int = 0
    compacted: bool = False
    mode: str = ""
    parts_reused: list[str] = field(default_factory=list)
    parts_compacted: list[str] = field(default_factory=list)
    parts_removed: list[str] = field(default_factory=list)
    ids_remapped: int = 0
    bills_remapped: int = 0
    events_reused: int = 0
    events_delta: int = 0
    events_removed: int = 0
    events_added: int = 0
    nodes_reused: int = 0
    nodes_added: int = 0
    nodes_dropped: int = 0
    edges_reused: int = 0
    edges_rebuilt: int = 0
    notes: list[str] = field(default_factory=list)
    # Wall seconds per step (aggregate, flags, prepare, dirty, …), for benchmarks.
    seconds: dict[str, float] = field(default_factory=dict)
    _mark: float = field(default_factory=time.perf_counter, repr=False)

    def lap(self, step: str) -> None:
        """Charge the time since the last lap to ``step``."""
        now = time.perf_counter()
        self.seconds[step] = round(self.seconds.get(step, 0.0) + now - self._mark, 3)
        self._mark = now

    def summary(self) -> str:
        """One line for the terminal."""
        if not self.compacted:
            return f"graph {self.version}: up to date"
        line = (
            f"graph {self.version}: {self.nodes} nodes, {self.observed_edges} observed edges "
            f"({self.events} edge-days), {self.asserted_edges} asserted edges; partitions "
            f"read {self.partitions_read}, unchanged {self.partitions_kept}, dropped "
            f"{self.partitions_dropped}; list flags +{self.list_flags_added} "
            f"-{self.list_flags_removed}"
        )
        return f"{line}\n{self.compaction()}"

    def compaction(self) -> str:
        """How the version was compacted and what it reused, in one line."""
        if self.mode == "incremental":
            text = (
                f"incremental: reused {self.events_reused} events of "
                f"{len(self.parts_reused)} unchanged partitions, {self.nodes_reused} node "
                f"numbers and {self.edges_reused} edges; re-read {self.bills_remapped} bills "
                f"({len(self.parts_compacted)} new or changed partitions, "
                f"{len(self.parts_removed)} removed or replaced, {self.ids_remapped} parties "
                f"with a new canonical id); events -{self.events_removed} "
                f"+{self.events_added}, nodes +{self.nodes_added} -{self.nodes_dropped}, "
                f"edges summed again {self.edges_rebuilt}; "
                + (
                    f"sorted event files linked, {self.events_delta} events in their deltas"
                    if self.events_delta
                    else "sorted event files merged"
                )
            )
        else:
            text = "full: every partition compacted"
        return "; ".join([text, *self.notes])


def store_fingerprint(engine: Engine) -> int:
    """The newest audit entry that can change the graph (imports, resolution, ingests)."""
    query = select(func.max(audit_table.c.seq)).where(
        or_(*(audit_table.c.action.startswith(prefix) for prefix in GRAPH_ACTIONS))
    )
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return int(value or 0)


def _safe_name(key: str, fingerprint: str) -> str:
    # Partition keys contain '/' and '='; file names get a readable, collision-free form.
    # The fingerprint is part of the name so that a changed partition gets new files and
    # the previous version's stay readable: an incremental compaction needs the old bills
    # to take their events out.
    slug = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")[:80]
    digest = hashlib.sha1(f"{key}\n{fingerprint}".encode(), usedforsecurity=False).hexdigest()
    return f"{slug}-{digest[:16]}"


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    os.replace(tmp, path)


def _read_parts(paths: GraphPaths) -> dict[str, Any]:
    """Partition → fingerprint of the part files; empty when written by another format."""
    data = _read_manifest(paths.parts / "manifest.json")
    if data.get("format") != PARTS_FORMAT:
        return {}
    partitions: dict[str, Any] = data.get("partitions", {})
    return partitions


def _part_files(parts: dict[str, Any]) -> dict[str, str]:
    """Partition → part file name, as a version's manifest records it."""
    return {key: str(entry["file"]) for key, entry in sorted(parts.items())}


def graph_is_stale(ws: Workspace, sources: list[ShipmentSource] | None = None) -> bool:
    """Whether new records arrived since the live version was built (cheap to ask)."""
    paths = GraphPaths.of(ws)
    current = paths.current()
    if current is None:
        return True
    manifest = _read_manifest(current / "manifest.json")
    if manifest.get("format") != GRAPH_FORMAT:
        return True
    if manifest.get("store_seq") != store_fingerprint(ws.engine):
        return True
    parts = _read_parts(paths)
    # Parts aggregated by a build that stopped before its compaction are not in the graph.
    if manifest.get("parts") != _part_files(parts):
        return True
    for source in sources if sources is not None else default_sources(ws.engine, ws.parquet_dir):
        if source.name == "store":
            continue  # covered by the audit log
        for partition in source.partitions():
            if parts.get(partition.key, {}).get("fingerprint") != partition.fingerprint:
                return True
    return False


def ensure_graph(ws: Workspace, actor: str = "cli") -> BuildResult | None:
    """Build the graph when it is missing or stale; None when it was current."""
    if not graph_is_stale(ws):
        return None
    return build_graph(ws, actor=actor)


def _slim(
    con: duckdb.DuckDBPyConnection, source: ShipmentSource, partition: Partition, out: Path
) -> int:
    """Write one partition's bills, reduced to what the graph needs, to ``out``."""
    source.register(con, partition, "shipments_view")
    tmp = out.with_suffix(".tmp.parquet")
    con.execute(
        f"""
        COPY (
            SELECT key::VARCHAR AS key, filing_date::DATE AS filing_date,
                   ingest_seq::BIGINT AS ingest_seq, source_row::BIGINT AS source_row,
                   deleted::BOOLEAN AS deleted, bill::VARCHAR AS bill, day::DATE AS day,
                   shipper::VARCHAR AS shipper, consignee::VARCHAR AS consignee,
                   -- Typed: a layout without notify parties has only NULLs here, which
                   -- would otherwise be written as integers and fail to join later.
                   (CASE WHEN notify = consignee THEN NULL ELSE notify END)::VARCHAR AS notify,
                   hs::VARCHAR AS hs, kg::DOUBLE AS kg
            FROM shipments_view
        ) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)
        """  # noqa: S608 - the path is ours
    )
    ptmp = out.with_suffix(".tmp.parties.parquet")
    # One scan for all three roles: each row unnests into its parties.
    con.execute(
        f"""
        COPY (
            SELECT p.id, min(p.name) AS name, min(p.country) AS country,
                   bool_or(p.forwarder) AS forwarder
            FROM (
                SELECT unnest([
                    {{'id': shipper, 'name': shipper_name, 'country': shipper_country,
                      'forwarder': forwarder}},
                    {{'id': consignee, 'name': consignee_name, 'country': consignee_country,
                      'forwarder': false}},
                    {{'id': notify, 'name': notify_name, 'country': notify_country,
                      'forwarder': false}}
                ]) AS p FROM shipments_view
            ) WHERE p.id IS NOT NULL GROUP BY p.id
        ) TO '{ptmp}' (FORMAT parquet, COMPRESSION zstd)
        """  # noqa: S608 - the path is ours
    )
    rows = int(pq.ParquetFile(tmp).metadata.num_rows)
    os.replace(tmp, out)
    os.replace(ptmp, out.with_suffix(".parties.parquet"))
    return rows


def _canonical_map(engine: Engine) -> pa.Table:
    query = (
        select(statement_table.c.entity_id, statement_table.c.canonical_id)
        .where(statement_table.c.entity_id != statement_table.c.canonical_id)
        .distinct()
    )
    raws: list[str] = []
    canons: list[str] = []
    with engine.connect() as conn:
        for row in conn.execute(query):
            raws.append(row.entity_id)
            canons.append(row.canonical_id)
    return pa.table(
        {"raw": pa.array(raws, pa.string()), "canonical": pa.array(canons, pa.string())}
    )


def _node_attributes(engine: Engine, ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(
                statement_table.c.canonical_id,
                statement_table.c.schema,
                statement_table.c.prop,
                statement_table.c.value,
                statement_table.c.dataset,
            ).where(statement_table.c.canonical_id.in_(chunk))
            query = query.where(statement_table.c.prop.in_((*_NODE_PROPS, "id")))
            # A name from a list, registry or the case labels the node before a spelling as
            # filed on a bill (the parties resolution wrote into the store).
            as_filed = statement_table.c.dataset == TRADE_PARTIES_DATASET
            for row in conn.execute(query.order_by(as_filed, statement_table.c.value)):
                info = out.setdefault(
                    row.canonical_id, {"schema": row.schema, "sector": [], "topics": []}
                )
                if row.prop in ("sector", "topics"):
                    info[row.prop].append(row.value)
                elif row.prop in ("name", "country"):
                    info.setdefault(row.prop, row.value)
    return out


def _role(info: dict[str, Any], forwarder: bool, shipped: bool, received: bool) -> str:
    """A node's place in the chain, for colouring pictures (not used in any number)."""
    sectors = " ".join(info.get("sector", [])).lower()
    if forwarder or any(w in sectors for w in ("forwarder", "forwarding", "nvocc")):
        return "forwarder"
    if info.get("schema") == "Facility":
        return "plant"
    for sector in info.get("sector", []):
        sector = sector.lower()
        for word, role in (
            ("plant", "plant"),
            ("importer", "importer"),
            ("retail", "retailer"),
            ("restaurant", "retailer"),
            ("distributor", "distributor"),
            ("seafood", "distributor"),
            ("parent", "parent"),
            ("institution", "institution"),
        ):
            if word in sector:
                return role
    if info.get("schema") == "PublicBody":
        return "institution"
    if shipped and not received:
        return "exporter"
    if received:
        return "importer"
    return "other"


def build_graph(
    ws: Workspace,
    sources: list[ShipmentSource] | None = None,
    full: bool = False,
    actor: str = "cli",
) -> BuildResult:
    """Bring the graph up to date with the trade records and the entity store.

    Args:
        ws: the workspace.
        sources: shipment sources (default: the store's Shipments and ``ws.parquet_dir``).
        full: re-aggregate every partition and compact from scratch.
        actor: who asked, for the audit log.

    Returns:
        What was read, kept, reused and written.
    """
    paths = GraphPaths.of(ws)
    sources = sources if sources is not None else default_sources(ws.engine, ws.parquet_dir)
    result = BuildResult()
    with paths.lock():
        paths.parts.mkdir(parents=True, exist_ok=True)
        manifest = {} if full else _read_parts(paths)
        seen: set[str] = set()
        con = duckdb.connect()
        try:
            con.execute("SET preserve_insertion_order = false")
            for source in sources:
                for partition in source.partitions():
                    seen.add(partition.key)
                    entry = manifest.get(partition.key)
                    out = (
                        paths.parts / f"{_safe_name(partition.key, partition.fingerprint)}.parquet"
                    )
                    if (
                        entry is not None
                        and entry.get("fingerprint") == partition.fingerprint
                        and entry.get("file") == out.name
                        and out.is_file()
                    ):
                        result.partitions_kept += 1
                        continue
                    rows = _slim(con, source, partition, out)
                    manifest[partition.key] = {
                        "fingerprint": partition.fingerprint,
                        "file": out.name,
                        "rows": rows,
                        "source": source.name,
                    }
                    result.partitions_read += 1
            for key in [k for k in manifest if k not in seen]:
                # Its files stay until the new version is live (see _collect_parts).
                manifest.pop(key)
                result.partitions_dropped += 1
            _write_json(
                paths.parts / "manifest.json", {"format": PARTS_FORMAT, "partitions": manifest}
            )
            result.lap("aggregate")
            store_seq = store_fingerprint(ws.engine)
            current = paths.current()
            old = _read_manifest(current / "manifest.json") if current is not None else {}
            changed = (
                full
                or result.partitions_read
                or result.partitions_dropped
                or old.get("store_seq") != store_seq
                or old.get("format") != GRAPH_FORMAT
                or old.get("parts") != _part_files(manifest)
                or current is None
            )
            with ws.engine.begin() as conn:
                result.list_flags_added, result.list_flags_removed = refresh_list_flags(conn)
            result.lap("flags")
            if not changed:
                result.version = current.name if current is not None else ""
                _collect_parts(paths, manifest)
                return result
            _compact(ws, paths, con, manifest, store_seq, result, full)
            _collect_parts(paths, manifest)
        finally:
            con.close()
        with ws.engine.begin() as conn:
            audit.append(
                conn,
                actor,
                "graph.build",
                result.version,
                {
                    "nodes": result.nodes,
                    "observed": result.observed_edges,
                    "asserted": result.asserted_edges,
                    "partitions_read": result.partitions_read,
                    "mode": result.mode,
                    "events_reused": result.events_reused,
                },
            )
    return result


def _collect_parts(paths: GraphPaths, manifest: dict[str, Any]) -> None:
    """Delete part files the live version no longer needs (replaced or dropped partitions)."""
    keep = {"manifest.json"}
    for entry in manifest.values():
        keep.add(entry["file"])
        keep.add(entry["file"].replace(".parquet", ".parties.parquet"))
    for path in paths.parts.iterdir():
        if path.name not in keep:
            path.unlink(missing_ok=True)


_EMPTY_PARTS = """
    SELECT NULL::VARCHAR AS key, NULL::DATE AS filing_date, NULL::BIGINT AS ingest_seq,
           NULL::BIGINT AS source_row, NULL::BOOLEAN AS deleted, NULL::VARCHAR AS bill,
           NULL::DATE AS day, NULL::VARCHAR AS shipper, NULL::VARCHAR AS consignee,
           NULL::VARCHAR AS notify, NULL::VARCHAR AS hs, NULL::DOUBLE AS kg WHERE false
"""
# The latest version of each bill wins (as the trade-records queries show it): latest
# filing date, then latest ingest, then the later row of the source. The remaining columns
# only break ties between versions no ordering column tells apart, so that every build
# picks the same one whichever partitions it reads.
VERSION_ORDER = (
    "filing_date DESC NULLS LAST, ingest_seq DESC NULLS LAST, source_row DESC NULLS LAST, "
    "deleted DESC, day DESC NULLS LAST, shipper DESC NULLS LAST, consignee DESC NULLS LAST, "
    "notify DESC NULLS LAST, hs DESC NULLS LAST, kg DESC NULLS LAST, bill DESC NULLS LAST"
)
_EMPTY_PARTIES = """
    SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS name, NULL::VARCHAR AS country,
           NULL::BOOLEAN AS forwarder WHERE false
"""
_LIVE = "NOT deleted AND shipper IS NOT NULL AND consignee IS NOT NULL AND day IS NOT NULL"
# Edge summaries from events, kept in a form where every part adds up (an incremental
# build adds new events' summaries to old ones): weights as decimals to the gram (exact, so
# the total does not depend on the order rows arrive in: a full and an incremental build
# agree), HS codes as a sorted set, example bills as the smallest few. A total read back
# from its double is exact below 2^53 grams (9 million tonnes on one edge).
_EDGE_SELECT = f"""
    SELECT src, dst, kind, sum(TRY_CAST(kg AS DECIMAL(38, 3))) AS kg,
           count(*)::BIGINT AS n, min(day) AS first, max(day) AS last,
           list_filter(list_sort(list_distinct(flatten(list(
               string_split(coalesce(hs, ''), ' '))))), x -> x <> '') AS hs,
           min(bill, {BILL_SAMPLE}) AS bills
"""


def _file_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _scan(files: list[Path], empty: str = _EMPTY_PARTS) -> str:
    """A FROM item over part files (or an empty relation of the same shape)."""
    return f"read_parquet({_file_list(files)})" if files else f"({empty})"


def _prepare(
    ws: Workspace, con: duckdb.DuckDBPyConnection, files: dict[str, Path]
) -> list[AssertedEdge]:
    """Tables ``canon``, ``rawmap``, ``party`` and ``asserted_ids``; the asserted edges."""
    con.register("canon_arrow", _canonical_map(ws.engine))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE canon AS "
        "SELECT raw, min(canonical) AS canonical FROM canon_arrow GROUP BY raw"
    )
    con.unregister("canon_arrow")
    parties = [f.with_suffix(".parties.parquet") for f in files.values()]
    # Every raw party id of the parts, with its canonical id (the node it becomes).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE rawmap AS
        SELECT p.id AS raw, coalesce(any_value(c.canonical), p.id) AS id,
               min(p.name) AS name, min(p.country) AS country,
               bool_or(p.forwarder) AS forwarder
        FROM {_scan(parties, _EMPTY_PARTIES)} p LEFT JOIN canon c ON c.raw = p.id
        GROUP BY p.id
        """  # noqa: S608 - paths are ours
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE party AS
        SELECT id, min(name) AS name, min(country) AS country, bool_or(forwarder) AS forwarder
        FROM rawmap GROUP BY id
        """
    )
    asserted = load_asserted(ws.engine)
    ends = sorted({e.src for e in asserted} | {e.dst for e in asserted})
    canon: dict[str, str] = {}
    if ends:
        con.register("ends_arrow", pa.table({"raw": pa.array(ends, pa.string())}))
        canon = dict(
            con.execute(
                "SELECT raw, canonical FROM canon SEMI JOIN ends_arrow USING (raw)"
            ).fetchall()
        )
        con.unregister("ends_arrow")
    for edge in asserted:
        edge.src = canon.get(edge.src, edge.src)
        edge.dst = canon.get(edge.dst, edge.dst)
    asserted = [e for e in asserted if e.src != e.dst]
    asserted_ids = sorted({e.src for e in asserted} | {e.dst for e in asserted})
    con.register("asserted_arrow", pa.table({"id": pa.array(asserted_ids, pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE asserted_ids AS SELECT id FROM asserted_arrow")
    con.unregister("asserted_arrow")
    return asserted


def _events_of_bills(con: duckdb.DuckDBPyConnection, bills: str, table: str) -> None:
    """Create ``table``: the events of the live bills in ``bills``, numbered by ``num``."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE rawidx AS
        SELECT r.raw, n.idx FROM rawmap r JOIN num n ON n.id = r.id
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT a.idx AS src, b.idx AS dst, {SHIPPED_KIND}::TINYINT AS kind, r.day, r.hs, r.kg,
               1::INTEGER AS n, r.bill, r.key
        FROM {bills} r JOIN rawidx a ON a.raw = r.shipper JOIN rawidx b ON b.raw = r.consignee
        UNION ALL
        SELECT b.idx, c.idx, {NOTIFY_KIND}::TINYINT, r.day, r.hs, r.kg, 1, r.bill, r.key
        FROM {bills} r JOIN rawidx b ON b.raw = r.consignee JOIN rawidx c ON c.raw = r.notify
        """  # noqa: S608 - table names are ours
    )
    # A party resolved into the same entity on both ends of a bill is no edge.
    con.execute(f"DELETE FROM {table} WHERE src = dst")  # noqa: S608


def _survivors(
    con: duckdb.DuckDBPyConnection, edges: str, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (in ``num``) of the nodes that stay, and the monotone map old → new number.

    A node stays when an observed edge (in table ``edges``) or an asserted edge ends at it.
    Closing up the numbers of the others in order keeps every table sorted by node sorted.
    """
    rows = con.execute(
        f"""
        SELECT idx FROM (
            SELECT src AS idx FROM {edges} UNION SELECT dst FROM {edges}
            UNION SELECT n.idx FROM num n SEMI JOIN asserted_ids a ON a.id = n.id
        ) ORDER BY idx
        """  # noqa: S608 - table names are ours
    ).fetchnumpy()
    kept = np.asarray(rows["idx"], dtype=np.int64)
    mapping = np.full(max(count, 1), -1, dtype=np.int64)
    mapping[kept] = np.arange(len(kept), dtype=np.int64)
    return kept, mapping


def _compact(
    ws: Workspace,
    paths: GraphPaths,
    con: duckdb.DuckDBPyConnection,
    manifest: dict[str, Any],
    store_seq: int,
    result: BuildResult,
    full: bool,
) -> None:
    existing = [int(p.name[1:]) for p in paths.root.glob("v*") if re.fullmatch(r"v\d+", p.name)]
    version = f"v{max(existing, default=0) + 1}"
    out = paths.root / f".{version}.tmp"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = {
        key: paths.parts / entry["file"]
        for key, entry in sorted(manifest.items())
        if (paths.parts / entry["file"]).is_file()
    }
    asserted = _prepare(ws, con, files)
    result.lap("prepare")
    previous = None if full else paths.current()
    done = False
    if previous is not None:
        done = _compact_incremental(con, paths, previous, files, manifest, out, result)
    if not done:
        _compact_full(con, files, out, result)
    result.lap("events")
    nodes = _write_nodes(ws, con, out)
    con.execute(
        f"COPY (SELECT raw, id FROM rawmap ORDER BY raw) TO '{out / 'idmap.parquet'}' "  # noqa: S608
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    _write_json(out / "asserted.json", [e.to_dict() for e in asserted])
    result.events = sum(
        int(pq.ParquetFile(f).metadata.num_rows) for f in event_files(out, "events_src")
    )
    result.observed_edges = int(pq.ParquetFile(out / "edges.parquet").metadata.num_rows)
    result.nodes = nodes
    result.asserted_edges = len(asserted)
    result.version = version
    result.compacted = True
    _write_json(
        out / "manifest.json",
        {
            "version": version,
            "format": GRAPH_FORMAT,
            "built_at": utc_now(),
            "store_seq": store_seq,
            # The part files this version holds (a part file gone missing is not among
            # them, so the graph stays stale until it is read again).
            "parts": {key: path.name for key, path in files.items()},
            "mode": result.mode,
            "compaction": result.compaction(),
            "nodes": result.nodes,
            "observed_edges": result.observed_edges,
            "asserted_edges": result.asserted_edges,
            "events": result.events,
        },
    )
    os.replace(out, paths.root / version)
    tmp = paths.current_file.with_suffix(".tmp")
    tmp.write_text(version + "\n")
    os.replace(tmp, paths.current_file)
    # Keep the previous version a while: a trace that opened it may still be reading.
    for old in sorted(existing)[:-1]:
        shutil.rmtree(paths.root / f"v{old}", ignore_errors=True)
    result.lap("nodes")


def _compact_full(
    con: duckdb.DuckDBPyConnection, files: dict[str, Path], out: Path, result: BuildResult
) -> None:
    """Compact every part: versions, events, numbering, edges, from scratch."""
    result.mode = "full"
    result.parts_compacted = list(files)
    # Versions: most bills have one, so only keys seen twice are ranked (a window over every
    # row would sort them all).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM {_scan(list(files.values()))}"  # noqa: S608
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE multi AS SELECT key FROM raw GROUP BY key HAVING count(*) > 1"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bills AS
        SELECT key, bill, day, shipper, consignee, notify, hs, kg
        FROM raw ANTI JOIN multi USING (key) WHERE {_LIVE}
        UNION ALL
        SELECT key, bill, day, shipper, consignee, notify, hs, kg FROM (
            SELECT * FROM raw SEMI JOIN multi USING (key)
            QUALIFY row_number() OVER (PARTITION BY key ORDER BY {VERSION_ORDER}) = 1
        ) WHERE {_LIVE}
        """  # noqa: S608 - constants only
    )
    con.execute("DROP TABLE raw")
    result.bills_remapped = int(_one(con, "SELECT count(*) FROM bills"))
    # Provisional numbers over every id the parts and documents know, in id order; the ids
    # without an edge are closed up afterwards, which keeps the order.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE num AS
        SELECT id, (row_number() OVER (ORDER BY id) - 1)::INTEGER AS idx
        FROM (SELECT id FROM rawmap UNION SELECT id FROM asserted_ids)
        """
    )
    count = int(_one(con, "SELECT count(*) FROM num"))
    _events_of_bills(con, "bills", "ev")
    con.execute("DROP TABLE bills")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE edges_new AS {_EDGE_SELECT} FROM ev GROUP BY src, dst, kind"
    )
    kept, mapping = _survivors(con, "edges_new", count)
    _renumber(con, kept, mapping)
    edges = _renumbered_edges(con, kept)
    if len(kept) != count:
        events = """(
            SELECT a.idx AS src, b.idx AS dst, kind, day, hs, kg, n, bill, key
            FROM ev JOIN nodemap a ON a.prov = ev.src JOIN nodemap b ON b.prov = ev.dst
        )"""
    else:
        events = "ev"
    for name, order in (("events_src", "src, dst, day"), ("events_dst", "dst, src, day")):
        con.execute(
            f"""
            COPY (
                SELECT src::INTEGER AS src, dst::INTEGER AS dst, kind, day, hs, kg, n, bill, key
                FROM {events} ORDER BY {order}
            ) TO '{out / (name + ".parquet")}'
            (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP})
            """  # noqa: S608 - paths are ours
        )
    _write_edges(con, edges, out)
    result.events_added = int(_one(con, "SELECT count(*) FROM ev"))
    result.nodes_added = len(kept)
    con.execute("DROP TABLE ev")


def _renumber(con: duckdb.DuckDBPyConnection, kept: np.ndarray, mapping: np.ndarray) -> None:
    """Table ``nodes_final`` (idx, id): the surviving nodes under their final numbers."""
    con.register(
        "kept_arrow",
        pa.table({"prov": pa.array(kept, pa.int32()), "idx": pa.array(mapping[kept], pa.int32())}),
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE nodes_final AS
        SELECT k.idx, n.id FROM kept_arrow k JOIN num n ON n.idx = k.prov
        """
    )
    con.unregister("kept_arrow")


def _write_edges(con: duckdb.DuckDBPyConnection, edges: str, out: Path) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE edges_final AS SELECT * FROM {edges}")  # noqa: S608
    con.execute(
        f"""
        COPY (
            SELECT src::INTEGER AS src, dst::INTEGER AS dst, kind::TINYINT AS kind,
                   kg::DOUBLE AS kg, n::BIGINT AS n, first, last,
                   NULLIF(array_to_string(hs, ' '), '') AS hs,
                   NULLIF(array_to_string(bills, ' '), '') AS bills,
                   -- The same bills as a list, for adding up summaries exactly (a bill
                   -- number may hold a space); readers take the string.
                   bills::VARCHAR[] AS bill_list
            FROM edges_final ORDER BY src, dst, kind
        ) TO '{out / "edges.parquet"}' (FORMAT parquet, COMPRESSION zstd)
        """  # noqa: S608 - paths are ours
    )


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row is not None else None


def _write_nodes(ws: Workspace, con: duckdb.DuckDBPyConnection, out: Path) -> int:
    """Write nodes.parquet from ``nodes_final`` and ``edges_final``; returns the count."""
    # Names etc. from the store where it knows the entity, else from the bills.
    nodes = con.execute(
        """
        WITH s AS (SELECT DISTINCT src AS idx FROM edges_final WHERE kind = 0),
             r AS (SELECT DISTINCT dst AS idx FROM edges_final)
        SELECT n.idx, n.id, p.name, p.country, coalesce(p.forwarder, false) AS forwarder,
               s.idx IS NOT NULL AS shipped, r.idx IS NOT NULL AS received
        FROM nodes_final n LEFT JOIN party p ON p.id = n.id
        LEFT JOIN s ON s.idx = n.idx LEFT JOIN r ON r.idx = n.idx ORDER BY n.idx
        """
    ).fetchall()
    attrs = _node_attributes(ws.engine, [r[1] for r in nodes])
    columns: dict[str, list[Any]] = {
        k: [] for k in ("idx", "id", "name", "schema", "country", "role", "in_store")
    }
    for idx, node_id, name, country, forwarder, shipped, received in nodes:
        info = attrs.get(node_id, {})
        columns["idx"].append(idx)
        columns["id"].append(node_id)
        columns["name"].append(info.get("name") or name or node_id)
        columns["schema"].append(info.get("schema") or "LegalEntity")
        columns["country"].append(info.get("country") or (country.lower() if country else None))
        columns["role"].append(_role(info, bool(forwarder), bool(shipped), bool(received)))
        columns["in_store"].append(node_id in attrs)
    pq.write_table(
        pa.table(
            {
                "idx": pa.array(columns["idx"], pa.int32()),
                "id": pa.array(columns["id"], pa.string()),
                "name": pa.array(columns["name"], pa.string()),
                "schema": pa.array(columns["schema"], pa.string()),
                "country": pa.array(columns["country"], pa.string()),
                "role": pa.array(columns["role"], pa.string()),
                "in_store": pa.array(columns["in_store"], pa.bool_()),
            }
        ),
        out / "nodes.parquet",
    )
    return len(nodes)


def _compact_incremental(
    con: duckdb.DuckDBPyConnection,
    paths: GraphPaths,
    previous: Path,
    files: dict[str, Path],
    manifest: dict[str, Any],
    out: Path,
    result: BuildResult,
) -> bool:
    """Compact from the previous version, reading only dirty bills; False to go full."""
    prev_manifest = _read_manifest(previous / "manifest.json")
    needed = ("events_src", "events_dst", "edges", "nodes", "idmap")
    if prev_manifest.get("format") != GRAPH_FORMAT or not all(
        (previous / f"{name}.parquet").is_file() for name in needed
    ):
        result.notes.append("the previous version was built by another format")
        return False
    prev_parts: dict[str, str] = prev_manifest.get("parts", {})
    added = [k for k, f in files.items() if prev_parts.get(k) != f.name]
    reused = [k for k, f in files.items() if prev_parts.get(k) == f.name]
    removed = [k for k, name in prev_parts.items() if k not in files or files[k].name != name]
    removed_files = [paths.parts / prev_parts[k] for k in removed]
    if any(not f.is_file() for f in removed_files):
        result.notes.append("the bills of a replaced partition are gone")
        return False
    added_files = [files[k] for k in added]
    reused_files = [files[k] for k in reused]
    # Parties whose canonical id changed since the previous version (merges and splits).
    idmap = str(previous / "idmap.parquet").replace("'", "''")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE moved AS
        SELECT p.raw FROM read_parquet('{idmap}') p JOIN rawmap r ON r.raw = p.raw
        WHERE r.id <> p.id
        """  # noqa: S608 - the path is ours
    )
    moved = int(_one(con, "SELECT count(*) FROM moved"))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dirty0 AS "  # noqa: S608 - paths are ours
        f"SELECT DISTINCT key FROM {_scan(added_files + removed_files)}"
    )
    # One pass over the unchanged parts finds the other versions of dirty bills (an
    # amendment may land in another partition than the bill) and the bills naming a
    # party whose canonical id changed.
    wanted = "key IN (SELECT key FROM dirty0)"
    if moved:
        wanted += (
            " OR shipper IN (SELECT raw FROM moved) OR consignee IN (SELECT raw FROM moved)"
            " OR notify IN (SELECT raw FROM moved)"
        )
    if reused_files:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE hits AS
            SELECT key, filename FROM read_parquet({_file_list(reused_files)}, filename = true)
            WHERE {wanted}
            """  # noqa: S608 - paths are ours
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE hits AS "
            "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS filename WHERE false"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dirty AS SELECT key FROM dirty0 UNION SELECT key FROM hits"
    )
    dirty = int(_one(con, "SELECT count(*) FROM dirty"))
    total = sum(int(entry.get("rows", 0)) for entry in manifest.values())
    if dirty > FULL_MIN_BILLS and dirty > FULL_SHARE * total:
        result.notes.append(
            f"{dirty} of {total} bills changed (partitions or canonical ids), so the whole "
            "graph was compacted again"
        )
        return False
    result.mode = "incremental"
    result.parts_reused = reused
    result.parts_compacted = added
    result.parts_removed = removed
    result.ids_remapped = moved
    result.bills_remapped = dirty
    # Keys whose events the previous version may hold: bills of the replaced partitions
    # and dirty bills that also live in unchanged ones.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE stale AS "  # noqa: S608 - paths are ours
        f"SELECT key FROM {_scan(removed_files)} UNION SELECT key FROM hits"
    )
    hit_files = [Path(f) for (f,) in con.execute("SELECT DISTINCT filename FROM hits").fetchall()]
    # The current version of every dirty bill, across all partitions that hold one.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bills_new AS
        SELECT key, bill, day, shipper, consignee, notify, hs, kg FROM (
            SELECT * FROM (
                SELECT * FROM {_scan(added_files)}
                UNION ALL BY NAME
                SELECT * FROM {_scan(hit_files)} SEMI JOIN dirty USING (key)
            )
            QUALIFY row_number() OVER (PARTITION BY key ORDER BY {VERSION_ORDER}) = 1
        ) WHERE {_LIVE}
        """  # noqa: S608 - paths are ours
    )
    result.lap("dirty")
    # Node numbers: the previous version's, then new ids appended in id order.
    prev_nodes = pq.read_table(previous / "nodes.parquet", columns=["idx", "id"])
    n_prev = prev_nodes.num_rows
    con.register("prev_nodes", prev_nodes)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE num AS
        SELECT id, idx::INTEGER AS idx FROM prev_nodes
        UNION ALL
        SELECT id, ({n_prev} + row_number() OVER (ORDER BY id) - 1)::INTEGER FROM (
            SELECT id FROM rawmap UNION SELECT id FROM asserted_ids
        ) ANTI JOIN prev_nodes USING (id)
        """  # noqa: S608 - an int
    )
    con.unregister("prev_nodes")
    count = int(_one(con, "SELECT count(*) FROM num"))
    _events_of_bills(con, "bills_new", "ev_new")
    new_events = con.execute("SELECT * FROM ev_new").to_arrow_table().cast(EVENT_SCHEMA)
    stale = con.execute("SELECT key FROM stale").to_arrow_table()["key"].combine_chunks()
    result.lap("map")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE edges_old AS
        SELECT src, dst, kind, kg::DECIMAL(38, 3) AS kg, n, first, last,
               list_filter(string_split(coalesce(hs, ''), ' '), x -> x <> '') AS hs,
               bill_list AS bills
        FROM read_parquet('{_sql_path(previous / "edges.parquet")}')
        """  # noqa: S608 - the path is ours
    )
    old_src: pa.Table | None = None
    if len(stale) == 0:
        # Only new events: each touched edge is its old summary plus theirs (every part of
        # a summary adds up), so no old event is read.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE edges_touched AS
            SELECT t.src, t.dst, t.kind,
                   CASE WHEN o.kg IS NULL THEN t.kg WHEN t.kg IS NULL THEN o.kg
                        ELSE o.kg + t.kg END AS kg,
                   coalesce(o.n, 0) + t.n AS n,
                   least(o.first, t.first) AS first, greatest(o.last, t.last) AS last,
                   list_sort(list_distinct(list_concat(coalesce(o.hs, []), t.hs))) AS hs,
                   list_sort(list_concat(coalesce(o.bills, []), t.bills))[1:{BILL_SAMPLE}]
                       AS bills
            FROM ({_EDGE_SELECT} FROM ev_new GROUP BY src, dst, kind) t
            LEFT JOIN edges_old o USING (src, dst, kind)
            """  # noqa: S608 - constants only
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE touched AS SELECT src, dst, kind FROM edges_touched"
        )
    else:
        # Some old events go: the edges they or new events touch are summed again over all
        # their events, found as runs of the sorted files by binary search.
        old_src, removed_events = _drop_stale(event_files(previous, "events_src"), stale)
        result.events_removed = removed_events.num_rows
        result.lap("read")
        con.register("removed_ev", removed_events)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE touched AS
            SELECT DISTINCT src, dst, kind FROM (
                SELECT src, dst, kind FROM removed_ev UNION ALL SELECT src, dst, kind FROM ev_new
            )
            """
        )
        con.unregister("removed_ev")
        del removed_events
        pairs = con.execute("SELECT * FROM touched").to_arrow_table()
        con.register("touched_ev", edge_rows(old_src, pairs))
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE edges_touched AS {_EDGE_SELECT} FROM (
                SELECT * FROM touched_ev SEMI JOIN touched USING (src, dst, kind)
                UNION ALL BY NAME SELECT * FROM ev_new
            ) GROUP BY src, dst, kind
            """  # noqa: S608 - constants only
        )
        con.unregister("touched_ev")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE edges_new AS
        SELECT * FROM edges_old ANTI JOIN touched USING (src, dst, kind)
        UNION ALL BY NAME SELECT * FROM edges_touched
        """
    )
    result.edges_rebuilt = int(_one(con, "SELECT count(*) FROM edges_touched"))
    result.edges_reused = int(_one(con, "SELECT count(*) FROM edges_new")) - result.edges_rebuilt
    kept, mapping = _survivors(con, "edges_new", count)
    _renumber(con, kept, mapping)
    result.lap("edges")
    result.nodes_reused = int(np.count_nonzero(kept < n_prev))
    result.nodes_added = len(kept) - result.nodes_reused
    result.nodes_dropped = n_prev - result.nodes_reused
    new_events = remap(new_events, mapping)
    base_rows = int(pq.ParquetFile(previous / "events_src.parquet").metadata.num_rows)
    delta_file = previous / "events_src.delta.parquet"
    delta_rows = int(pq.ParquetFile(delta_file).metadata.num_rows) if delta_file.is_file() else 0
    result.events_added = new_events.num_rows
    result.events_reused = base_rows + delta_rows - result.events_removed
    if (
        old_src is None
        and result.nodes_dropped == 0
        and delta_rows + new_events.num_rows <= FOLD_SHARE * base_rows
    ):
        # The old sorted files stay as they are (linked, not copied); the new events join
        # the small sorted delta files beside them.
        for name, order in (("events_src", ("src", "dst", "day")),
                            ("events_dst", ("dst", "src", "day"))):  # fmt: skip
            _link(previous / f"{name}.parquet", out / f"{name}.parquet")
            old_delta = previous / f"{name}.delta.parquet"
            delta = pq.read_table(old_delta).cast(EVENT_SCHEMA) if old_delta.is_file() else None
            merged = new_events if delta is None else merge_sorted(delta, new_events, order)
            write_events(merged.sort_by([(c, "ascending") for c in order]),
                         str(out / f"{name}.delta.parquet"), ROW_GROUP)  # fmt: skip
        result.events_delta = delta_rows + new_events.num_rows
        result.lap("write")
    else:
        # Old events go, nodes close up, or the delta grew too big: one sorted file each,
        # the old events merged with the new ones (no full sort).
        for name, order in (("events_src", ("src", "dst", "day")),
                            ("events_dst", ("dst", "src", "day"))):  # fmt: skip
            if name == "events_src" and old_src is not None:
                table = old_src
            else:
                table, _gone = _drop_stale(event_files(previous, name), stale, order)
                del _gone
            old_src = None
            result.lap("read")
            if result.nodes_dropped:
                # Closing up vanished numbers keeps the order: the old events stay sorted.
                table = remap(table, mapping)
            merged = merge_sorted(table, new_events, order)
            del table
            result.lap("merge")
            write_events(merged, str(out / f"{name}.parquet"), ROW_GROUP)
            del merged
            result.lap("write")
    _write_edges(con, _renumbered_edges(con, kept), out)
    for table_name in ("ev_new", "bills_new", "edges_touched", "touched", "edges_old"):
        con.execute(f"DROP TABLE IF EXISTS {table_name}")
    return True


def _link(source: Path, target: Path) -> None:
    """A hard link (files of a version are never changed once written), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def event_files(version: Path, name: str) -> list[Path]:
    """A version's event files of one order: the sorted file, then its delta if any."""
    delta = version / f"{name}.delta.parquet"
    return [version / f"{name}.parquet", *([delta] if delta.is_file() else [])]


def _drop_stale(
    files: list[Path], stale: pa.Array, order: tuple[str, str, str] = ("src", "dst", "day")
) -> tuple[pa.Table, pa.Table]:
    """The events of a sorted file and its delta, as one sorted table without ``stale`` keys,
    and the events taken out."""
    table = pq.read_table(files[0]).cast(EVENT_SCHEMA)
    for delta in files[1:]:
        table = merge_sorted(table, pq.read_table(delta).cast(EVENT_SCHEMA), order)
    if len(stale) == 0:
        return table, table.slice(0, 0)
    mask = pc.is_in(table["key"], value_set=stale)
    return table.filter(pc.invert(mask)), table.filter(mask)


def _renumbered_edges(con: duckdb.DuckDBPyConnection, kept: np.ndarray) -> str:
    """A FROM item: ``edges_new`` under final node numbers (table ``nodemap``)."""
    con.register(
        "nodemap_arrow",
        pa.table(
            {
                "prov": pa.array(kept, pa.int32()),
                "idx": pa.array(np.arange(len(kept)), pa.int32()),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE nodemap AS SELECT * FROM nodemap_arrow")
    con.unregister("nodemap_arrow")
    return """(
        SELECT a.idx AS src, b.idx AS dst, e.* EXCLUDE (src, dst)
        FROM edges_new e JOIN nodemap a ON a.prov = e.src JOIN nodemap b ON b.prov = e.dst
    )"""
