"""The DuckDB engine: blocking as one SQL join in process, scoring in Python.

Names are analysed once per distinct record in Python (the pipeline needs OpenCC, jieba
and pypinyin), keys go to DuckDB as an Arrow table, and DuckDB finds the pairs sharing a
key that is not too common — the part that grows quadratically. Scoring uses the same
:class:`~tidetrace.resolve.scoring.Scorer` as the Spark engine.
"""

import time
from collections.abc import Collection, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from tidetrace.logs import get_logger
from tidetrace.resolve.blocking import DEFAULT_MAX_BLOCK, keyed
from tidetrace.resolve.engine import (
    EngineResult,
    prepare_all,
    score_index_pairs,
    sort_results,
)
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import Scorer

__all__ = ["LINK_SQL", "PAIR_SQL", "DuckDBEngine"]

log = get_logger(__name__)

# Pairs of records sharing a key carried by 2..max_block records, ordered so that every run
# yields pairs in the same order. With groups (link mode) only pairs across groups are
# formed, and the join itself is restricted to them rather than filtering afterwards.
PAIR_SQL = """
WITH k AS (SELECT DISTINCT rid, key FROM keys),
usable AS (SELECT key FROM k GROUP BY key HAVING count(*) BETWEEN 2 AND $max_block),
ku AS (SELECT k.rid, k.key FROM k SEMI JOIN usable ON k.key = usable.key)
SELECT DISTINCT a.rid AS l, b.rid AS r
FROM ku a JOIN ku b ON b.key = a.key AND a.rid < b.rid
ORDER BY l, r
"""
# In link mode a key costs (records of one group × records of the other) pairs, not n²/2:
# a trade name carried by 50 facilities and 1,000 spellings of them is worth joining.
LINK_SQL = """
WITH k AS (SELECT DISTINCT keys.rid, keys.key, grp.g FROM keys JOIN grp ON grp.rid = keys.rid),
usable AS (
  SELECT key FROM k GROUP BY key
  HAVING count(DISTINCT g) = 2
     AND count(*) FILTER (WHERE g = 0) * count(*) FILTER (WHERE g <> 0)
         <= $max_block * $max_block / 2
),
ku AS (SELECT k.rid, k.key, k.g FROM k SEMI JOIN usable ON k.key = usable.key)
SELECT DISTINCT least(a.rid, b.rid) AS l, greatest(a.rid, b.rid) AS r
FROM ku a JOIN ku b ON b.key = a.key AND a.g < b.g
ORDER BY l, r
"""


class DuckDBEngine:
    """Candidate pairs with DuckDB."""

    name = "duckdb"

    def run(
        self,
        records: Sequence[Record],
        scorer: Scorer,
        max_block: int = DEFAULT_MAX_BLOCK,
        link_groups: Sequence[int] | None = None,
        linked: Collection[tuple[str, str]] = (),
    ) -> EngineResult:
        """Score the candidate pairs of ``records`` (see ``engine.Engine.run``)."""
        started = time.perf_counter()
        prepared = prepare_all(records)
        analysed = time.perf_counter()
        rids: list[int] = []
        keys: list[str] = []
        for rid, key in keyed(prepared):
            rids.append(rid)
            keys.append(key)
        con = duckdb.connect()
        try:
            con.register("keys", pa.table({"rid": pa.array(rids, pa.int64()), "key": keys}))
            sql = PAIR_SQL
            if link_groups is not None:
                con.register(
                    "grp",
                    pa.table(
                        {
                            "rid": pa.array(range(len(records)), pa.int64()),
                            "g": pa.array(link_groups, pa.int64()),
                        }
                    ),
                )
                sql = LINK_SQL
            # Millions of pairs at scale: as two arrays, not as Python tuples.
            table = con.execute(sql, {"max_block": max_block}).to_arrow_table()
        finally:
            con.close()
        left = table.column("l").to_numpy().astype(np.int64, copy=False)
        right = table.column("r").to_numpy().astype(np.int64, copy=False)
        blocked = time.perf_counter()
        results = score_index_pairs(prepared, left, right, scorer, linked)
        log.debug(
            "resolve.duckdb",
            records=len(records),
            pairs=len(left),
            results=len(results),
            analyse_s=round(analysed - started, 2),
            block_s=round(blocked - analysed, 2),
            score_s=round(time.perf_counter() - blocked, 2),
        )
        return EngineResult(self.name, len(records), len(left), sort_results(results))
