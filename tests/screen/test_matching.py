"""Matching examples against the index: scripts, identifiers, yente semantics."""

from typing import Any

import pytest

from tidetrace.exc import InputError, NotFoundError
from tidetrace.screen.index import ScreenIndex
from tidetrace.screen.matching import example_record, match_example
from tidetrace.screen.yente import EntityMatchQuery, MatchOptions, match_queries

# A table of match cases, in the spirit of nomenklatura's test_model_cases.py: the query,
# the entity that must come first, and whether it must be a match (score ≥ 0.7).
CASES: list[dict[str, Any]] = [
    {"name": "大连海青食品有限公司", "country": "cn", "first": "case-plant-haiqing", "match": True},
    {"name": "DALIAN HAI QING FOODS CO.,LTD", "first": "case-plant-haiqing", "match": True},
    {"name": "丹东泰丰", "first": "case-plant-taifeng", "match": True},
    {"name": "조선련봉총회사", "first": "un-sc-690751", "match": True},
    {
        "name": "Korea Ryonbong General Corp",
        "country": "kp",
        "first": "un-sc-690751",
        "match": True,
    },
    {"name": "Walmart Inc.", "country": "us", "first": "case-walmart", "match": True},
    {"name": "Pyongsan Seafood", "first": "t-p", "match": True},
    {"name": "Qingdao Totally Unrelated Textiles", "first": None, "match": False},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_match_cases(index: ScreenIndex, case: dict[str, Any]) -> None:
    props = {"name": [case["name"]]}
    if "country" in case:
        props["country"] = [case["country"]]
    total, results = match_example(index, example_record("Company", props))
    if case["first"] is None:
        assert total == 0
        assert all(not r.match for r in results)
        return
    assert results, case
    assert results[0].entry.id == case["first"]
    assert results[0].match is case["match"]
    assert results[0].features  # every score says which features fired


def test_flags_ride_along(index: ScreenIndex) -> None:
    _total, results = match_example(
        index, example_record("Company", {"name": ["Pyongsan Seafood Plant"]})
    )
    assert results[0].flags and results[0].flags[0]["kind"] == "finding"
    _total, results = match_example(
        index, example_record("Company", {"name": ["KOREA RYONBONG GENERAL CORPORATION"]})
    )
    assert results[0].flags[0]["kind"] == "list"


def _query(**queries: dict[str, Any]) -> EntityMatchQuery:
    return EntityMatchQuery.model_validate({"queries": queries})


def test_yente_response_shape(index: ScreenIndex) -> None:
    body = _query(
        q1={"schema": "Company", "properties": {"name": ["Dalian Haiqing Food Co., Ltd."]}},
        q2={"schema": "Company", "properties": {"name": "Walmart"}},
    )
    data = match_queries(index, "default", body, MatchOptions()).model_dump(
        by_alias=True, mode="json"
    )
    assert set(data) == {"responses", "matcher", "limit"}
    assert data["limit"] == 5
    assert set(data["responses"]) == {"q1", "q2"}
    q1 = data["responses"]["q1"]
    assert q1["status"] == 200
    assert q1["total"] == {"value": 1, "relation": "eq"}
    assert q1["query"]["schema"] == "Company"
    top = q1["results"][0]
    for key in (
        "id",
        "caption",
        "schema",
        "properties",
        "datasets",
        "referents",
        "target",
        "first_seen",
        "last_seen",
        "last_change",
        "score",
        "match",
        "features",
    ):
        assert key in top, key
    assert top["id"] == "case-plant-haiqing"
    assert top["match"] is True and 0.7 <= top["score"] <= 1.0
    assert all(isinstance(v, float) for v in top["features"].values())
    assert top["explanations"]["contained"]["detail"]
    for doc in data["matcher"].values():
        assert set(doc) == {"description", "coefficient", "url"}


def test_yente_threshold_cutoff_and_limit(index: ScreenIndex) -> None:
    body = _query(q={"schema": "Company", "properties": {"name": ["Dalian Haiqing Food"]}})
    # Default: only results above the cutoff (= threshold) come back.
    default = match_queries(index, "default", body, MatchOptions()).responses["q"]
    assert all(r.score > 0.7 for r in default.results)
    # A low cutoff returns near misses too, marked as no match; total counts matches only.
    loose = match_queries(index, "default", body, MatchOptions(cutoff=0.0, limit=10)).responses["q"]
    assert len(loose.results) > len(default.results)
    assert loose.total.value == sum(r.match for r in loose.results)
    assert [r.score for r in loose.results] == sorted(
        (r.score for r in loose.results), reverse=True
    )
    # A higher threshold turns the match into a near miss.
    strict = match_queries(
        index, "default", body, MatchOptions(threshold=0.999, cutoff=0.0)
    ).responses["q"]
    assert strict.total.value == 0 and strict.results and not strict.results[0].match
    one = match_queries(index, "default", body, MatchOptions(limit=1, cutoff=0.0))
    assert len(one.responses["q"].results) == 1


def test_yente_filters(index: ScreenIndex) -> None:
    body = _query(q={"schema": "Company", "properties": {"name": ["Dalian Haiqing Food"]}})
    excluded = match_queries(
        index, "default", body, MatchOptions(exclude_entity_ids=["case-plant-haiqing"])
    )
    assert all(r.id != "case-plant-haiqing" for r in excluded.responses["q"].results)
    only_un = match_queries(
        index, "default", body, MatchOptions(include_dataset=["un_sc"], cutoff=0.0)
    )
    assert all("un_sc" in r.datasets for r in only_un.responses["q"].results)
    sanctions = match_queries(index, "sanctions", body, MatchOptions(cutoff=0.0))
    assert all(r.id != "case-plant-haiqing" for r in sanctions.responses["q"].results)
    facilities = match_queries(index, "facilities", body, MatchOptions())
    assert [r.id for r in facilities.responses["q"].results] == ["case-plant-haiqing"]
    by_dataset = match_queries(index, "case_outlaw_ocean", body, MatchOptions())
    assert by_dataset.responses["q"].results[0].id == "case-plant-haiqing"
    no_facilities = match_queries(index, "default", body, MatchOptions(exclude_schema=["Facility"]))
    assert all(r.schema_ != "Facility" for r in no_facilities.responses["q"].results)


def test_yente_errors(index: ScreenIndex) -> None:
    ok = {"schema": "Company", "properties": {"name": ["x"]}}
    with pytest.raises(NotFoundError):
        match_queries(index, "nonexistent_dataset", _query(q=ok), MatchOptions())
    with pytest.raises(InputError, match="Cannot parse example"):
        match_queries(
            index, "default", _query(q={"schema": "Banana", "properties": {}}), MatchOptions()
        )
    with pytest.raises(InputError, match="Cannot parse example"):
        match_queries(
            index, "default", _query(q={"schema": "Company", "properties": {}}), MatchOptions()
        )
    with pytest.raises(InputError, match="Too many queries"):
        match_queries(index, "default", _query(**{f"q{i}": ok for i in range(101)}), MatchOptions())
    with pytest.raises(InputError, match="algorithm"):
        match_queries(index, "default", _query(q=ok), MatchOptions(algorithm="magic"))
    # yente's own algorithm names are accepted (answered by tidetrace's scorer).
    match_queries(index, "default", _query(q=ok), MatchOptions(algorithm="logic-v2"))


def test_identifier_is_strong_evidence(index: ScreenIndex) -> None:
    # A supplier written under another name but with the plant's approval code (box print).
    record = example_record(
        "Company", {"name": ["Golden Wave Trading"], "registrationNumber": ["CN 2100/02153"]}
    )
    total, results = match_example(index, record)
    assert total == 1
    assert results[0].entry.id == "test-reg-2100-02153"
    assert results[0].score >= 0.99
    assert results[0].features["identifier_match"] == 1.0
