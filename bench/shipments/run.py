"""Benchmark of the shipments ingest: ``python -m bench.shipments.run --rows N``.

On ``N`` synthetic bills (all built-in layouts, AMS tables included) it measures, in one
run on the same files:

* DuckDB's own ``read_csv`` of every file into a table (all columns as text): the baseline;
* ceilings: DuckDB alone reading the same files and writing Parquet with nothing but the
  least any ingest keeping "the raw value beside the clean one" must write (see
  :func:`ceilings`): no ingest of that output can beat these ratios on this machine;
* ``tidetrace ingest shipments`` (DuckDB engine) in a subprocess: throughput as a ratio to
  the baseline (the issue's goal is >= 0.5), and peak RSS (goal < 2 GB);
* the same ingest on the Spark engine (local mode): throughput;
* query latency of a shipper + HS prefix + date window filter on the ingested rows.

Results print as a table and are written to ``bench/out/shipments-<rows>.json``. Nothing
here asserts a time: numbers depend on the machine.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
CLI = [sys.executable, "-c", "from tidetrace.cli import main; main()"]


def _tree_rss_kib(root: int) -> int:
    """Resident memory of a process and all its descendants now (Linux /proc), in KiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), None)
        rss[pid] = int(line.split()[1]) if line else 0
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(rss.get(pid, 0) for pid in tree)


def _run_measured(command: list[str], env: dict[str, str], log: Path) -> tuple[int, float, float]:
    """Run a command; its exit code, wall seconds and peak RSS of its whole process tree (MiB).

    The tree is sampled every 0.1 s (so the Spark JVM counts too); the kernel's own peak
    for the main process (``wait4``) is taken when it is larger.
    """
    with open(log, "w", encoding="utf-8") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss_kib(process.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - started
    return process.returncode, wall, peak / 1024


def _read_csv_seconds(files: list[Path]) -> float:
    con = duckdb.connect()
    started = time.perf_counter()
    for i, path in enumerate(files):
        con.execute(
            f"CREATE TABLE t{i} AS SELECT * FROM read_csv('{path}', all_varchar = true, "
            "header = true)"
        )
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def baseline(files: list[Path]) -> list[float]:
    """Seconds DuckDB takes to read every file into a table, all columns as text; twice.

    The first pass may find the files out of the page cache while the ingest after it
    finds them in: the ratio uses the faster pass, so both sides read warm files (the
    first pass took 28-58 s for the same 10 M rows on this machine).
    """
    return [_read_csv_seconds(files) for _ in range(2)]


# What each ceiling writes per column ``c`` of a file, besides nothing else: no row ids,
# no checks, no partitions, no lookups, all of it in DuckDB on every core.
CEILINGS = {
    "raw": "{c}",
    "raw + copy": "{c}, {c} || '' AS \"{n}_clean\"",
    "raw + upper(trim)": "{c}, nullif(upper(trim({c})), '') AS \"{n}_clean\"",
}


def _ceiling_seconds(files: list[Path], select: str, out: Path) -> float:
    from tidetrace.shipments.ingest import ZSTD_LEVEL

    con = duckdb.connect()
    started = time.perf_counter()
    for i, path in enumerate(files):
        source = f"read_csv('{path}', all_varchar = true, header = true)"
        names = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        columns = ", ".join(
            select.format(c='"' + n.replace('"', '""') + '"', n=n.replace('"', '""')) for n in names
        )
        con.execute(
            f"COPY (SELECT {columns} FROM {source}) TO '{out / f'{i}.parquet'}' "
            f"(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {ZSTD_LEVEL})"
        )
    seconds = time.perf_counter() - started
    con.close()
    shutil.rmtree(out)
    out.mkdir()
    return seconds


def ceilings(files: list[Path], work: Path) -> dict[str, float]:
    """Seconds DuckDB alone takes to read every file and write the least an ingest must write.

    ``raw``: each file's columns as read, to Parquet (zstd at the ingest's level).
    ``raw + copy``: each raw column and an unchanged copy of it, the least an output that
    keeps the raw value beside a clean one can write. ``raw + upper(trim)``: the same with
    the least cleaning there is. The ingest does all of this and much more (row ids,
    checks, sixty columns of real cleaning, partitions), so its ratio to the baseline can
    only be lower than these.
    """
    out = work / "ceiling-out"
    out.mkdir(parents=True, exist_ok=True)
    try:
        return {name: _ceiling_seconds(files, select, out) for name, select in CEILINGS.items()}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def ingest(files: list[Path], home: Path, engine: str) -> dict[str, Any]:
    """Run the ingest CLI in a subprocess; its wall time, its own timing, peak RSS."""
    env = {**os.environ, "TIDETRACE_HOME": str(home)}
    env.pop("TIDETRACE_DATABASE_URL", None)
    subprocess.run([*CLI, "init"], env=env, check=True, capture_output=True)
    command = [*CLI, "ingest", "shipments", *map(str, files), "--engine", engine]
    command += ["--dataset", "bench", "--max-reject-rate", "1"]
    log = home.parent / f"ingest-{engine}.log"
    code, wall, peak = _run_measured(command, env, log)
    output = log.read_text(encoding="utf-8")
    if code != 0:
        raise SystemExit(f"ingest ({engine}) failed:\n{output}")
    summary = output.strip().splitlines()
    total = next(line for line in summary if line.startswith("dataset bench:"))
    # "dataset bench: N rows stored, R rejected, S source(s), 12.3s (… rows/s, engine)"
    rows = int(total.split(": ", 1)[1].split(" rows stored")[0])
    seconds = float(total.split("source(s), ")[1].split("s ")[0])
    return {
        "engine": engine,
        "rows": rows,
        "seconds": seconds,
        "wall_seconds": wall,
        "rows_per_second": rows / seconds,
        "peak_rss_mb": peak,
        "summary": total,
    }


def query_latency(home: Path, runs: int = 5) -> dict[str, Any]:
    """Median seconds of a shipper + HS + date-window query, and the rows it returns."""
    from tidetrace.shipments.store import ShipmentQuery, ShipmentStore
    from tidetrace.workspace import Workspace

    ws = Workspace.open(home)
    store = ShipmentStore(ws)
    sample = store.query(ShipmentQuery(seafood=True, limit=1)).to_pylist()[0]
    word = (sample["shipper_name"] or "DALIAN").split()[0]
    q = ShipmentQuery(
        shipper=word, hs="0307", since=date(2021, 1, 1), until=date(2022, 12, 31), limit=0
    )
    times = []
    found = 0
    for _ in range(runs):
        started = time.perf_counter()
        found = store.query(q).num_rows
        times.append(time.perf_counter() - started)
    ws.close()
    return {
        "filter": f"shipper contains {word!r}, HS 0307*, arrived 2021-01-01..2022-12-31",
        "rows": found,
        "median_seconds": statistics.median(times),
        "min_seconds": min(times),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse options, run every measurement, print and save the results; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="synthetic bills")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rows-per-file", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=OUT / "shipments-work")
    parser.add_argument("--skip-spark", action="store_true", help="DuckDB engine only")
    parser.add_argument(
        "--spark-rows",
        type=int,
        default=1_000_000,
        help="run the Spark engine on its own synthetic input of this many bills (same seed) "
        "when there are more rows than that: Spark in local mode on 10 M rows takes hours "
        "on a small machine (default 1,000,000)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the files and workspaces")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the synthetic input a previous run left in the work directory (--keep, "
        "or a run that failed) instead of writing it again",
    )
    args = parser.parse_args(argv)

    from tidetrace.shipments.synth import write_synth

    work = args.workdir / str(args.rows)
    started = time.perf_counter()
    if args.reuse and (work / "input" / "SYNTHETIC.txt").exists():
        files = sorted((work / "input").glob("*.csv"))
        print(f"reusing {len(files)} synthetic files in {work / 'input'}", flush=True)
        for stale in work.glob("ws-*"):
            shutil.rmtree(stale)
        shutil.rmtree(work / "input-spark", ignore_errors=True)
    else:
        if work.exists():
            shutil.rmtree(work)
        print(f"writing {args.rows:,} synthetic bills to {work / 'input'} …", flush=True)
        files = write_synth(
            work / "input", args.rows, args.seed, rows_per_file=args.rows_per_file
        ).files
    input_bytes = sum(f.stat().st_size for f in files)
    results: dict[str, Any] = {
        "rows": args.rows,
        "files": len(files),
        "input_mb": input_bytes / 2**20,
        "synth_seconds": time.perf_counter() - started,
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        # Other work on the machine slows both sides of the ratio, not always equally.
        "load_average_before": os.getloadavg()[0],
    }
    print("DuckDB read_csv baseline …", flush=True)
    passes = baseline(files)
    results["baseline_passes_seconds"] = passes
    results["baseline_seconds"] = min(passes)
    print("ceilings: DuckDB alone, read_csv to Parquet …", flush=True)
    results["ceilings_seconds"] = ceilings(files, work)
    results["ceiling_ratios"] = {
        name: results["baseline_seconds"] / seconds
        for name, seconds in results["ceilings_seconds"].items()
    }
    print("ingest, DuckDB engine …", flush=True)
    duck = ingest(files, work / "ws-duckdb", "duckdb")
    results["duckdb"] = duck
    results["ratio_to_read_csv"] = results["baseline_seconds"] / duck["seconds"]
    results["load_average_after_ingest"] = os.getloadavg()[0]
    print("query latency …", flush=True)
    results["query"] = query_latency(work / "ws-duckdb")
    if not args.skip_spark:
        spark_files = files
        if args.spark_rows is not None and args.spark_rows < args.rows:
            print(f"writing {args.spark_rows:,} synthetic bills for Spark …", flush=True)
            small = write_synth(
                work / "input-spark", args.spark_rows, args.seed, rows_per_file=args.rows_per_file
            )
            spark_files = small.files
        print("ingest, Spark engine …", flush=True)
        results["spark"] = ingest(spark_files, work / "ws-spark", "spark")
    _print(results)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"shipments-{args.rows}.json"
    target.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nsaved {target}")
    if not args.keep:
        shutil.rmtree(work)
    return 0


def _print(r: dict[str, Any]) -> None:
    duck = r["duckdb"]
    base_rate = r["rows"] / r["baseline_seconds"]
    lines = [
        ("input", f"{r['rows']:,} bills, {r['files']} files, {r['input_mb']:,.0f} MiB"),
        (
            "DuckDB read_csv",
            f"{r['baseline_seconds']:.1f} s ({base_rate:,.0f} rows/s; passes "
            + ", ".join(f"{x:.1f} s" for x in r.get("baseline_passes_seconds", []))
            + ")",
        ),
        (
            "ingest (DuckDB)",
            f"{duck['seconds']:.1f} s ({duck['rows_per_second']:,.0f} rows/s; "
            f"{duck['wall_seconds']:.1f} s with interpreter start)",
        ),
        ("ratio to read_csv", f"{r['ratio_to_read_csv']:.2f}x (goal >= 0.5x)"),
        *(
            (
                f"ceiling: {name}",
                f"{r['ceilings_seconds'][name]:.1f} s, {ratio:.2f}x "
                "(DuckDB alone, read_csv to Parquet)",
            )
            for name, ratio in r.get("ceiling_ratios", {}).items()
        ),
        ("peak RSS (DuckDB)", f"{duck['peak_rss_mb']:,.0f} MiB (goal < 2048 MiB)"),
    ]
    q = r["query"]
    lines.append(
        (
            "query latency",
            f"{q['median_seconds'] * 1000:,.0f} ms median ({q['rows']} rows; {q['filter']})",
        )
    )
    if "spark" in r:
        spark = r["spark"]
        lines.append(
            (
                "ingest (Spark)",
                f"{spark['rows']:,} bills in {spark['seconds']:.1f} s "
                f"({spark['rows_per_second']:,.0f} rows/s); "
                f"peak RSS {spark['peak_rss_mb']:,.0f} MiB (Python + JVM)",
            )
        )
    print()
    for label, text in lines:
        print(f"{label:<28}{text}")


if __name__ == "__main__":
    sys.exit(main())
