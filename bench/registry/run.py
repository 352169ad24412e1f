"""Run the registry benchmarks and print (and optionally save) their numbers.

``python -m bench.registry`` runs both at the sizes issue 4 asks for (20,000 facilities,
200 stamps); ``--small`` runs them at a size that finishes in about a minute. The lookup
is timed without and with trade records (50,000 synthetic bills from 2,000 registry plants,
ingested, resolved and built into the graph; ``--shipments 0`` skips them), each query both
ways in the same run. Numbers and how they were measured: ``bench/registry/results.md``.
"""

import argparse
import json
import sys
from pathlib import Path

from bench.registry import lookup_bench, ocr_bench


def _print_lookup(lookup: lookup_bench.LookupBench) -> None:
    print(f"lookup: {lookup.facilities} facilities, ingest {lookup.ingest_seconds} s")
    trade = lookup.trade
    if trade is not None:
        print(
            f"  trade: {trade.shipments} bills from {trade.traded_plants} registry plants; "
            f"ingest {trade.ingest_seconds} s, resolve {trade.resolve_seconds} s, "
            f"graph {trade.graph_seconds} s; the lookup shows shipments for "
            f"{trade.plants_found}/{trade.traded_plants} of those plants, "
            f"{trade.bills_found}/{trade.shipments} bills"
        )
        print("  without trade | with trade (same queries, same run) | ratio with/without")
    order = ["all", "listed", "traded", "unknown", "lookalike"]
    for kind, row in sorted(lookup.by_kind.items(), key=lambda kv: order.index(kv[0])):
        line = (
            f"  {kind:10s} n={int(row['n']):5d}  p50 {row['p50_ms']:7.2f} ms  "
            f"p99 {row['p99_ms']:7.2f} ms  max {row['max_ms']:7.2f} ms"
        )
        other = lookup.with_trade.get(kind)
        if other is not None:
            ratio = lookup.ratios[kind]
            line += (
                f"  | p50 {other['p50_ms']:7.2f} ms  p99 {other['p99_ms']:7.2f} ms"
                f"  | x{ratio['p50']:.2f} p50, x{ratio['p99']:.2f} p99"
            )
        print(line)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.registry", description=__doc__)
    parser.add_argument("--facilities", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument(
        "--shipments",
        type=int,
        default=50_000,
        help="synthetic bills shipped by registry plants, for the lookup with trade (0: none)",
    )
    parser.add_argument("--traded", type=int, default=2_000, help="registry plants that ship")
    parser.add_argument("--stamps", type=int, default=200)
    parser.add_argument("--ocr-registry", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--only", choices=["lookup", "ocr"], default=None)
    parser.add_argument("--small", action="store_true", help="2,000 facilities, 40 stamps")
    parser.add_argument("--out", type=Path, default=None, help="write results as JSON here")
    args = parser.parse_args(argv)
    if args.small:
        args.facilities, args.queries, args.stamps = 2_000, 500, 40
        args.shipments, args.traded = 5_000, 200
    results: dict[str, object] = {}
    if args.only in (None, "lookup"):
        lookup = lookup_bench.run(
            args.facilities, args.queries, args.seed, shipments=args.shipments,
            traded=args.traded,
        )  # fmt: skip
        results["lookup"] = lookup.to_dict()
        _print_lookup(lookup)
    if args.only in (None, "ocr"):
        ocr = ocr_bench.run(args.stamps, args.ocr_registry, args.seed, args.workers)
        results["ocr"] = ocr.to_dict()
        print(
            f"ocr: {ocr.stamps} stamps against {ocr.registry} codes: recall {ocr.recall:.1%}, "
            f"false codes {ocr.false_codes}, other listed candidates {ocr.wrong_candidates}, "
            f"no read {ocr.no_read}; {ocr.seconds_p50} s p50, {ocr.seconds_p95} s p95 per photo"
        )
        for kind, row in ocr.by_kind.items():
            print(f"  {kind:5s} n={int(row['n']):4d}  recall {row['recall']:.1%}")
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    sys.stdout.flush()
    return 0
