"""Exposure on the hand-built graph: share of intake traceable to flagged plants, and via whom."""

import pytest

from tests.graph.support import T
from tidetrace.graph.exposure import exposure
from tidetrace.graph.flags import FlagIndex
from tidetrace.graph.graphdb import LoadedGraph


def test_exposure_of_a_company_buying_from_flagged_and_clean_plants(
    graph: LoadedGraph, flags: FlagIndex
) -> None:
    result = exposure(graph, flags, "t-c")
    assert result.kg_in == 100 * T
    assert result.kg_flagged == 10 * T
    assert result.share == pytest.approx(0.1)
    assert [s.id for s in result.sources] == ["t-p"]
    via = {v.id: (v.kg_in, v.kg_flagged) for v in result.via}
    assert via == {"t-p": (10 * T, 10 * T), "t-q": (90 * T, 0.0)}


def test_exposure_through_forwarder_and_distributor(graph: LoadedGraph, flags: FlagIndex) -> None:
    result = exposure(graph, flags, "t-r")
    assert result.kg_in == 600 * T
    # P's 40 t after its flag date can have reached R; its earlier 60 t are counted apart.
    assert result.kg_flagged == 40 * T
    assert result.kg_flagged_before == 60 * T
    assert result.share == pytest.approx(40 / 600)
    assert [(v.id, v.kg_flagged) for v in result.via] == [("t-d", 40 * T)]
    data = result.to_dict()
    assert data["share"] == pytest.approx(0.0667, abs=1e-4)
    assert data["sources"][0]["flags"][0]["reason"].startswith("North Korean workers")
    assert data["paths"]


def test_exposure_of_an_unflagged_supply_chain(graph: LoadedGraph, flags: FlagIndex) -> None:
    result = exposure(graph, flags, "t-f")
    assert result.kg_in == 1000 * T
    assert result.kg_flagged == 40 * T
    assert exposure(graph, FlagIndex(), "t-r").kg_flagged == 0
