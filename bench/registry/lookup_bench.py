"""Lookup latency on a synthetic registry (issue 4: p50/p99 on 20,000 facilities).

Builds a workspace, ingests a synthetic registry of N plants through the same code as
``tidetrace ingest registry``, then times :func:`lookup_code` over a mix of queries as
people type them: listed codes in every printed form, unknown well-formed codes (which
also compute "did you mean"), and OCR look-alikes.
"""

import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidetrace.registry.ingest import ingest_registry
from tidetrace.registry.lookup import lookup_code
from tidetrace.registry.synth import generate, write_csv
from tidetrace.workspace import Workspace

FORMS = ["{c}", "CN {c} EC", "CN-{c}", "CHINA {c}", "{a} / {b}"]


@dataclass
class LookupBench:
    """Results of one run."""

    facilities: int
    queries: int
    ingest_seconds: float
    by_kind: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dict(self.__dict__)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _queries(codes: list[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    taken = set(codes)
    out: list[tuple[str, str]] = []
    while len(out) < count:
        roll = rng.random()
        code = rng.choice(codes)
        a, b = code.split("/")
        if roll < 0.7:
            out.append(("listed", rng.choice(FORMS).format(c=code, a=a, b=b)))
        elif roll < 0.9:
            unknown = f"{a}/{rng.randint(1, 99999):05d}"
            if unknown not in taken:
                out.append(("unknown", unknown))
        else:
            out.append(("lookalike", code.replace("0", "O")))
    return out


def run(facilities: int, queries: int, seed: int, home: Path | None = None) -> LookupBench:
    """Build the registry and time ``queries`` lookups.

    Args:
        facilities: registry size.
        queries: how many lookups to time.
        seed: seed for the registry and the query mix.
        home: workspace directory (default: a temporary one, removed afterwards).
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
        rng = random.Random(seed)
        mix = _queries([p.code for p in plants], queries, rng)
        lookup_code(ws.engine, mix[0][1])  # warm caches and the connection pool
        times: dict[str, list[float]] = {}
        for kind, text in mix:
            t0 = time.perf_counter()
            result = lookup_code(ws.engine, text)
            elapsed = (time.perf_counter() - t0) * 1000
            if kind == "listed":
                assert result.facility is not None, text
            times.setdefault(kind, []).append(elapsed)
            times.setdefault("all", []).append(elapsed)
        ws.close()
    by_kind = {
        kind: {
            "n": float(len(values)),
            "p50_ms": round(statistics.median(values), 2),
            "p99_ms": round(_percentile(values, 99), 2),
            "max_ms": round(max(values), 2),
        }
        for kind, values in times.items()
    }
    return LookupBench(facilities, queries, round(ingest_seconds, 2), by_kind)
