"""What both engines share: the result type, scoring a pair list, the engine registry.

An engine takes records, finds candidate pairs (blocking, a join over keys) and scores
them with the same :class:`~tidetrace.resolve.scoring.Scorer`. DuckDB does the join in
process; Spark does it on a cluster (local mode in tests). Pairs in the review band or
above, and pairs with strong evidence against them whose records other links could join
(:func:`prune_conflicts`), are returned, sorted, so two engines on the same input return
the same list.
"""

import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tidetrace.exc import TidetraceError
from tidetrace.logs import get_logger
from tidetrace.resolve.blocking import DEFAULT_MAX_BLOCK
from tidetrace.resolve.bounds import PairBounds, pair_bounds, review_floor
from tidetrace.resolve.features import Prepared, places_compatible, prepare
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import MatchResult, Scorer, schemata_compatible

__all__ = [
    "ENGINES",
    "Engine",
    "EngineResult",
    "get_engine",
    "keep",
    "prune_conflicts",
    "score_index_pairs",
    "sort_results",
]

log = get_logger(__name__)


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
        linked: Collection[tuple[str, str]] = (),
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


def _components(
    results: Iterable[MatchResult], linked: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """Union-find over the match-band pairs and ``linked``: the root of every id joined."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while node != root:
            parent[node], node = root, parent[node]
        return root

    edges = [(r.left, r.right) for r in results if r.decision == "match"]
    for left, right in [*edges, *linked]:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
            parent.setdefault(min(a, b), min(a, b))
    return {node: find(node) for node in list(parent)}


def prune_conflicts(
    results: Sequence[MatchResult], linked: Iterable[tuple[str, str]] = ()
) -> list[MatchResult]:
    """Drop conflicting pairs below the review band that no chain of links could join.

    Such a pair is returned only to stop automatic merges through other links (a
    :class:`~tidetrace.resolve.judgements.Clusters` keep-apart). That can only matter
    when its two records are connected by match-band pairs or people's positive
    judgements (``linked``); at scale most candidate pairs are one trade name in two
    cities, and returning millions of them would cost more than scoring the rest.
    """
    roots = _components(results, linked)
    return [
        r
        for r in results
        if r.decision != "no-match" or (r.left in roots and roots[r.left] == roots.get(r.right))
    ]


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each value's index among the distinct values (in first-seen order), and those."""
    index: dict[Any, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))
    return codes, list(index)


def _combo_mask(left: np.ndarray, right: np.ndarray, size: int, test: Any) -> np.ndarray:
    """``test(left value code, right value code)`` for every pair, evaluated once per
    distinct combination of codes."""
    combo = left * size + right
    distinct, inverse = np.unique(combo, return_inverse=True)
    verdicts = np.fromiter(
        (test(int(c) // size, int(c) % size) for c in distinct), bool, len(distinct)
    )
    return verdicts[inverse]


def score_index_pairs(
    prepared: Sequence[Prepared],
    left: np.ndarray,
    right: np.ndarray,
    scorer: Scorer,
    linked: Collection[tuple[str, str]] = (),
) -> list[MatchResult]:
    """Score index pairs given as two arrays; the results :func:`keep` and
    :func:`prune_conflicts` leave, exactly as scoring every pair one by one would.

    Pairs the scorer would reject on sight — schemata that cannot be one entity, or names
    placing the records in different cities when no identifier can link them — are found
    with array operations over the distinct (schema, schema) and (places, places)
    combinations. So are pairs whose score cannot reach the review band, by an upper bound
    of every name pair's logit (:func:`~tidetrace.resolve.bounds.pair_bounds`) when they
    share no identifier. Both kinds are scored only when their two records end up joined
    by other links; the other pairs are scored with their name-pair bounds, which spare
    the name pairs that cannot be their best.
    """
    if not len(left):
        return []
    schemata, schema_values = _codes([p.record.schema for p in prepared])
    places, place_values = _codes([p.places for p in prepared])
    has_ids = np.fromiter((bool(p.identifiers) for p in prepared), bool, len(prepared))
    ns, npl = len(schema_values), len(place_values)
    rejected = ~_combo_mask(
        schemata[left],
        schemata[right],
        ns,
        lambda a, b: schemata_compatible(schema_values[a], schema_values[b]),
    )
    if scorer.places_decide:

        def differ(a: int, b: int) -> bool:
            pa, pb = place_values[a], place_values[b]
            return pa is not None and pb is not None and not places_compatible(pa, pb)

        # Two records with identifiers may share one, which outweighs the places.
        undecided = ~(has_ids[left] & has_ids[right])
        rejected |= undecided & _combo_mask(places[left], places[right], npl, differ)
    started = time.perf_counter()
    candidates = np.flatnonzero(~rejected)
    floor = review_floor(scorer.config)
    bounds = pair_bounds(prepared, left[candidates], right[candidates], scorer.config, floor)
    # A shared identifier lifts the score above any name bound; one that conflicts only
    # ever lowers it.
    below = (bounds.logits < floor) & ~_share_identifier(
        prepared, left[candidates], right[candidates], has_ids
    )
    rejected[candidates[below]] = True
    scored = np.flatnonzero(~below)
    bounded = time.perf_counter()
    results = _score_kept(
        prepared,
        left[candidates[scored]],
        right[candidates[scored]],
        scorer,
        [bounds.name_bounds(int(k)) for k in scored],
    )
    results = prune_conflicts(results, linked)
    kept = time.perf_counter()
    deferred = 0
    if rejected.any():
        # A rejected pair is a conflict worth returning only inside one linked component.
        roots = _components(results, linked)
        if roots:
            ids = [p.record.id for p in prepared]
            root_codes, _ = _codes([roots.get(i, i) for i in ids])
            # Below the review band a pair is returned only as a conflict. Rejections on
            # sight always are; pairs with identifiers on both sides may conflict (or
            # decide on places) by them; for the others the bounds know which features
            # could be worth CONFLICT_LOGIT.
            ids_both = has_ids[left] & has_ids[right]
            maybe = np.ones(len(left), bool)
            maybe[candidates] = bounds.conflicts | ids_both[candidates]
            position = np.full(len(left), -1)
            position[candidates] = np.arange(len(candidates))
            lr, rr = left[rejected], right[rejected]
            same = np.flatnonzero((root_codes[lr] == root_codes[rr]) & maybe[rejected])
            where = position[np.flatnonzero(rejected)[same]].tolist()
            deferred = len(where)
            for i, j, k in zip(lr[same].tolist(), rr[same].tolist(), where, strict=True):
                a, b = prepared[i], prepared[j]
                names = bounds.name_bounds(k) if k >= 0 else None
                if (
                    names is not None
                    and not ids_both[candidates[k]]
                    and not bounds.record_conflicts[k]
                    and not _conflict_may_be_best(scorer, a, b, bounds, k, names)
                ):
                    continue
                result = scorer.compare(a, b, names)
                if keep(result, scorer):
                    results.append(result)
    log.debug(
        "resolve.score",
        pairs=len(left),
        on_sight=len(left) - len(candidates),
        bounded_out=int(below.sum()),
        scored=len(scored),
        deferred=deferred,
        bound_s=round(bounded - started, 2),
        score_s=round(kept - bounded, 2),
        deferred_s=round(time.perf_counter() - kept, 2),
    )
    return results


def _conflict_may_be_best(
    scorer: Scorer, a: Prepared, b: Prepared, bounds: PairBounds, index: int, names: list[float]
) -> bool:
    """Whether a name pair with a feature worth CONFLICT_LOGIT or less may be the best of
    pair ``index``: any name pair's logit is a floor of the best one's, and the name pair
    with the highest bound, compared exactly, usually a high one."""
    top = max(range(len(names)), key=names.__getitem__)
    width = len(b.forms)
    floor = scorer.name_logit(a.forms[top // width], b.forms[top % width])
    return bounds.conflict_may_win(index, floor)


def _share_identifier(
    prepared: Sequence[Prepared], left: np.ndarray, right: np.ndarray, has_ids: np.ndarray
) -> np.ndarray:
    """Whether the two records of each pair carry one identifier in common."""
    shared = np.zeros(len(left), bool)
    both = np.flatnonzero(has_ids[left] & has_ids[right])
    # Few records carry identifiers (list entries, registry plants): a set test each.
    shared[both] = [
        not prepared[i].identifiers.isdisjoint(prepared[j].identifiers)
        for i, j in zip(left[both].tolist(), right[both].tolist(), strict=True)
    ]
    return shared


def _score_kept(
    prepared: Sequence[Prepared],
    left: np.ndarray,
    right: np.ndarray,
    scorer: Scorer,
    bounds: Sequence[Sequence[float] | None],
) -> list[MatchResult]:
    """The pairs' results that :func:`keep` keeps, in pair order."""
    out: list[MatchResult] = []
    for i, j, b in zip(left.tolist(), right.tolist(), bounds, strict=True):
        result = scorer.compare(prepared[i], prepared[j], b)
        if keep(result, scorer):
            out.append(result)
    return out


def keep(result: MatchResult, scorer: Scorer) -> bool:
    """Whether an engine returns a scored pair: in the review band or above, or below it
    with strong evidence against (which stops automatic merges through other links)."""
    return result.score >= scorer.config.review or result.conflicting


def prepare_all(records: Sequence[Record]) -> list[Prepared]:
    """Analyse every record once."""
    return [prepare(r) for r in records]


def sort_results(results: list[MatchResult]) -> list[MatchResult]:
    """Results with each pair's smaller id on the left, sorted by pair (how engines return
    them, so that two runs on the same input list the same pairs in the same order)."""
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
