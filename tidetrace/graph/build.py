"""Build the supply-chain graph from trade records and the entity store, incrementally.

Layout under ``<workspace>/graph/``::

    parts/<partition>.parquet          shipments of one source partition, aggregated per
    parts/<partition>.parties.parquet  (shipper, consignee, notify, day, HS) with raw ids
    parts/manifest.json                partition → fingerprint, so unchanged ones are skipped
    v<N>/events_src.parquet            observed edge events, canonical node numbers, by src
    v<N>/events_dst.parquet            the same rows sorted by dst (upstream traces)
    v<N>/edges.parquet                 one summary row per observed edge (whole period)
    v<N>/nodes.parquet                 node number → id, name, schema, country, role
    v<N>/asserted.json                 asserted edges (:mod:`tidetrace.graph.asserted`)
    v<N>/manifest.json                 what the version was built from
    CURRENT                            the name of the live version directory

Two stages. *Aggregation* reads only partitions whose fingerprint changed and writes one
part file each, keyed by the parties' raw ids. *Compaction* maps raw ids to canonical
ones (entity resolution may have merged parties since), numbers the nodes and writes a new
version directory, then switches ``CURRENT`` to it in one rename: a reader sees the old
graph or the new one, never half of each.

Edges: shipper → consignee (``shipped``) and consignee → notify party (``notify``) per
shipment; asserted edges from the store. A party resolved into the same entity on both
ends of a bill (a self-loop) is dropped.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, or_, select

from tidetrace.graph.asserted import load_asserted
from tidetrace.graph.flags import refresh_list_flags
from tidetrace.graph.sources import Partition, ShipmentSource, default_sources
from tidetrace.store import audit
from tidetrace.store.entities import utc_now
from tidetrace.store.tables import audit_table, statement_table
from tidetrace.workspace import Workspace

__all__ = [
    "BuildResult",
    "GraphPaths",
    "build_graph",
    "ensure_graph",
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
PARTS_FORMAT = 2
# Bumped when version files change shape: an older version is rebuilt, never misread.
GRAPH_FORMAT = 2
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
    """What a build did."""

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
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        if not self.compacted:
            return f"graph {self.version}: up to date"
        return (
            f"graph {self.version}: {self.nodes} nodes, {self.observed_edges} observed edges "
            f"({self.events} edge-days), {self.asserted_edges} asserted edges; partitions "
            f"read {self.partitions_read}, unchanged {self.partitions_kept}, dropped "
            f"{self.partitions_dropped}; list flags +{self.list_flags_added} "
            f"-{self.list_flags_removed}"
        )


def store_fingerprint(engine: Engine) -> int:
    """The newest audit entry that can change the graph (imports, resolution, ingests)."""
    query = select(func.max(audit_table.c.seq)).where(
        or_(*(audit_table.c.action.startswith(prefix) for prefix in GRAPH_ACTIONS))
    )
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return int(value or 0)


def _safe_name(key: str) -> str:
    # Partition keys contain '/' and '='; file names get a readable, collision-free form.
    slug = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")[:80]
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]
    return f"{slug}-{digest}"


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
            SELECT key, filing_date, ingest_seq, source_row, deleted, bill, day,
                   shipper, consignee,
                   CASE WHEN notify = consignee THEN NULL ELSE notify END AS notify,
                   hs, kg
            FROM shipments_view
        ) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)
        """  # noqa: S608 - the path is ours
    )
    ptmp = out.with_suffix(".tmp.parties.parquet")
    # One scan for all three roles: each row unnests into its parties.
    con.execute(
        f"""
        COPY (
            SELECT p.id, any_value(p.name) AS name, any_value(p.country) AS country,
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
            ).where(statement_table.c.canonical_id.in_(chunk))
            query = query.where(statement_table.c.prop.in_((*_NODE_PROPS, "id")))
            for row in conn.execute(query.order_by(statement_table.c.value)):
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
        full: re-aggregate every partition, not only changed ones.
        actor: who asked, for the audit log.

    Returns:
        What was read, kept and written.
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
                    name = _safe_name(partition.key)
                    out = paths.parts / f"{name}.parquet"
                    if (
                        entry is not None
                        and entry.get("fingerprint") == partition.fingerprint
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
                entry = manifest.pop(key)
                for suffix in (".parquet", ".parties.parquet"):
                    (paths.parts / entry["file"].replace(".parquet", suffix)).unlink(
                        missing_ok=True
                    )
                result.partitions_dropped += 1
            _write_json(
                paths.parts / "manifest.json", {"format": PARTS_FORMAT, "partitions": manifest}
            )
            store_seq = store_fingerprint(ws.engine)
            current = paths.current()
            old = _read_manifest(current / "manifest.json") if current is not None else {}
            changed = (
                full
                or result.partitions_read
                or result.partitions_dropped
                or old.get("store_seq") != store_seq
                or old.get("format") != GRAPH_FORMAT
                or current is None
            )
            with ws.engine.begin() as conn:
                result.list_flags_added, result.list_flags_removed = refresh_list_flags(conn)
            if not changed:
                result.version = current.name if current is not None else ""
                return result
            part_files = [paths.parts / e["file"] for e in manifest.values()]
            _compact(ws, paths, con, part_files, store_seq, result)
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
                },
            )
    return result


_EMPTY_PARTS = """
    SELECT NULL::VARCHAR AS key, NULL::DATE AS filing_date, NULL::BIGINT AS ingest_seq,
           NULL::BIGINT AS source_row, NULL::BOOLEAN AS deleted, NULL::VARCHAR AS bill,
           NULL::DATE AS day, NULL::VARCHAR AS shipper, NULL::VARCHAR AS consignee,
           NULL::VARCHAR AS notify, NULL::VARCHAR AS hs, NULL::DOUBLE AS kg WHERE false
"""
# The latest version of each bill wins (as the trade-records queries show it): latest
# filing date, then latest ingest, then the later row of the source.
VERSION_ORDER = (
    "filing_date DESC NULLS LAST, ingest_seq DESC NULLS LAST, source_row DESC NULLS LAST"
)
_EMPTY_PARTIES = """
    SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS name, NULL::VARCHAR AS country,
           NULL::BOOLEAN AS forwarder WHERE false
"""


def _file_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _compact(
    ws: Workspace,
    paths: GraphPaths,
    con: duckdb.DuckDBPyConnection,
    part_files: list[Path],
    store_seq: int,
    result: BuildResult,
) -> None:
    existing = [int(p.name[1:]) for p in paths.root.glob("v*") if re.fullmatch(r"v\d+", p.name)]
    version = f"v{max(existing, default=0) + 1}"
    out = paths.root / f".{version}.tmp"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con.register("canon_arrow", _canonical_map(ws.engine))
    con.execute("CREATE OR REPLACE TEMP TABLE canon AS SELECT * FROM canon_arrow")
    files = [f for f in part_files if f.is_file()]
    parties = [f.with_suffix(".parties.parquet") for f in files]
    parts_sql = f"read_parquet({_file_list(files)})" if files else f"({_EMPTY_PARTS})"
    parties_sql = (
        f"read_parquet({_file_list([p for p in parties if p.is_file()])})"
        if any(p.is_file() for p in parties)
        else f"({_EMPTY_PARTIES})"
    )
    # Versions: most bills have one, so only keys seen twice are ranked (a window over every
    # row would sort them all).
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM {parts_sql}")  # noqa: S608
    con.execute(
        "CREATE OR REPLACE TEMP TABLE multi AS SELECT key FROM raw GROUP BY key HAVING count(*) > 1"
    )
    live = "NOT deleted AND shipper IS NOT NULL AND consignee IS NOT NULL AND day IS NOT NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bills AS
        SELECT bill, day, shipper, consignee, notify, hs, kg
        FROM raw ANTI JOIN multi USING (key) WHERE {live}
        UNION ALL
        SELECT bill, day, shipper, consignee, notify, hs, kg FROM (
            SELECT * FROM raw SEMI JOIN multi USING (key)
            QUALIFY row_number() OVER (PARTITION BY key ORDER BY {VERSION_ORDER}) = 1
        ) WHERE {live}
        """  # noqa: S608 - constants only
    )
    con.execute("DROP TABLE raw")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE party AS
        SELECT coalesce(c.canonical, p.id) AS id, any_value(p.name) AS name,
               any_value(p.country) AS country, bool_or(p.forwarder) AS forwarder
        FROM {parties_sql} p LEFT JOIN canon c ON c.raw = p.id GROUP BY 1
        """  # noqa: S608 - paths are ours
    )
    asserted = load_asserted(ws.engine)
    canon = dict(con.execute("SELECT raw, canonical FROM canon").fetchall())
    for edge in asserted:
        edge.src = canon.get(edge.src, edge.src)
        edge.dst = canon.get(edge.dst, edge.dst)
    asserted = [e for e in asserted if e.src != e.dst]
    asserted_ids = sorted({e.src for e in asserted} | {e.dst for e in asserted})
    con.register("asserted_ids", pa.table({"id": pa.array(asserted_ids, pa.string())}))
    # Raw party id → canonical id → node number, for the few ten thousand parties, so the
    # millions of bills are joined on it once per role.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE raw_ids AS
        SELECT DISTINCT id FROM (
            SELECT shipper AS id FROM bills UNION ALL SELECT consignee FROM bills
            UNION ALL SELECT notify FROM bills WHERE notify IS NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE node_ids AS
        SELECT id, (row_number() OVER (ORDER BY id) - 1)::INTEGER AS idx FROM (
            SELECT coalesce(c.canonical, r.id) AS id FROM raw_ids r
            LEFT JOIN canon c ON c.raw = r.id
            UNION SELECT id FROM asserted_ids
        )
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE idmap AS
        SELECT r.id AS raw, n.idx FROM raw_ids r LEFT JOIN canon c ON c.raw = r.id
        JOIN node_ids n ON n.id = coalesce(c.canonical, r.id)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ev AS
        SELECT a.idx AS src, b.idx AS dst, {SHIPPED_KIND}::TINYINT AS kind, r.day, r.hs, r.kg,
               1::INTEGER AS n, r.bill
        FROM bills r JOIN idmap a ON a.raw = r.shipper JOIN idmap b ON b.raw = r.consignee
        UNION ALL
        SELECT b.idx, c.idx, {NOTIFY_KIND}::TINYINT, r.day, r.hs, r.kg, 1, r.bill
        FROM bills r JOIN idmap b ON b.raw = r.consignee JOIN idmap c ON c.raw = r.notify
        """  # noqa: S608 - constants only
    )
    # A party resolved into the same entity on both ends of a bill is no edge.
    con.execute("DELETE FROM ev WHERE src = dst")
    events_src = out / "events_src.parquet"
    for name, order in (("events_src", "src, dst, day"), ("events_dst", "dst, src, day")):
        con.execute(
            f"""
            COPY (SELECT * FROM ev ORDER BY {order}) TO '{out / (name + ".parquet")}'
            (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP})
            """  # noqa: S608 - paths are ours
        )
    con.execute(
        f"""
        COPY (
            SELECT src, dst, kind, sum(kg) AS kg, count(*)::BIGINT AS n,
                   min(day) AS first, max(day) AS last,
                   string_agg(DISTINCT hs, ' ') AS hs,
                   array_to_string(min(bill, {BILL_SAMPLE}), ' ') AS bills
            FROM ev GROUP BY src, dst, kind ORDER BY src, dst, kind
        ) TO '{out / "edges.parquet"}' (FORMAT parquet, COMPRESSION zstd)
        """  # noqa: S608 - paths are ours
    )
    result.events = int(pq.ParquetFile(events_src).metadata.num_rows)
    result.observed_edges = int(pq.ParquetFile(out / "edges.parquet").metadata.num_rows)
    # Node table: names etc. from the store where it knows the entity, else from the bills.
    nodes = con.execute(
        """
        WITH s AS (SELECT DISTINCT src AS idx FROM ev WHERE kind = 0),
             r AS (SELECT DISTINCT dst AS idx FROM ev)
        SELECT n.idx, n.id, p.name, p.country, coalesce(p.forwarder, false) AS forwarder,
               s.idx IS NOT NULL AS shipped, r.idx IS NOT NULL AS received
        FROM node_ids n LEFT JOIN party p ON p.id = n.id
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
    _write_json(out / "asserted.json", [e.to_dict() for e in asserted])
    result.nodes = len(nodes)
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
