"""What both engines share: the result type, scoring a pair list, the engine registry.

An engine takes records, finds candidate pairs (blocking, a join over keys) and scores
them with the same :class:`~tidetrace.resolve.scoring.Scorer`. DuckDB does the join in
process; Spark does it on a cluster (local mode in tests). Pairs in the review band or
above, and pairs with strong evidence against them, are returned, sorted, so two engines on
the same input return the same list.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tidetrace.exc import TidetraceError
from tidetrace.resolve.blocking import DEFAULT_MAX_BLOCK
from tidetrace.resolve.features import Prepared, prepare
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import MatchResult, Scorer

__all__ = ["ENGINES", "Engine", "EngineResult", "get_engine", "keep", "score_pairs"]


@dataclass
class EngineResult:
    """What an engine found.

    Attributes:
        engine: its name.
        records: records read.
        pairs: candidate pairs scored.
        results: pairs in the review band or above, and conflicting pairs below it,
            sorted by (left, right).
    """

    engine: str
    records: int
    pairs: int
    results: list[MatchResult]


class Engine(Protocol):
    """Finds and scores candidate pairs."""

    name: str

    def run(
        self,
        records: Sequence[Record],
        scorer: Scorer,
        max_block: int = DEFAULT_MAX_BLOCK,
        link_groups: Sequence[int] | None = None,
    ) -> EngineResult:
        """Score the candidate pairs of ``records``.

        Args:
            records: the records.
            scorer: the scorer (its configuration sets the review band).
            max_block: keys carried by more records than this are ignored.
            link_groups: one group number per record; when given, only pairs across
                groups are compared (link parties to facilities, not parties to parties).
        """
        ...


def score_pairs(
    prepared: Sequence[Prepared], pairs: Iterable[tuple[int, int]], scorer: Scorer
) -> tuple[int, list[MatchResult]]:
    """Score index pairs; returns the count and the results worth keeping (:func:`keep`)."""
    count = 0
    out: list[MatchResult] = []
    for left, right in pairs:
        count += 1
        result = scorer.compare(prepared[left], prepared[right])
        if keep(result, scorer):
            out.append(result)
    return count, out


def keep(result: MatchResult, scorer: Scorer) -> bool:
    """Whether an engine returns a scored pair: in the review band or above, or below it
    with strong evidence against (which stops automatic merges through other links)."""
    return result.score >= scorer.config.review or result.conflicting


def prepare_all(records: Sequence[Record]) -> list[Prepared]:
    """Analyse every record once."""
    return [prepare(r) for r in records]


def _sorted(results: list[MatchResult]) -> list[MatchResult]:
    for r in results:
        if r.right < r.left:
            r.left, r.right = r.right, r.left
            r.left_name, r.right_name = r.right_name, r.left_name
    return sorted(results, key=lambda r: (r.left, r.right))


ENGINES = ("duckdb", "spark")


def get_engine(name: str) -> Engine:
    """The engine called ``name``.

    Raises:
        TidetraceError: unknown engine, or Spark is not installed.
    """
    if name == "duckdb":
        from tidetrace.resolve.engine_duckdb import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        try:
            from tidetrace.resolve.engine_spark import SparkEngine
        except ImportError as exc:  # pyspark is an optional extra
            raise TidetraceError(
                f"the Spark engine needs pyspark: pip install 'tidetrace[spark]' ({exc})"
            ) from None
        return SparkEngine()
    raise TidetraceError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
