"""Ingest bills of lading: files in, Parquet rows out, crash-safe and idempotent.

The pipeline, the same for every engine:

1. **Plan.** Every file is hashed and sniffed (kind, encoding, delimiter, layout) before
   anything is written; a file nobody can read stops the command with its name.
2. **Read** each source in chunks of raw rows, as pieces (``readers.py``), numbering rows
   so that content hash + row number is the row's id; check each piece.
3. **Normalise** each chunk (the engine: DuckDB here, Spark in ``spark.py``) into staged
   Parquet under ``<workspace>/tmp/shipments/<dataset>/<hash>/``: values are cleaned per
   piece in a thread of their own while the chunk before is built and written. A staged
   chunk is recorded in the manifest; a killed run re-runs only the chunks not recorded.
4. **Publish** the source with one directory rename into
   ``parquet/shipments/dataset=<name>/src=<hash>/``: queries see all of a source or none
   of it. The manifest marks it done in the same transaction as the audit entry.

The same content ingested into the same dataset again is skipped. A source whose reject
rate is over the limit is not published; its rejects still go to the rejects file.
"""

import bisect
import fcntl
import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tidetrace.exc import InputError, TidetraceError
from tidetrace.export_safety import SafeCsvWriter
from tidetrace.loaders import check_dataset_name
from tidetrace.logs import configure as configure_logs
from tidetrace.logs import get_logger
from tidetrace.shipments.ams import ams_set_hash
from tidetrace.shipments.detect import FileSniff, choose_layout, sniff_file
from tidetrace.shipments.expressions import SourceMeta, build_rows
from tidetrace.shipments.fields import (
    DICTIONARY_COLUMNS,
    PARQUET_COLUMNS,
    PARQUET_SCHEMA,
    REJECT_SCHEMA,
)
from tidetrace.shipments.layouts import Layout, builtin_layouts, load_layout
from tidetrace.shipments.manifest import IngestRecord, Manifest
from tidetrace.shipments.normalize import DICTIONARIES, DictionaryCache, warm_up
from tidetrace.shipments.prepare import prepare_chunk
from tidetrace.shipments.readers import RawSource, Reject, ams_group_key, read_pieces
from tidetrace.shipments.store import data_files, source_dir
from tidetrace.shipments.tables import shipment_ingest_table as ingest_t
from tidetrace.store import audit
from tidetrace.store.datasets import DatasetInfo, upsert_dataset
from tidetrace.store.entities import utc_now
from tidetrace.workspace import Workspace

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_DATASET",
    "DEFAULT_MAX_REJECT_RATE",
    "ChunkEngine",
    "DuckDBEngine",
    "IngestOptions",
    "IngestReport",
    "SourceReport",
    "SourceWork",
    "ingest_shipments",
    "plan_sources",
]

log = get_logger(__name__)

DEFAULT_DATASET = "shipments"
DEFAULT_CHUNK_ROWS = 250_000
DEFAULT_MAX_REJECT_RATE = 0.05
# A chunk's SQL needs a few hundred MB at most; the AMS reader's join has its own limit.
DUCKDB_MEMORY_LIMIT = "512MB"
# zstd's fastest level: a third of level 3's CPU for files about 10% larger, and writing
# is the biggest share of an ingest.
ZSTD_LEVEL = 1
ENGINES = ("duckdb", "spark")
# How often a thread holding the GIL hands it over (Python's default is 5 ms). Cleaning
# values in Python holds the GIL; the reading and writing threads need it for a moment
# between every Arrow and DuckDB call, and at 5 ms per wait they spent more time waiting
# than working (a 400 k-row file: 12.3 s at 5 ms, 10.2 s at 0.5 ms).
GIL_SWITCH_INTERVAL = 0.0005


@dataclass
class IngestOptions:
    """How to ingest.

    Attributes:
        dataset: dataset to add the rows to.
        layout: a built-in layout name (``--format``); detected when None.
        mapping: a user mapping file (``--mapping``), used for every file.
        engine: ``duckdb`` or ``spark``.
        encoding: text encoding for every file; detected when None.
        max_reject_rate: a source with a larger share of rejected rows is not stored.
        rejects_path: where to write rejected rows (CSV); default under the workspace.
        chunk_rows: rows per chunk (the unit of crash recovery).
        actor: who ingests, for the audit log.
    """

    dataset: str = DEFAULT_DATASET
    layout: str | None = None
    mapping: Path | None = None
    engine: str = "duckdb"
    encoding: str | None = None
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    rejects_path: Path | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    actor: str = "cli"


@dataclass
class SourceReport:
    """What happened to one source.

    Attributes:
        name: file name (AMS: the header table's, plus the others).
        sha256: content hash.
        layout_note: layout and how it was chosen.
        encoding_note: encoding and how it was chosen.
        status: ``ingested``, ``resumed``, ``skipped`` or ``failed``.
        rows: rows that passed the checks (stored unless the source failed).
        rejected: rows rejected.
        seconds: time taken.
        message: why it was skipped or failed.
    """

    name: str
    sha256: str
    layout_note: str
    encoding_note: str
    status: str = "ingested"
    rows: int = 0
    rejected: int = 0
    seconds: float = 0.0
    message: str = ""

    @property
    def reject_rate(self) -> float:
        """Rejected rows over all rows read."""
        total = self.rows + self.rejected
        return self.rejected / total if total else 0.0


@dataclass
class IngestReport:
    """What a run did.

    Attributes:
        dataset: the dataset.
        engine: the engine used.
        sources: one report per source.
        rejects_path: the rejects CSV, when any row was rejected.
        max_reject_rate: the limit applied.
        seconds: wall time.
    """

    dataset: str
    engine: str
    sources: list[SourceReport] = field(default_factory=list)
    rejects_path: Path | None = None
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE
    seconds: float = 0.0

    @property
    def failed(self) -> list[SourceReport]:
        """Sources not stored because of their reject rate."""
        return [s for s in self.sources if s.status == "failed"]

    @property
    def rows(self) -> int:
        """Rows stored by this run."""
        return sum(s.rows for s in self.sources if s.status in ("ingested", "resumed"))

    @property
    def rejected(self) -> int:
        """Rows rejected by this run."""
        return sum(s.rejected for s in self.sources if s.status != "skipped")

    def summary_lines(self) -> list[str]:
        """Lines for the terminal: one per source, then the totals."""
        lines = []
        for s in self.sources:
            if s.status == "skipped":
                lines.append(f"{s.name}: skipped, {s.message}")
                continue
            stored = "0 rows stored" if s.status == "failed" else f"{s.rows} rows"
            line = (
                f"{s.name}: {s.status}, {stored}, {s.rejected} rejected "
                f"({s.reject_rate:.2%}) in {s.seconds:.1f}s"
            )
            if s.message:
                line += f" - {s.message}"
            lines.append(line)
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        lines.append(
            f"dataset {self.dataset}: {self.rows} rows stored, {self.rejected} rejected, "
            f"{len(self.sources)} source(s), {self.seconds:.1f}s "
            f"({rate:,.0f} rows/s, {self.engine})"
        )
        if self.rejects_path is not None:
            lines.append(f"rejected rows: {self.rejects_path}")
        return lines


@dataclass
class SourceWork:
    """A source being ingested, as the engine sees it.

    Attributes:
        source: the source.
        record: its manifest entry.
        meta: values every row records.
        staging: its staging directory.
    """

    source: RawSource
    record: IngestRecord
    meta: SourceMeta
    staging: Path

    @property
    def out_dir(self) -> Path:
        """Staged rows, partitioned by arrival year and month."""
        return self.staging / "out"

    @property
    def rejects_dir(self) -> Path:
        """Staged rejected rows."""
        return self.staging / "rejects"

    @property
    def date_order(self) -> str:
        """How the layout writes numeric dates."""
        return self.source.layout.date_order


class ChunkEngine(Protocol):
    """What an engine does: normalise chunks into staged Parquet, then finish a source."""

    name: str
    # True when the engine runs the row checks itself (``prepare.mark_chunk``, on its own
    # workers) and stages its own rejects; chunks then reach it unchecked.
    checks_rows: bool

    def prepare(self, work: SourceWork, chunk: pa.Table) -> pa.Table:
        """Work on a piece of a chunk's checked rows, in the cleaning thread.

        Runs ahead of :meth:`build` and :meth:`process_chunk` (it must not touch what
        they use); returns what :meth:`build` receives, a chunk's pieces concatenated.
        """

    def build(self, work: SourceWork, chunk: pa.Table) -> pa.Table:
        """Work on a whole prepared chunk before it is staged; returns what
        :meth:`process_chunk` receives."""

    def process_chunk(self, work: SourceWork, index: int, chunk: pa.Table) -> None:
        """Stage one chunk of built rows under ``work.staging``.

        Staged files must be named ``c<index:05d>…parquet`` so that an interrupted
        chunk's leftovers can be recognised and removed.
        """

    def finish(self, work: SourceWork) -> None:
        """Complete the staged output of a source once every chunk is staged."""

    def close(self) -> None:
        """Release resources."""


def _sql_text(text: str) -> str:
    """A SQL string literal (paths may hold quotes)."""
    return "'" + text.replace("'", "''") + "'"


def _fsync_tree(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _merge_into(src: Path, dst: Path) -> None:
    """Move every file under ``src`` to the same place under ``dst`` (rename, same disk)."""
    for file in sorted(src.rglob("*")):
        if file.is_file():
            target = dst / file.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, target)


def _write_partitions(rows: pa.Table, out: Path, name: str) -> None:
    """Write rows as one Parquet file per arrival year/month (hive directories).

    DuckDB builds the rows and Arrow writes them: a partitioned ``COPY``
    took about twice the CPU for the same files, and writing is the largest share of an
    ingest. Rows keep their order within a partition (a stable sort, then slices).
    """
    keys = pc.add(
        pc.multiply(rows.column("arrival_year").cast(pa.int64()), 100),
        rows.column("arrival_month").cast(pa.int64()),
    )
    order = pc.sort_indices(keys)
    ordered_keys = keys.take(order).to_pylist()
    # One buffer per column first (taking from many small chunks cost a quarter more);
    # each partition is taken on its own, so only one partition's copy exists at a time.
    data = rows.select([c.name for c in PARQUET_COLUMNS]).combine_chunks()
    start = 0
    while start < len(ordered_keys):
        key = ordered_keys[start]
        end = bisect.bisect_right(ordered_keys, key, lo=start)
        year, month = divmod(key, 100)
        directory = out / f"arrival_year={year}" / f"arrival_month={month}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            data.take(order.slice(start, end - start)).cast(PARQUET_SCHEMA),
            directory / name,
            compression="zstd",
            compression_level=ZSTD_LEVEL,
            use_dictionary=list(DICTIONARY_COLUMNS),
        )
        start = end


class DuckDBEngine:
    """The default engine: each chunk normalised by DuckDB in this process.

    Args:
        tmp_dir: where DuckDB may spill.
        memory_limit: DuckDB's memory limit (keeps the whole run's RSS bounded).
    """

    name = "duckdb"
    checks_rows = False

    def __init__(self, tmp_dir: Path, memory_limit: str = DUCKDB_MEMORY_LIMIT) -> None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = {_sql_text(str(tmp_dir))}")
        self.caches: dict[str, DictionaryCache] = {}

    def prepare(self, work: SourceWork, chunk: pa.Table) -> pa.Table:
        """Join the cleaned values on (Python, in the cleaning thread).

        Cleaning distinct values holds the GIL; reading, DuckDB and Parquet writing
        release it, so the stages overlap.
        """
        cache = self.caches.setdefault(work.date_order, DictionaryCache(work.date_order))
        table = chunk
        for dictionary in DICTIONARIES:
            table = cache.apply(dictionary, table)
        return table

    def build(self, work: SourceWork, chunk: pa.Table) -> pa.Table:
        """A prepared chunk's Parquet columns (DuckDB)."""
        return build_rows(self.con, chunk, work.meta) if chunk.num_rows else chunk

    def process_chunk(self, work: SourceWork, index: int, chunk: pa.Table) -> None:
        """Stage a chunk's built rows, one Parquet file per arrival year/month."""
        rows = chunk
        tmp = work.staging / f"tmp-c{index:05d}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        if rows.num_rows:
            _write_partitions(rows, tmp / "out", f"c{index:05d}_0.parquet")
            del rows, chunk
            # Arrow's allocator keeps freed chunks for reuse; hand them back so the peak is
            # one chunk's, not the largest chunk's plus everything freed since.
            pa.default_memory_pool().release_unused()
            _fsync_tree(tmp)
            _merge_into(tmp / "out", work.out_dir)
        shutil.rmtree(tmp)

    def finish(self, work: SourceWork) -> None:
        """Nothing left to do: every chunk is already staged as final output."""

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()


def make_engine(name: str, ws: Workspace) -> ChunkEngine:
    """The engine called ``name``."""
    if name == "duckdb":
        return DuckDBEngine(ws.tmp_dir / "duckdb")
    if name == "spark":
        try:
            from tidetrace.shipments.spark import SparkEngine
        except ImportError as exc:
            raise TidetraceError(
                f"the Spark engine needs pyspark: pip install 'tidetrace[spark]' ({exc})"
            ) from None
        return SparkEngine(ws.tmp_dir / "spark")
    raise InputError("--engine", f"unknown engine {name!r}; use {' or '.join(ENGINES)}")


# -------------------------------------------------------------------------- planning


def _layouts(options: IngestOptions) -> tuple[dict[str, Layout], str | None]:
    layouts = builtin_layouts()
    if options.mapping is not None:
        layout = load_layout(options.mapping, name=f"mapping:{options.mapping.stem}")
        return {layout.name: layout}, layout.name
    if options.layout is not None:
        if options.layout not in layouts:
            raise InputError(
                "--format", f"unknown format {options.layout!r}; use {', '.join(layouts)}"
            )
        return layouts, options.layout
    return layouts, None


def plan_sources(paths: list[Path], options: IngestOptions) -> list[RawSource]:
    """Sniff every file and group them into sources, before anything is written.

    Raises:
        InputError: a file is missing, unreadable or fits no layout; an AMS set lacks a
            required table or has a table twice.
    """
    layouts, forced = _layouts(options)
    sources: list[RawSource] = []
    ams_sets: dict[tuple[str, str], dict[str, FileSniff]] = {}
    ams_layouts: dict[str, Layout] = {}
    seen: set[Path] = set()
    for path in paths:
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        sniff = sniff_file(path, options.encoding)
        layout, table, note = choose_layout(sniff.headers, layouts, forced)
        if layout is None:
            raise InputError(path, note, line=sniff.header_lines)
        if layout.multi_table:
            group = ams_sets.setdefault((layout.name, ams_group_key(path)), {})
            if table in group:
                raise InputError(
                    path, f"a second {table} table for the same set ({group[table].path.name})"
                )
            group[table] = sniff
            ams_layouts[layout.name] = layout
            continue
        sources.append(RawSource(path.name, sniff.sha256, layout, note, {"file": sniff}))
    for (layout_name, _key), tables in ams_sets.items():
        layout = ams_layouts[layout_name]
        missing = [t.name for t in layout.tables.values() if t.required and t.name not in tables]
        first = next(iter(tables.values())).path
        if missing:
            raise InputError(
                first, f"AMS set without its {', '.join(missing)} table(s): give them together"
            )
        head = tables["header"].path.name
        name = f"{head} (+{len(tables) - 1} tables)"
        note = f"{layout.name} ({', '.join(sorted(tables))})"
        sources.append(RawSource(name, ams_set_hash(tables), layout, note, tables))
    return sources


# -------------------------------------------------------------------------- running


@contextmanager
def _dataset_lock(ws: Workspace, dataset: str) -> Iterator[None]:
    ws.tmp_dir.mkdir(parents=True, exist_ok=True)
    path = ws.tmp_dir / f"shipments-{dataset}.lock"
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TidetraceError(f"another ingest into dataset {dataset!r} is running") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def _gil_switch_interval(seconds: float) -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


class _RejectsFile:
    """The rejects CSV, created on the first rejected row."""

    HEADER = ("file", "row", "field", "value", "reason")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None
        self._writer: SafeCsvWriter | None = None
        self.rows = 0

    def write(self, rows: list[tuple[str, int, str, str, str]]) -> None:
        if not rows:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._writer = SafeCsvWriter(self._fh)
            self._writer.writerow(self.HEADER)
        self._writer.writerows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


REJECTED_TOTAL = b"tidetrace.rejected_total"


def _staged_rejects(directory: Path) -> tuple[list[tuple[str, int, str, str, str]], int]:
    """The rejected rows staged (or published) for a source, and how many rows they stand for.

    The rejects of the read stage may list fewer lines than were rejected (past
    ``MAX_REJECTS_KEPT``); their file records the full count in its metadata.
    """
    files = sorted(directory.rglob("*.parquet")) if directory.exists() else []
    rows: list[tuple[str, int, str, str, str]] = []
    total = 0
    for file in files:
        table = pq.read_table(file)
        meta = table.schema.metadata or {}
        total += int(meta[REJECTED_TOTAL]) if REJECTED_TOTAL in meta else table.num_rows
        rows.extend(
            (r["file"], r["row"], r["field"] or "", r["value"] or "", r["reason"])
            for r in table.to_pylist()
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows, total


def _count_rows(directory: Path) -> int:
    return sum(pq.read_metadata(f).num_rows for f in data_files(directory))


def _stage_rejects(work: SourceWork, index: int, rejects: pa.Table) -> None:
    """Stage a chunk's rejected rows (before its rows: the chunk is recorded after both)."""
    if not rejects.num_rows:
        return
    work.rejects_dir.mkdir(parents=True, exist_ok=True)
    tmp = work.staging / f"tmp-rejects-c{index:05d}.parquet"
    pq.write_table(rejects, tmp)
    os.replace(tmp, work.rejects_dir / f"c{index:05d}.parquet")


def _write_read_rejects(work: SourceWork) -> None:
    """Stage the malformed lines found while reading (rewritten by every run)."""
    source = work.source
    rejects = list(source.rejects)
    unlisted = source.rejected_total - len(rejects)
    if unlisted > 0:
        rejects.append(
            Reject(source.name, 0, "", "", f"{unlisted} more malformed lines, not listed")
        )
    target = work.rejects_dir / "read.parquet"
    if not rejects:
        target.unlink(missing_ok=True)
        return
    work.rejects_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(
        [
            {"file": r.file, "row": r.row, "field": r.field, "value": r.value, "reason": r.reason}
            for r in rejects
        ],
        schema=REJECT_SCHEMA.with_metadata({REJECTED_TOTAL: str(source.rejected_total).encode()}),
    )
    tmp = work.staging / "read-rejects.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, target)


def _clean_staging(work: SourceWork) -> None:
    """Remove what an interrupted run left that its manifest does not vouch for."""
    staging = work.staging
    if work.record.fresh:
        if staging.exists():
            shutil.rmtree(staging)
        return
    if not staging.exists():
        return
    for tmp in staging.glob("tmp-*"):
        if tmp.is_dir():
            shutil.rmtree(tmp)
        else:
            tmp.unlink()
    done = work.record.done_chunks
    for file in list(staging.rglob("c*.parquet")):
        stem = file.stem.split("_", 1)[0]
        if stem[1:].isdigit() and int(stem[1:]) not in done:
            file.unlink()


# (chunk index, rows read, last piece of its chunk, (good, rejects) or None when an
# earlier run staged the chunk).
Piece = tuple[int, int, bool, tuple[pa.Table, pa.Table] | None]
# Pieces the cleaning stage may run ahead of the building stage (the reader's batches are
# ~40 k rows): enough to keep cleaning busy while a chunk is built, few enough that a
# 10 M-row ingest stays under 2 GB.
PIECES_AHEAD = 6
# (chunk index, rows read, (built rows, rejects, good rows) or None when staged before).
Built = tuple[int, int, tuple[pa.Table, pa.Table, int] | None]


def _checked_pieces(work: SourceWork, workdir: Path, engine: ChunkEngine) -> Iterator[Piece]:
    """Each piece of the source, checked; an engine that checks rows itself gets every row."""
    for index, piece, last in read_pieces(work.source, work.record.chunk_rows, workdir):
        if index in work.record.done_chunks:
            yield index, piece.num_rows, last, None
        elif engine.checks_rows:
            yield index, piece.num_rows, last, (piece, REJECT_SCHEMA.empty_table())
        else:
            yield index, piece.num_rows, last, prepare_chunk(piece, work.source.name)


def _prepared_pieces(
    work: SourceWork, engine: ChunkEngine, pieces: Iterator[Piece]
) -> Iterator[Piece]:
    """The checked pieces with the engine's :meth:`ChunkEngine.prepare` applied to the good rows."""
    for index, size, last, checked in pieces:
        if checked is not None:
            good, rejects = checked
            checked = (engine.prepare(work, good), rejects)
        yield index, size, last, checked


def _built_chunks(
    work: SourceWork, engine: ChunkEngine, pieces: Iterator[Piece]
) -> Iterator[Built]:
    """Each chunk's prepared pieces together, through the engine's :meth:`ChunkEngine.build`."""
    goods: list[pa.Table] = []
    bads: list[pa.Table] = []
    read = 0
    for index, size, last, piece in pieces:
        read += size
        if piece is not None:
            goods.append(piece[0])
            bads.append(piece[1])
        if last:
            if goods:
                good, rejects = pa.concat_tables(goods), pa.concat_tables(bads)
                goods, bads = [], []
                built, good_rows = engine.build(work, good), good.num_rows
                # Not kept while the built chunk is written: a chunk less in memory.
                del good
                pa.default_memory_pool().release_unused()
                yield index, read, (built, rejects, good_rows)
                del built, rejects
            else:
                yield index, read, None
            read = 0


T = TypeVar("T")


def _prefetch(items: Iterator[T], name: str, depth: int = 1) -> Generator[T, None, None]:
    """Run a stage of the ingest (an iterator) in its own thread, ahead of its consumer.

    The thread starts an item only when one of ``depth`` slots is free (a slot frees when
    the consumer takes an item), so at most ``depth`` items wait: memory stays bounded.
    An error in the thread is raised here; leaving early stops the thread, and the
    stages before it.
    """
    done = object()
    slots: queue.Queue[Any] = queue.Queue()
    free = threading.Semaphore(depth)
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            while True:
                while not free.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(iterator, done)
                slots.put(item)
                if item is done:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
            slots.put(exc)
        finally:
            # Stops a stage before this one (its own thread) when this one stops early.
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=f"shipments-{name}", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            free.release()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _publish(ws: Workspace, work: SourceWork, dataset: str) -> None:
    """Make the staged source visible with one rename, then move its rejects beside it."""
    target = source_dir(ws, dataset, work.source.sha256)
    if work.out_dir.exists():
        if target.exists():
            # Left by an earlier attempt that was then reset: the staging is newer.
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(work.out_dir, target)
    elif not target.exists():
        target.mkdir(parents=True)
    if work.rejects_dir.exists():
        os.replace(work.rejects_dir, target / "_rejects")


def _run_source(
    ws: Workspace,
    engine: ChunkEngine,
    source: RawSource,
    options: IngestOptions,
    manifest: Manifest,
    rejects_file: _RejectsFile,
    on_rows: Callable[[int], None],
) -> SourceReport:
    started = time.monotonic()
    report = SourceReport(source.name, source.sha256, source.layout_note, source.encoding_note)
    record = manifest.begin(
        options.dataset,
        source.sha256,
        {
            "source_file": source.name,
            "size": source.size,
            "layout": source.layout.name,
            "encoding": source.encoding_note[:500],
            "actor": options.actor,
        },
        engine.name,
        options.chunk_rows,
    )
    if record.status == "done":
        report.status = "skipped"
        report.rows, report.rejected = record.rows, record.rejected
        report.message = f"already in {options.dataset} (ingest #{record.id}, {record.finished_at})"
        return report
    if not record.fresh:
        report.status = "resumed"
    staging = ws.tmp_dir / "shipments" / options.dataset / source.sha256[:24]
    meta = SourceMeta(source.name, source.sha256, source.layout.name, record.id)
    work = SourceWork(source, record, meta, staging)
    _clean_staging(work)
    staging.mkdir(parents=True, exist_ok=True)
    if record.status != "publishing":
        # Three stages, each in its own thread: read and check pieces of a chunk (Arrow,
        # mostly without the GIL), clean their values (Python, holds the GIL), then build
        # and write each chunk (DuckDB, Arrow). Reading and cleaning in one thread, a
        # whole chunk at a time, left the engine waiting. Building in a fourth thread was
        # ~8% faster but held one more chunk: a 10 M-row ingest went over 2 GB.
        checked = _prefetch(_checked_pieces(work, staging / "read", engine), "read", depth=2)
        prepared = _prefetch(_prepared_pieces(work, engine, checked), "clean", depth=PIECES_AHEAD)
        for index, size, built in _built_chunks(work, engine, prepared):
            if built is not None:
                rows, rejects, good_rows = built
                _stage_rejects(work, index, rejects)
                engine.process_chunk(work, index, rows)
                manifest.chunk_done(record.id, index, good_rows, rejects.num_rows)
                del built, rows, rejects
            on_rows(size)
        _write_read_rejects(work)
        engine.finish(work)
        shutil.rmtree(staging / "read", ignore_errors=True)
    target = source_dir(ws, options.dataset, source.sha256)
    rows = _count_rows(work.out_dir if work.out_dir.exists() else target)
    reject_rows, rejected = _staged_rejects(
        work.rejects_dir if work.rejects_dir.exists() else target / "_rejects"
    )
    rejects_file.write(reject_rows)
    report.rows, report.rejected = rows, rejected
    if report.reject_rate > options.max_reject_rate:
        manifest.set_status(record.id, "failed", rows=0, rejected=rejected, finished_at=utc_now())
        manifest.clear_chunks(record.id)
        shutil.rmtree(staging, ignore_errors=True)
        report.status = "failed"
        report.message = (
            f"not stored: {report.reject_rate:.2%} of rows rejected, over the "
            f"{options.max_reject_rate:.2%} allowed (--max-reject-rate)"
        )
        report.seconds = time.monotonic() - started
        return report
    manifest.set_status(record.id, "publishing")
    _publish(ws, work, options.dataset)
    _finish(ws, record, options, source, rows, rejected)
    shutil.rmtree(staging, ignore_errors=True)
    report.seconds = time.monotonic() - started
    return report


def _finish(
    ws: Workspace,
    record: IngestRecord,
    options: IngestOptions,
    source: RawSource,
    rows: int,
    rejected: int,
) -> None:
    """Mark the ingest done, register the dataset and log it, in one transaction."""
    with ws.engine.begin() as conn:
        conn.execute(
            ingest_t.update()
            .where(ingest_t.c.id == record.id)
            .values(status="done", rows=rows, rejected=rejected, finished_at=utc_now())
        )
        upsert_dataset(
            conn,
            DatasetInfo(
                name=options.dataset,
                title=f"Shipments: {options.dataset}",
                summary=(
                    "Bills of lading ingested with 'tidetrace ingest shipments'; rows are in "
                    f"parquet/shipments/dataset={options.dataset}/ (query with "
                    "'tidetrace shipments query')."
                ),
            ),
        )
        audit.append(
            conn,
            options.actor,
            "ingest.shipments",
            options.dataset,
            {
                "file": source.name,
                "sha256": source.sha256,
                "layout": source.layout.name,
                "encoding": source.encoding_note[:200],
                "engine": record.engine,
                "ingest": record.id,
                "rows": rows,
                "rejected": rejected,
            },
        )


def ingest_shipments(
    ws: Workspace,
    paths: list[Path],
    options: IngestOptions,
    on_rows: Callable[[int], None] | None = None,
    on_source: Callable[[RawSource], None] | None = None,
) -> IngestReport:
    """Ingest trade files into a shipments dataset.

    Args:
        ws: the workspace.
        paths: CSV/XLSX files (AMS tables may be given together).
        options: see :class:`IngestOptions`.
        on_rows: called with the number of rows read after each chunk (progress).
        on_source: called as each source starts, e.g. to say which layout was detected.

    Returns:
        The report. Sources over the reject limit are in ``report.failed``.

    Raises:
        InputError: a file cannot be read; nothing was written.
    """
    configure_logs()
    check_dataset_name(options.dataset)
    if options.engine not in ENGINES:
        raise InputError("--engine", f"unknown engine {options.engine!r}; use duckdb or spark")
    if not 0.0 <= options.max_reject_rate <= 1.0:
        raise InputError("--max-reject-rate", "must be between 0 and 1")
    if options.chunk_rows < 1:
        raise InputError("--chunk-rows", "must be at least 1")
    started = time.monotonic()
    if not paths:
        raise InputError("FILE", "no files given")
    # Cleaning's tables load in the background while the files are hashed and sniffed
    # (waited for before cleaning starts: two threads loading them would load them twice).
    warming = threading.Thread(target=warm_up, name="shipments-warm-up", daemon=True)
    warming.start()
    sources = plan_sources(paths, options)
    warming.join()
    report = IngestReport(options.dataset, options.engine, max_reject_rate=options.max_reject_rate)
    rejects_path = options.rejects_path or (
        ws.home / "rejects" / f"shipments-{options.dataset}-{utc_now().replace(':', '')}.csv"
    )
    rejects_file = _RejectsFile(rejects_path)
    manifest = Manifest(ws.engine)
    with _dataset_lock(ws, options.dataset), _gil_switch_interval(GIL_SWITCH_INTERVAL):
        engine = make_engine(options.engine, ws)
        try:
            for source in sources:
                if on_source is not None:
                    on_source(source)
                log.info("ingest", source=source.name, layout=source.layout.name)
                report.sources.append(
                    _run_source(
                        ws, engine, source, options, manifest, rejects_file, on_rows or _ignore
                    )
                )
        finally:
            engine.close()
            rejects_file.close()
    if rejects_file.rows:
        report.rejects_path = rejects_path
    report.seconds = time.monotonic() - started
    return report


def _ignore(_rows: int) -> None:
    return None
