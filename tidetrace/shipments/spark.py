"""The Spark engine: the same ingest, with the per-row work and the write done by Spark.

The driver reads each source once, in order (``readers.py``, shared with the DuckDB engine
so both number rows and reject malformed lines the same way) and stages its raw chunks as
Parquet. When a source is read, one Spark job takes all its chunks and does the per-row
work on the executors:

* the row checks: ``prepare.mark_chunk`` as Spark SQL (``expressions.marks_sql``, the
  same patterns in the same order); rejected rows are written by Spark beside the staged
  output;
* the cleaning lookups: the distinct values of the checked rows are collected, cleaned
  once by the same Python code (``normalize.py``) and broadcast back as lookup tables;
* the per-row SQL of ``expressions.py`` (Spark dialect), and the partitioned Parquet
  write.

Output files differ in name and row grouping; their rows and the rejects are identical
(``tests/shipments/test_spark.py``).

Local mode by default (``local[*]``); pass another master URL to run on a cluster whose
executors can read the staging directory.
"""

import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tidetrace.shipments.expressions import SPARK, lookup_sql, marks_sql, shipments_sql
from tidetrace.shipments.normalize import DICTIONARIES, DictionaryCache
from tidetrace.shipments.prepare import MARK_COLUMNS

__all__ = ["SparkEngine", "get_spark", "stop_spark"]

DATA = Path(__file__).parent / "data"
_session: Any = None


def get_spark(master: str = "local[*]", tmp_dir: Path | None = None) -> Any:
    """The process's SparkSession, created on first use (quiet, UTC, zstd Parquet)."""
    global _session
    if _session is not None:
        return _session
    from pyspark.sql import SparkSession

    log4j = DATA / "spark-log4j2.properties"
    builder = (
        SparkSession.builder.master(master)
        .appName("tidetrace-shipments")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        # Staged chunks are small files: split them by row group so every core gets work.
        .config("spark.sql.files.maxPartitionBytes", str(8 << 20))
        .config("spark.sql.parquet.compression.codec", "zstd")
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log4j}")
    )
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        builder = builder.config("spark.local.dir", str(tmp_dir))
    _session = builder.getOrCreate()
    _session.sparkContext.setLogLevel("ERROR")
    return _session


def stop_spark() -> None:
    """Stop the process's SparkSession (the JVM stays until the process exits)."""
    global _session
    if _session is not None:
        _session.stop()
        _session = None


def _distinct_keys_sql(table: str) -> str:
    """Distinct keys of every lookup in one query that reads ``table`` once.

    One struct per lookup role per row, unnested with ``inline``: a ``UNION ALL`` of one
    select per role read the rows (and ran the row checks under them) once per role.
    """
    width = max(d.width for d in DICTIONARIES)
    structs = []
    for dictionary in DICTIONARIES:
        for _label, cols in dictionary.roles:
            fields = [f"'d', '{dictionary.name}'"]
            fields += [f"'k{i}', CAST({col} AS STRING)" for i, col in enumerate(cols)]
            fields += [f"'k{i}', CAST(NULL AS STRING)" for i in range(len(cols), width)]
            structs.append(f"named_struct({', '.join(fields)})")
    columns = ", ".join(["d", *(f"k{i}" for i in range(width))])
    keys = f"SELECT inline(array({', '.join(structs)})) FROM {table}"  # noqa: S608
    return f"SELECT DISTINCT {columns} FROM ({keys}) AS u"  # noqa: S608


def _keys_by_lookup(rows: list[Any]) -> dict[str, list[tuple[str, ...]]]:
    widths = {d.name: d.width for d in DICTIONARIES}
    keys: dict[str, list[tuple[str, ...]]] = {d.name: [] for d in DICTIONARIES}
    for row in rows:
        name = row[0]
        keys[name].append(tuple(row[1 : 1 + widths[name]]))
    return keys


def _tidy(directory: Path) -> None:
    """Remove Hadoop's checksum and marker files from a Spark output directory."""
    for path in list(directory.rglob("*")):
        if path.is_file() and (path.name.endswith(".crc") or path.name.startswith("_")):
            path.unlink()


class SparkEngine:
    """Normalise and write with Spark.

    Args:
        tmp_dir: Spark's scratch directory.
        master: Spark master URL.
    """

    name = "spark"
    checks_rows = True

    def __init__(self, tmp_dir: Path, master: str = "local[*]") -> None:
        self.spark = get_spark(master, tmp_dir)

    def prepare(self, work: Any, chunk: pa.Table) -> pa.Table:
        """Nothing to do ahead: the Spark job does the per-row work."""
        return chunk

    def build(self, work: Any, chunk: pa.Table) -> pa.Table:
        """Nothing to build ahead: Spark does the per-row work when the chunk is staged."""
        return chunk

    def process_chunk(self, work: Any, index: int, chunk: pa.Table) -> None:
        """Stage the raw rows of one chunk for the Spark job."""
        raw_dir = work.staging / "raw"
        raw_dir.mkdir(parents=True, exist_ok=True)
        if not chunk.num_rows:
            return
        tmp = work.staging / f"tmp-c{index:05d}.parquet"
        pq.write_table(chunk, tmp, compression="zstd", row_group_size=32_768)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, raw_dir / f"c{index:05d}.parquet")

    def finish(self, work: Any) -> None:
        """Run the Spark job over every staged chunk of the source."""
        raw_dir: Path = work.staging / "raw"
        out_dir: Path = work.out_dir
        rejects_dir: Path = work.rejects_dir / "spark"
        files = sorted(raw_dir.glob("c*.parquet")) if raw_dir.exists() else []
        for old in (out_dir, rejects_dir):
            if old.exists():
                shutil.rmtree(old)
        if not files:
            out_dir.mkdir(parents=True)
            return
        spark = self.spark
        from pyspark.sql import functions as F

        spark.read.parquet(*[str(f) for f in files]).createOrReplaceTempView("raw")
        # Three actions (rejects, lookups, rows) read the checked rows and each runs the
        # checks again: cheaper than caching them (Spark's cache of ~40 text columns cost
        # several times the checks themselves).
        checked = spark.sql(marks_sql(SPARK, "raw"))
        try:
            rejects = checked.where("reject_reason IS NOT NULL").select(
                F.lit(work.source.name).alias("file"),
                F.col("source_row").alias("row"),
                F.col("reject_field").alias("field"),
                F.col("reject_value").alias("value"),
                F.col("reject_reason").alias("reason"),
            )
            tmp_rejects = work.staging / "tmp-spark-rejects"
            # repartition, not coalesce: the checks stay spread over every core and only
            # the (few) rejected rows meet in one file.
            rejects.repartition(1).write.mode("overwrite").parquet(str(tmp_rejects))
            _tidy(tmp_rejects)
            checked.where("reject_reason IS NULL").drop(*MARK_COLUMNS[2:]).createOrReplaceTempView(
                "checked"
            )
            self._write(work, "checked")
            rejects_dir.parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp_rejects, rejects_dir)
        finally:
            spark.catalog.dropTempView("checked")
            spark.catalog.dropTempView("raw")

    def _write(self, work: Any, table: str) -> None:
        """Clean, build the columns of and write the checked rows in view ``table``."""
        spark = self.spark
        cache = DictionaryCache(work.date_order)
        views = []
        keys = _keys_by_lookup(spark.sql(_distinct_keys_sql(table)).collect())
        for dictionary in DICTIONARIES:
            lookup = cache.lookup(dictionary, keys[dictionary.name])
            spark.createDataFrame(lookup).createOrReplaceTempView(f"d_{dictionary.name}")
            views.append(f"d_{dictionary.name}")
        spark.sql(lookup_sql(table)).createOrReplaceTempView("prep")
        tmp_out = work.staging / "spark-out"
        if tmp_out.exists():
            shutil.rmtree(tmp_out)
        (
            spark.sql(shipments_sql(SPARK, work.meta))
            .write.mode("overwrite")
            .partitionBy("arrival_year", "arrival_month")
            .parquet(str(tmp_out))
        )
        for view in [*views, "prep"]:
            spark.catalog.dropTempView(view)
        _tidy(tmp_out)
        os.rename(tmp_out, work.out_dir)

    def close(self) -> None:
        """Keep the session: a process may ingest again (the tests do)."""
