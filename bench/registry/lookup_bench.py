"""Lookup latency on a synthetic registry (issue 4: p50/p99 on 20,000 facilities).

Builds a workspace, ingests a synthetic registry of N plants through the same code as
``tidetrace ingest registry``, then times :func:`lookup_code` over a mix of queries as
people type them: listed codes in every printed form, unknown well-formed codes (which
also compute "did you mean"), and OCR look-alikes.

With ``shipments`` > 0 the workspace also gets trade: synthetic bills of lading whose
shippers are registry plants (their English names as a manifest prints them, upper case,
some with the punctuation dropped), written in the generic layout and taken through the
real trade-records ingest, entity resolution and a graph build, as ``tidetrace ingest
shipments``, ``tidetrace resolve`` and ``tidetrace graph build`` do. Every query is then
timed twice in the same run, without a trade source and with :class:`GraphTrade`, in
alternating order so drift on a shared machine falls on both alike; a ``traded`` kind
looks up plants that do have shipments, the path where the trade section has work to do.
"""

import csv
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidetrace.registry.ingest import ingest_registry
from tidetrace.registry.lookup import lookup_code
from tidetrace.registry.synth import SyntheticPlant, generate, write_csv
from tidetrace.registry.trade import GraphTrade, TradeSource
from tidetrace.workspace import Workspace

FORMS = ["{c}", "CN {c} EC", "CN-{c}", "CHINA {c}", "{a} / {b}"]
BILL_HEADER = [
    "bill_of_lading",
    "arrival_date",
    "shipper_name",
    "shipper_address",
    "shipper_country",
    "consignee_name",
    "consignee_address",
    "consignee_country",
    "hs_code",
    "description",
    "weight",
    "weight_unit",
]
HS = [("030743", "FROZEN SQUID"), ("030474", "FROZEN POLLOCK FILLETS"),
      ("160554", "COOKED SQUID"), ("030771", "FROZEN CLAMS"), ("160510", "CRAB MEAT")]  # fmt: skip
IMPORTER_WORDS = ["OCEAN", "HARBOR", "BAY", "NORTH", "PACIFIC", "ATLANTIC", "BLUE", "COAST",
                  "ANCHOR", "TIDE", "GULF", "CAPE", "ISLAND", "SOUND", "REEF", "DELTA"]  # fmt: skip
IMPORTER_TAILS = ["FOODS LLC", "SEAFOOD INC", "IMPORTS INC", "TRADING CORP", "FISHERIES LLC"]
US_PLACES = ["SEATTLE, WA", "BOSTON, MA", "LOS ANGELES, CA", "NEW YORK, NY", "MIAMI, FL"]


@dataclass
class TradeSetup:
    """How the trade records were made and how long each step took."""

    shipments: int
    traded_plants: int
    ingest_seconds: float
    resolve_seconds: float
    graph_seconds: float
    # After resolution: traded plants whose lookup shows shipments, and the bills it shows
    # for them (of ``shipments``), looking each traded plant up once.
    plants_found: int = 0
    bills_found: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dict(self.__dict__)


@dataclass
class LookupBench:
    """Results of one run.

    ``by_kind`` holds the lookups without trade (the registry alone); with trade records,
    ``with_trade`` holds the same queries timed with the graph's trade section, and
    ``ratios`` with-trade over without for p50 and p99.
    """

    facilities: int
    queries: int
    ingest_seconds: float
    by_kind: dict[str, dict[str, float]]
    with_trade: dict[str, dict[str, float]] = field(default_factory=dict)
    ratios: dict[str, dict[str, float]] = field(default_factory=dict)
    trade: TradeSetup | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        out = dict(self.__dict__)
        out["trade"] = self.trade.to_dict() if self.trade is not None else None
        return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _queries(
    codes: list[str], count: int, rng: random.Random, traded: list[str] | None = None
) -> list[tuple[str, str]]:
    taken = set(codes)
    out: list[tuple[str, str]] = []
    while len(out) < count:
        roll = rng.random()
        code = rng.choice(codes)
        a, b = code.split("/")
        if traded and roll < 0.2:
            pick = rng.choice(traded)
            pa, pb = pick.split("/")
            out.append(("traded", rng.choice(FORMS).format(c=pick, a=pa, b=pb)))
        elif roll < 0.7:
            out.append(("listed", rng.choice(FORMS).format(c=code, a=a, b=b)))
        elif roll < 0.9:
            unknown = f"{a}/{rng.randint(1, 99999):05d}"
            if unknown not in taken:
                out.append(("unknown", unknown))
        else:
            out.append(("lookalike", code.replace("0", "O")))
    return out


def _manifest_name(plant: SyntheticPlant, rng: random.Random) -> str:
    """The plant's English name as bills print it: upper case, often without punctuation."""
    name = plant.name_en.upper()
    if rng.random() < 0.4:
        name = name.replace(",", "").replace(".", "")
    return name


def write_bills(
    path: Path, plants: list[SyntheticPlant], bills: int, traded: int, seed: int
) -> list[str]:
    """Write ``bills`` synthetic bills shipped by ``traded`` registry plants (generic layout).

    Shippers are skewed (a few big plants, many small ones), as in real manifests.

    Returns:
        The codes of the plants that ship.
    """
    rng = random.Random(seed + 1)
    shippers = rng.sample(plants, min(traded, len(plants)))
    importers = [
        (f"{rng.choice(IMPORTER_WORDS)} {rng.choice(IMPORTER_WORDS)} {i} "
         f"{rng.choice(IMPORTER_TAILS)}", rng.choice(US_PLACES))
        for i in range(max(50, traded // 4))
    ]  # fmt: skip
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(BILL_HEADER)
        for i in range(bills):
            j = int(len(shippers) * rng.random() ** 1.6)
            plant = shippers[j]
            # Each plant sells to a handful of importers.
            importer, place = importers[(j * 7 + rng.randrange(6)) % len(importers)]
            hs, description = rng.choice(HS)
            writer.writerow(
                [
                    f"TTBENCH{i:09d}",
                    f"{rng.randint(2019, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    _manifest_name(plant, rng),
                    f"{plant.city.upper()}, {plant.province.upper()}",
                    "CN",
                    importer,
                    place,
                    "US",
                    hs,
                    description,
                    str(rng.randint(4, 26) * 1000),
                    "KG",
                ]
            )
    return [p.code for p in shippers]


def _add_trade(
    ws: Workspace, root: Path, plants: list[SyntheticPlant], shipments: int, traded: int, seed: int
) -> tuple[TradeSetup, list[str]]:
    from tidetrace.graph.build import build_graph
    from tidetrace.resolve.run import resolve_workspace
    from tidetrace.shipments.ingest import IngestOptions, ingest_shipments

    bills_path = root / "synthetic-bills.csv"
    codes = write_bills(bills_path, plants, shipments, traded, seed)
    t0 = time.perf_counter()
    report = ingest_shipments(
        ws, [bills_path], IngestOptions(dataset="bench_bills", layout="generic", actor="bench")
    )
    if report.failed:
        raise RuntimeError(
            "the synthetic bills were rejected: " + "; ".join(report.summary_lines())
        )
    t1 = time.perf_counter()
    resolve_workspace(ws, actor="bench")
    t2 = time.perf_counter()
    build_graph(ws, actor="bench")
    t3 = time.perf_counter()
    setup = TradeSetup(
        shipments, len(codes), round(t1 - t0, 2), round(t2 - t1, 2), round(t3 - t2, 2)
    )
    return setup, codes


def _coverage(ws: Workspace, setup: TradeSetup, codes: list[str]) -> None:
    """How much of the trade the lookup attributes to the plants that shipped it."""
    graph = GraphTrade(ws)
    for code in codes:
        found = lookup_code(ws.engine, code, trade=graph).trade.shipments
        setup.plants_found += int(found > 0)
        setup.bills_found += found


def _stats(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        kind: {
            "n": float(len(values)),
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(_percentile(values, 99), 2),
            "max_ms": round(max(values), 2),
        }
        for kind, values in times.items()
    }


def _timed(ws: Workspace, text: str, trade: TradeSource | None) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = lookup_code(ws.engine, text, trade=trade)
    return (time.perf_counter() - t0) * 1000, result


def run(
    facilities: int,
    queries: int,
    seed: int,
    home: Path | None = None,
    shipments: int = 0,
    traded: int = 2_000,
) -> LookupBench:
    """Build the registry (and trade records) and time ``queries`` lookups.

    Args:
        facilities: registry size.
        queries: how many lookups to time (each twice when there are trade records).
        seed: seed for the registry, the bills and the query mix.
        home: workspace directory (default: a temporary one, removed afterwards).
        shipments: synthetic bills of lading to ingest (0: the registry alone).
        traded: how many registry plants ship them.
    """
    with tempfile.TemporaryDirectory(prefix="tt-bench-") as tmp:
        root = home or Path(tmp)
        ws = Workspace.init(root / "ws")
        plants = generate(facilities, seed)
        csv_path = root / "synthetic-registry.csv"
        with open(csv_path, "w", encoding="utf-8", newline="") as fh:
            write_csv(plants, fh, seed)
        started = time.perf_counter()
        ingest_registry(ws, csv_path, "generic", actor="bench")
        ingest_seconds = time.perf_counter() - started
        setup: TradeSetup | None = None
        traded_codes: list[str] = []
        if shipments > 0:
            setup, traded_codes = _add_trade(ws, root, plants, shipments, traded, seed)
        rng = random.Random(seed)
        mix = _queries([p.code for p in plants], queries, rng, traded_codes)
        graph = GraphTrade(ws) if setup is not None else None
        # Warm caches, the connection pool and (with trade) the graph opened once per process.
        lookup_code(ws.engine, mix[0][1])
        if graph is not None:
            lookup_code(ws.engine, mix[0][1], trade=graph)
        plain: dict[str, list[float]] = {}
        with_trade: dict[str, list[float]] = {}
        for i, (kind, text) in enumerate(mix):
            modes: list[TradeSource | None] = [None] if graph is None else [None, graph]
            if i % 2:
                modes.reverse()
            for mode in modes:
                elapsed, result = _timed(ws, text, mode)
                if kind in ("listed", "traded"):
                    assert result.facility is not None, text
                bucket = plain if mode is None else with_trade
                bucket.setdefault(kind, []).append(elapsed)
                bucket.setdefault("all", []).append(elapsed)
        if setup is not None:
            _coverage(ws, setup, traded_codes)
        ws.close()
    by_kind = _stats(plain)
    traded_stats = _stats(with_trade)
    ratios = {
        kind: {
            "p50": round(row["p50_ms"] / max(by_kind[kind]["p50_ms"], 0.01), 2),
            "p99": round(row["p99_ms"] / max(by_kind[kind]["p99_ms"], 0.01), 2),
        }
        for kind, row in traded_stats.items()
    }
    return LookupBench(
        facilities, queries, round(ingest_seconds, 2), by_kind, traded_stats, ratios, setup
    )
