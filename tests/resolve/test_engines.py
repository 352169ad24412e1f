"""The DuckDB and Spark engines find the same links on the same input."""

from typing import Any

import pytest

from tidetrace.resolve.blocking import blocking_keys
from tidetrace.resolve.engine import get_engine
from tidetrace.resolve.features import prepare
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import Scorer

NAMES = [
    ("cn", "大连海青食品有限公司"),
    ("cn", "Dalian Haiqing Food Co., Ltd."),
    ("", "DALIAN HAIQING FOODS CO LTD"),
    ("", "DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD"),
    ("cn", "大连海清食品有限公司"),
    ("cn", "丹东泰丰食品有限公司"),
    ("cn", "Dandong Taifeng Foodstuffs Co., Ltd."),
    ("", "DANDONG TAIFENG FOODSTUFF CO LTD"),
    ("cn", "丹东远一精制海产品有限公司"),
    ("cn", "Dandong Yuanyi Refined Seafoods"),
    ("kp", "조선련봉총회사"),
    ("kp", "KOREA RYONBONG GENERAL CORPORATION"),
    ("kp", "KOREA RUNGRADO GENERAL TRADING CORPORATION"),
    ("cn", "丹东食品有限公司"),
    ("us", "Trident Seafoods"),
    ("us", "TRIDENT SEAFOODS CORP"),
]
RECORDS = [
    Record(f"r{i:02d}", "Company" if i % 3 else "LegalEntity", (name,), (c,) if c else ())
    for i, (c, name) in enumerate(NAMES)
]


def summary(results: list[Any]) -> list[tuple[str, str, float, str]]:
    return [(r.left, r.right, r.score, r.decision) for r in results]


def test_duckdb_finds_the_expected_links() -> None:
    result = get_engine("duckdb").run(RECORDS, Scorer())
    links = {(r.left, r.right) for r in result.results if r.decision == "match"}
    assert {("r00", "r01"), ("r00", "r03"), ("r05", "r06"), ("r08", "r09"), ("r10", "r11")} <= links
    assert ("r14", "r15") in links
    assert ("r11", "r12") not in links
    assert result.pairs >= len(result.results)


def test_link_groups_compare_only_across_groups() -> None:
    groups = [0 if r.id < "r05" else 1 for r in RECORDS]
    result = get_engine("duckdb").run(RECORDS, Scorer(), link_groups=groups)
    assert all((r.left < "r05") != (r.right < "r05") for r in result.results)


def test_blocking_keys_meet_across_scripts() -> None:
    han = blocking_keys(prepare(RECORDS[0]))
    latin = blocking_keys(prepare(RECORDS[3]))
    assert "w:haiqing" in han & latin
    korean = blocking_keys(prepare(RECORDS[10])) & blocking_keys(prepare(RECORDS[11]))
    assert any(k.startswith("k:") for k in korean)


def test_unknown_engine() -> None:
    with pytest.raises(Exception, match="unknown engine"):
        get_engine("pandas")


@pytest.mark.spark
def test_spark_gives_the_same_links_as_duckdb(spark: Any) -> None:
    from tidetrace.resolve.engine_spark import SparkEngine

    scorer = Scorer()
    duck = get_engine("duckdb").run(RECORDS, scorer)
    sparked = SparkEngine(spark).run(RECORDS, scorer)
    assert summary(sparked.results) == summary(duck.results)
    assert sparked.pairs == duck.pairs
    groups = [i % 2 for i in range(len(RECORDS))]
    assert summary(SparkEngine(spark).run(RECORDS, scorer, link_groups=groups).results) == summary(
        get_engine("duckdb").run(RECORDS, scorer, link_groups=groups).results
    )


@pytest.mark.spark
def test_spark_run_over_a_workspace_equals_duckdb(spark: Any, workspace: Any) -> None:
    from tests.resolve.conftest import add_entities
    from tidetrace.resolve.judgements import Resolver
    from tidetrace.resolve.run import resolve_workspace

    add_entities(
        workspace,
        [{"id": r.id, "schema": r.schema, "name": r.names[0]} for r in RECORDS],
    )
    spark_run = resolve_workspace(workspace, engine="spark", session=spark)
    groups_spark = Resolver(workspace.engine).clusters().groups()
    duck_run = resolve_workspace(workspace, engine="duckdb")
    # The DuckDB run on the same input changes nothing the Spark run did.
    assert (duck_run.linked, duck_run.unlinked) == (0, 0)
    assert duck_run.pairs == spark_run.pairs and duck_run.queued == spark_run.queued
    assert Resolver(workspace.engine).clusters().groups() == groups_spark


# One trade name in several cities, a spelling with no city that matches all of them, and a
# vessel: most pairs are rejected on sight, some of them still matter (they keep apart
# records that the placeless spelling would otherwise chain together).
CHAIN = [
    Record("c1", "Company", ("大连海青食品有限公司",), ("cn",)),
    Record("c2", "Company", ("Dandong Haiqing Food Co., Ltd.",), ("cn",)),
    Record("c3", "Company", ("Qingdao Haiqing Foodstuffs Co., Ltd.",), ("cn",)),
    Record("c4", "LegalEntity", ("HAIQING FOOD CO LTD",)),
    Record("c5", "Vessel", ("HAIQING",)),
    Record("c6", "Company", ("Rongcheng Taifeng Aquatic Products Co., Ltd.",), ("cn",)),
    Record("c7", "Company", ("Zhoushan Taifeng Aquatic Products Co., Ltd.",), ("cn",)),
]


@pytest.mark.parametrize("linked", [(), (("c6", "c7"),)])
def test_array_scoring_equals_scoring_every_pair(linked: tuple[tuple[str, str], ...]) -> None:
    """The DuckDB engine's array shortcut returns what scoring each pair one by one,
    keeping what :func:`keep` keeps and pruning conflicts no link could join, returns."""
    import numpy as np

    from tidetrace.resolve.engine import keep, prune_conflicts, score_index_pairs

    scorer = Scorer()
    prepared = [prepare(r) for r in CHAIN]
    pairs = [(i, j) for i in range(len(CHAIN)) for j in range(i + 1, len(CHAIN))]
    one_by_one = [scorer.compare(prepared[i], prepared[j]) for i, j in pairs]
    expected = prune_conflicts([r for r in one_by_one if keep(r, scorer)], linked)
    left = np.array([i for i, _ in pairs], dtype=np.int64)
    right = np.array([j for _, j in pairs], dtype=np.int64)
    got = score_index_pairs(prepared, left, right, scorer, linked)
    key = sorted(summary(got))
    assert key == sorted(summary(expected))
    found = {(r.left, r.right) for r in got}
    # The placeless spelling matches the three cities' firms; the cities stay apart.
    assert {("c1", "c4"), ("c2", "c4"), ("c3", "c4")} <= found
    assert ("c1", "c2") in found and ("c5", "c4") not in found
    # Two cities' firms joined by nothing: their conflict is not worth returning, unless
    # a person said they are one.
    assert (("c6", "c7") in found) == bool(linked)
