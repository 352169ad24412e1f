"""The bulk pre-rejection is a shortcut, never a change: on real list entries it returns what
scoring every candidate pair in full returns, and its bounds hold for every name pair."""

import math
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tidetrace.registry.synth import generate
from tidetrace.resolve.blocking import DEFAULT_MAX_BLOCK, keyed
from tidetrace.resolve.bounds import pair_bounds, review_floor
from tidetrace.resolve.engine import keep, prepare_all, prune_conflicts, score_index_pairs
from tidetrace.resolve.features import Prepared, name_features
from tidetrace.resolve.identifiers import Identifier
from tidetrace.resolve.records import Record, from_entity
from tidetrace.resolve.scoring import CONFLICT_LOGIT, MatchResult, Scorer, load_config
from tidetrace.sources import case, ofac_sdn, un_sc

DATA = Path(__file__).parents[2] / "data"
SANCTIONS = DATA / "sanctions"


@pytest.fixture(scope="module")
def sample() -> tuple[list[Prepared], np.ndarray, np.ndarray]:
    """A realistic sample: the DPRK and Syria entries of the OFAC list with every alias
    (up to dozens a record; "KOREA … TRADING CORPORATION"s by the hundred), the UN 1718
    list, the investigation's entities and 300 registry plants in Chinese and English;
    with the pairs blocking finds among them, as the DuckDB engine finds them."""
    import duckdb
    import pyarrow as pa

    records: dict[str, Record] = {}
    entities: list[Any] = []
    for program in ("DPRK", "SYRIA"):
        entities += ofac_sdn.parse(
            SANCTIONS / "ofac_sdn_2024-05-03.csv",
            SANCTIONS / "ofac_alt_2025-12.csv",
            SANCTIONS / "ofac_add_2025-12.csv",
            program=program,
        )
    entities += un_sc.parse(SANCTIONS / "un_sc_consolidated_2026-02-27.xml", program="DPRK")
    entities += case.parse(DATA / "investigation")
    for entity in entities:
        record = from_entity(entity)
        if record is not None:
            records[record.id] = record
    for i, plant in enumerate(generate(300, 7)):
        code = Identifier("cn_establishment", plant.code)
        records[f"reg-{i}"] = Record(
            f"reg-{i}", "Facility", (plant.name_zh, plant.name_en), ("cn",), identifiers=(code,)
        )
    prepared = prepare_all([records[k] for k in sorted(records)])
    rids, keys = zip(*keyed(prepared), strict=True)
    from tidetrace.resolve.engine_duckdb import PAIR_SQL

    con = duckdb.connect()
    con.register("keys", pa.table({"rid": pa.array(rids, pa.int64()), "key": list(keys)}))
    table = con.execute(PAIR_SQL, {"max_block": DEFAULT_MAX_BLOCK}).to_arrow_table()
    con.close()
    left = table.column("l").to_numpy().astype(np.int64)
    right = table.column("r").to_numpy().astype(np.int64)
    assert len(left) > 3000  # many pairs, most of them far below the review band
    return prepared, left, right


def full(results: list[MatchResult]) -> list[dict[str, Any]]:
    return sorted((r.to_dict() for r in results), key=lambda d: (d["left"], d["right"]))


def chain(prepared: list[Prepared], step: int) -> list[tuple[str, str]]:
    """People's merges joining every ``step``-th record into one entity: every rejected
    pair inside it must then be scored, and returned when it is a conflict."""
    ids = [p.record.id for p in prepared][::step]
    return list(pairwise(ids))


@pytest.mark.slow
@pytest.mark.parametrize("step", [0, 3, 1])
def test_fast_path_returns_what_scoring_every_pair_returns(
    sample: tuple[list[Prepared], np.ndarray, np.ndarray], step: int
) -> None:
    prepared, left, right = sample
    linked = chain(prepared, step) if step else []
    slow = Scorer()
    one_by_one = [
        slow.compare(prepared[i], prepared[j])
        for i, j in zip(left.tolist(), right.tolist(), strict=True)
    ]
    expected = prune_conflicts([r for r in one_by_one if keep(r, slow)], linked)
    got = score_index_pairs(prepared, left, right, Scorer(), linked)
    # Every field: pairs, scores, decisions, features with their details, names used.
    assert full(got) == full(expected)
    assert any(r.decision == "match" for r in got)
    if step:
        # Conflicts below the review band inside the merged entity come back.
        assert any(r.decision == "no-match" for r in got)


@pytest.mark.slow
def test_bounds_hold_for_every_name_pair(
    sample: tuple[list[Prepared], np.ndarray, np.ndarray],
) -> None:
    prepared, left, right = sample
    scorer = Scorer()
    bounds = pair_bounds(prepared, left, right, scorer.config)
    weights = scorer.config.weights
    flagged = 0
    for k, (i, j) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        a, b = prepared[i], prepared[j]
        names = bounds.name_bounds(k)
        assert names is not None and len(names) == len(a.forms) * len(b.forms)
        start = int(bounds.offsets[k])
        for n, (fa, fb) in enumerate((fa, fb) for fa in a.forms for fb in b.forms):
            assert scorer.name_logit(fa, fb) <= names[n]
            values = name_features(fa, fb, scorer.config.token_threshold)
            conflict = any(
                v.value and weights.get(v.name, 0.0) * v.value <= CONFLICT_LOGIT for v in values
            )
            assert bounds.name_conflicts[start + n] or not conflict
            flagged += conflict
        vector, _, _ = scorer.vector(a, b)
        logit = scorer.config.bias + sum(
            weights.get(v.name, 0.0) * v.value for v in vector if v.value
        )
        assert logit <= bounds.logits[k]
    assert flagged  # the sample has conflicts to flag
    # Most pairs are told apart by the bound alone: the point of it.
    below = bounds.logits < review_floor(scorer.config)
    assert below.mean() > 0.6


@pytest.mark.slow
def test_name_pair_bounds_spare_work_not_results(
    sample: tuple[list[Prepared], np.ndarray, np.ndarray],
) -> None:
    """Comparing name pairs best bound first gives the same result as comparing them all,
    even when every bound is equal (ties go to the first name pair, as without bounds)."""
    prepared, left, right = sample
    scorer = Scorer()
    bounds = pair_bounds(prepared, left, right, scorer.config)
    for k in range(0, len(left), 7):
        a, b = prepared[int(left[k])], prepared[int(right[k])]
        plain = scorer.compare(a, b).to_dict()
        assert scorer.compare(a, b, bounds.name_bounds(k)).to_dict() == plain
        flat = [math.inf] * (len(a.forms) * len(b.forms))
        assert scorer.compare(a, b, flat).to_dict() == plain


def test_review_floor_leaves_room_for_rounding() -> None:
    """A logit below the floor rounds (to four decimals, as scores are) below the band."""
    config = load_config()
    score = 1 / (1 + math.exp(-review_floor(config)))
    assert score < config.review and round(score, 4) < config.review
