"""The Spark engine: the same blocking join and the same scorer, on a Spark cluster.

Records travel to the workers as plain dicts; each worker analyses the names of the
records it needs (once per partition) and scores its share of the pairs with a
:class:`~tidetrace.resolve.scoring.Scorer` built from the same configuration. The join is
the DuckDB engine's SQL in Spark's dialect, so both engines compare the same pairs and,
scoring being deterministic, return the same links (``tests/resolve/test_engines.py``).

Without a session given, a local one is started (``local[*]``): enough for a laptop, and
the way tests run it. On a cluster, pass the application's session.
"""

import os
import sys
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from tidetrace.resolve.blocking import DEFAULT_MAX_BLOCK, blocking_keys
from tidetrace.resolve.engine import EngineResult, keep, prune_conflicts, sort_results
from tidetrace.resolve.features import Prepared, prepare
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import MatchResult, Scorer, ScoringConfig

__all__ = ["SparkEngine", "local_session"]

# The DuckDB engine's queries (engine_duckdb.PAIR_SQL and LINK_SQL) in Spark's dialect.
PAIR_SQL = """
WITH k AS (SELECT DISTINCT rid, key FROM tt_keys),
usable AS (SELECT key FROM k GROUP BY key HAVING count(*) BETWEEN 2 AND {max_block}),
ku AS (SELECT k.rid, k.key FROM k LEFT SEMI JOIN usable ON k.key = usable.key)
SELECT DISTINCT a.rid AS l, b.rid AS r
FROM ku a JOIN ku b ON b.key = a.key AND a.rid < b.rid
"""
LINK_SQL = """
WITH k AS (SELECT DISTINCT t.rid, t.key, g.g FROM tt_keys t JOIN tt_grp g ON g.rid = t.rid),
usable AS (
  SELECT key FROM k GROUP BY key
  HAVING count(DISTINCT g) = 2
     AND sum(CASE WHEN g = 0 THEN 1 ELSE 0 END) * sum(CASE WHEN g <> 0 THEN 1 ELSE 0 END)
         <= {max_block} * {max_block} / 2
),
ku AS (SELECT k.rid, k.key, k.g FROM k LEFT SEMI JOIN usable ON k.key = usable.key)
SELECT DISTINCT least(a.rid, b.rid) AS l, greatest(a.rid, b.rid) AS r
FROM ku a JOIN ku b ON b.key = a.key AND a.g < b.g
"""


def local_session(cores: int | None = None) -> Any:
    """A local SparkSession for tidetrace (no UI, few shuffle partitions).

    Args:
        cores: worker threads; all cores when None.
    """
    from pyspark.sql import SparkSession

    # Workers must run the interpreter that has tidetrace and its name libraries.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = f"local[{cores}]" if cores else "local[*]"
    return (
        SparkSession.builder.master(master)
        .appName("tidetrace-resolve")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, 2 * (cores or 4))))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )


def _keys_of(item: tuple[int, dict[str, Any]]) -> list[tuple[int, str]]:
    rid, data = item
    return [(rid, key) for key in sorted(blocking_keys(prepare(Record.from_dict(data))))]


def _scorer_for(shared: Any, config: ScoringConfig) -> Any:
    """The per-partition scoring function; ``shared`` is the broadcast list of records."""

    def score(rows: Iterator[Any]) -> Iterator[MatchResult]:
        records: Sequence[dict[str, Any]] = shared.value
        scorer = Scorer(config)
        cache: dict[int, Prepared] = {}

        def get(rid: int) -> Prepared:
            found = cache.get(rid)
            if found is None:
                found = prepare(Record.from_dict(records[rid]))
                cache[rid] = found
            return found

        for row in rows:
            result = scorer.compare(get(int(row[0])), get(int(row[1])))
            if keep(result, scorer):
                yield result

    return score


class SparkEngine:
    """Candidate pairs with Spark.

    Args:
        session: the SparkSession to use; a local one is started when None.
    """

    name = "spark"

    def __init__(self, session: Any | None = None) -> None:
        self.session = session

    def run(
        self,
        records: Sequence[Record],
        scorer: Scorer,
        max_block: int = DEFAULT_MAX_BLOCK,
        link_groups: Sequence[int] | None = None,
        linked: Collection[tuple[str, str]] = (),
    ) -> EngineResult:
        """Score the candidate pairs of ``records`` (see ``engine.Engine.run``)."""
        spark = self.session if self.session is not None else local_session()
        sc = spark.sparkContext
        data = [r.to_dict() for r in records]
        slices = max(1, min(64, len(data) // 2000 + 1))
        keys = sc.parallelize(list(enumerate(data)), slices).flatMap(_keys_of)
        spark.createDataFrame(keys, "rid long, key string").createOrReplaceTempView("tt_keys")
        sql = PAIR_SQL
        if link_groups is not None:
            spark.createDataFrame(
                list(enumerate(int(g) for g in link_groups)), "rid long, g long"
            ).createOrReplaceTempView("tt_grp")
            sql = LINK_SQL
        pairs = spark.sql(sql.format(max_block=int(max_block)))
        shared = sc.broadcast(data)
        counted = sc.accumulator(0)

        def count(rows: Iterator[Any]) -> Iterator[Any]:
            for row in rows:
                counted.add(1)
                yield row

        score = _scorer_for(shared, scorer.config)
        results: list[MatchResult] = pairs.rdd.mapPartitions(count).mapPartitions(score).collect()
        shared.unpersist()
        results = prune_conflicts(results, linked)
        return EngineResult(self.name, len(records), int(counted.value), sort_results(results))
