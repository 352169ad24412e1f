"""Tiers, volume bounds, paths and time windows on the hand-built graph (tests/graph/support.py)."""

from datetime import date

import pytest

from tests.graph.support import T
from tidetrace.exc import InputError
from tidetrace.graph.flags import FlagIndex
from tidetrace.graph.flow import INF, max_flow, pass_on, reach_bounds
from tidetrace.graph.graphdb import LoadedGraph, Window
from tidetrace.graph.trace import trace


def _kg(result_nodes: dict[str, float | None], node: str) -> float | None:
    value = result_nodes[node]
    return None if value is None else round(value / T, 3)


def test_downstream_tiers_treat_the_forwarder_as_no_tier(
    graph: LoadedGraph, flags: FlagIndex
) -> None:
    result = trace(graph, flags, "t-p", "downstream")
    tiers = {n.id: n.tier for n in result.nodes}
    assert tiers == {
        "t-p": 0,
        "t-f": 1,
        "t-i1": 1,
        "t-i2": 1,
        "t-c": 1,
        "t-x": 1,
        "t-d": 2,
        "t-r": 3,
        "t-h": 4,
    }
    assert result.node("t-f") is not None
    assert result.node("t-f").role == "forwarder"  # type: ignore[union-attr]


def test_downstream_tonnage_is_volume_bounded_through_the_forwarder_and_the_cycle(
    graph: LoadedGraph, flags: FlagIndex
) -> None:
    result = trace(graph, flags, "t-p", "downstream")
    kg = {n.id: n.kg for n in result.nodes}
    before = {n.id: n.kg_before_flag for n in result.nodes}
    # P is flagged from 2023-01-01: 40 t after, 60 t before, shown separately.
    assert result.flag_since == date(2023, 1, 1)
    assert _kg(kg, "t-f") == 40
    assert _kg(before, "t-f") == 60
    # The forwarder mixes P's 40 t with Q's 900 t: each importer can have had at most 40 t.
    assert _kg(kg, "t-i1") == 40
    assert _kg(kg, "t-i2") == 40
    # D gets 300 t + 400 t, and more around the D → I1 → D cycle, but no more than P sent.
    assert _kg(kg, "t-d") == 40
    assert _kg(kg, "t-r") == 40
    assert _kg(before, "t-r") == 60
    assert _kg(kg, "t-c") == 10
    assert _kg(before, "t-c") == 0
    # Reached only through documents: no tonnage, and no bound either.
    assert kg["t-x"] is None
    assert kg["t-h"] is None
    assert result.node("t-x").reached_by == ["asserted"]  # type: ignore[union-attr]


def test_upstream_bounds_and_flag_split_per_supplier(graph: LoadedGraph, flags: FlagIndex) -> None:
    result = trace(graph, flags, "t-r", "upstream")
    tiers = {n.id: n.tier for n in result.nodes}
    assert tiers == {"t-r": 0, "t-d": 1, "t-i1": 2, "t-i2": 2, "t-f": 3, "t-p": 3, "t-q": 3}
    kg = {n.id: n.kg for n in result.nodes}
    before = {n.id: n.kg_before_flag for n in result.nodes}
    assert _kg(kg, "t-d") == 600
    assert _kg(kg, "t-i1") == 300
    assert _kg(kg, "t-i2") == 400
    assert _kg(kg, "t-f") == 600
    assert _kg(kg, "t-q") == 600
    # P's shipments count from its flag date; the earlier ones separately.
    assert _kg(kg, "t-p") == 40
    assert _kg(before, "t-p") == 60
    # Only flagged suppliers have a split.
    assert before["t-q"] is None
    assert [f.kind for f in result.node("t-p").flags] == ["finding"]  # type: ignore[union-attr]


def test_company_receiving_from_flagged_and_clean_plants(
    graph: LoadedGraph, flags: FlagIndex
) -> None:
    result = trace(graph, flags, "t-c", "upstream")
    kg = {n.id: n.kg for n in result.nodes}
    assert _kg(kg, "t-p") == 10
    assert _kg(kg, "t-q") == 90
    p = result.node("t-p")
    assert p is not None and p.reached_by == ["asserted", "observed"]
    # The asserted link and the trade link stay two edges, never merged.
    between = [e for e in result.edges if e.source == "t-p" and e.target == "t-c"]
    assert sorted(e.basis for e in between) == ["asserted", "observed"]
    observed = next(e for e in between if e.basis == "observed")
    assert observed.shipments == 1 and observed.kg == 10 * T


def test_paths_carry_evidence_and_weakest_link_confidence(
    graph: LoadedGraph, flags: FlagIndex
) -> None:
    result = trace(graph, flags, "t-p", "downstream")
    r = result.node("t-r")
    assert r is not None
    path = result.paths[r.paths[0]]
    assert [(h.source, h.target) for h in path] == [
        ("t-p", "t-f"),
        ("t-f", "t-i2"),
        ("t-i2", "t-d"),
        ("t-d", "t-r"),
    ] or [(h.source, h.target) for h in path] == [
        ("t-p", "t-f"),
        ("t-f", "t-i1"),
        ("t-i1", "t-d"),
        ("t-d", "t-r"),
    ]
    assert all(h.basis == "observed" for h in path)
    first = path[0].evidence[0]
    assert first["type"] == "bill_of_lading"
    assert first["shipments"] == 2
    assert first["bills"] == ["TBOL0000", "TBOL0001"]
    assert first["hs"] == ["030743"]
    assert result.path_confidence[r.paths[0]] == pytest.approx(0.95)
    # Holding H is reached through an asserted ownership record: the path's weakest link.
    h = result.node("t-h")
    assert h is not None
    hpath = result.paths[h.paths[-1]]
    assert hpath[-1].basis == "asserted" and hpath[-1].relation == "owned_by"
    assert result.path_confidence[h.paths[-1]] == pytest.approx(0.9)
    # C has its trade path (0.95) and, separately, no weaker asserted one is preferred.
    c = result.node("t-c")
    assert c is not None and c.confidence == pytest.approx(0.95)
    assert c.observed_confidence == pytest.approx(0.95)


def test_json_shape(graph: LoadedGraph, flags: FlagIndex) -> None:
    data = trace(graph, flags, "t-p", "downstream").to_dict()
    assert data["start"] == "t-p"
    for node in data["nodes"]:
        assert {"id", "name", "tier", "kg"} <= set(node)
    assert data["paths"]
    for path in data["paths"]:
        assert path
        for hop in path:
            assert {"from", "to", "kg", "evidence", "confidence"} <= set(hop)
    assert len(data["path_confidence"]) == len(data["paths"])


def test_window_before_the_flag_reaches_only_the_forwarder(
    graph: LoadedGraph, flags: FlagIndex
) -> None:
    result = trace(graph, flags, "t-p", "downstream", Window(until=date(2022, 12, 31)))
    observed = {n.id for n in result.nodes if "observed" in n.reached_by}
    assert observed == {"t-p", "t-f"}
    f = result.node("t-f")
    assert f is not None and f.kg == 0 and f.kg_before_flag == 60 * T
    # The 2024 document does not hold in 2022; the undated one does.
    ids = {n.id for n in result.nodes}
    assert "t-x" not in ids
    assert "t-c" in ids


def test_window_after_the_flag_needs_no_split(graph: LoadedGraph, flags: FlagIndex) -> None:
    result = trace(graph, flags, "t-p", "downstream", Window(since=date(2023, 1, 1)))
    assert result.flag_since is None
    f = result.node("t-f")
    assert f is not None and f.kg == 40 * T and f.kg_before_flag is None
    assert result.node("t-x") is not None  # since 2024 overlaps an open-ended window


def test_window_cuts_later_hops_too(graph: LoadedGraph, flags: FlagIndex) -> None:
    # D ships to R on 2023-07-01: a window ending in June stops at D.
    result = trace(graph, flags, "t-p", "downstream", Window(until=date(2023, 6, 30)))
    assert result.node("t-d") is not None
    r = result.node("t-r")
    assert r is None or "observed" not in r.reached_by


def test_hs_prefix(graph: LoadedGraph, flags: FlagIndex) -> None:
    result = trace(graph, flags, "t-c", "upstream", Window(hs="1605"))
    q, p = result.node("t-q"), result.node("t-p")
    assert q is not None and q.kg == 90 * T
    assert p is not None and p.reached_by == ["asserted"] and p.kg is None
    assert any("HS" in note for note in result.notes)


def test_basis_filters(graph: LoadedGraph, flags: FlagIndex) -> None:
    observed = trace(graph, flags, "t-p", "downstream", basis="observed")
    assert all(n.reached_by in (["observed"], []) for n in observed.nodes)
    assert observed.node("t-x") is None
    asserted = trace(graph, flags, "t-p", "downstream", basis="asserted")
    assert {n.id for n in asserted.nodes} == {"t-p", "t-c", "t-x"}


def test_max_depth(graph: LoadedGraph, flags: FlagIndex) -> None:
    result = trace(graph, flags, "t-p", "downstream", max_depth=2)
    assert max(n.tier for n in result.nodes) == 2
    assert result.node("t-r") is None
    with pytest.raises(InputError):
        trace(graph, flags, "t-p", "downstream", max_depth=0)


def test_sankey_flow_is_consistent(graph: LoadedGraph, flags: FlagIndex) -> None:
    result = trace(graph, flags, "t-p", "downstream")
    flows: dict[str, float] = {}
    for edge in result.edges:
        if edge.flow:
            flows[edge.target] = flows.get(edge.target, 0.0) + edge.flow
    # What the picture draws into a node never exceeds the node's bound.
    for node in result.nodes:
        if node.id in flows:
            assert node.kg is not None and flows[node.id] <= node.kg + 1e-6


# -- the flow functions on their own --------------------------------------------------------


def test_max_flow_diamond_and_cycle() -> None:
    # s → a → t and s → b → t, plus a cycle a ⇄ b.
    edges = [(0, 1, 5.0), (0, 2, 3.0), (1, 3, 4.0), (2, 3, 6.0), (1, 2, 2.0), (2, 1, 9.0)]
    assert max_flow(edges, 0, 3) == pytest.approx(8.0)
    assert max_flow([(0, 1, INF), (1, 2, INF)], 0, 2) == INF
    assert max_flow([], 0, 1) == 0.0


def test_reach_bounds_shared_supplier() -> None:
    # S sends 10 to A; A forwards 10 to B and 10 to C; both ship 10 to D. D can have 10.
    edges = [(0, 1, 10.0), (1, 2, 10.0), (1, 3, 10.0), (2, 4, 10.0), (3, 4, 10.0)]
    bounds = reach_bounds(edges, 0)
    assert bounds[4] == pytest.approx(10.0)
    assert bounds[2] == pytest.approx(10.0)


def test_pass_on_splits_pro_rata() -> None:
    # S ships 10 to A; A got 10 but shipped 20 + 30: it passes on 10 in the ratio 2:3.
    flow = pass_on([(0, 1, 10.0), (1, 2, 20.0), (1, 3, 30.0)], 0, {0: 0, 1: 1, 2: 2, 3: 2})
    assert flow[(1, 2)] == pytest.approx(4.0)
    assert flow[(1, 3)] == pytest.approx(6.0)
