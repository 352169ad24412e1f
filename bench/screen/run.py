"""``/match`` throughput: requests per second on one core, with a realistic index.

Issue 7's goal: at least 150 requests/s on one core (yente reports about 4–15/s per vCPU),
measured with a loopback load generator, with zero errors.

The index: the whole OFAC SDN list with aliases, the whole UN consolidated list, the
investigation case, a synthetic registry of ``--facilities`` plants (English and Chinese
names, approval codes) and the trade parties of a synthetic graph. The server is the real
app (``create_app``) under uvicorn, one worker, pinned to one CPU; the load generator runs
in this process on the other CPUs, ``--clients`` keep-alive connections, a fixed number of
requests (bounded), every answer checked.

Queries, one example per request as a yente client sends them: listed names as written,
the same names re-typed (case, punctuation, legal form), Chinese registry names, their
English forms, and supplier names that match nothing.

Baseline, same run, same server and load generator: ``GET /healthz`` (the app's own
ceiling: routing, middleware and a database ping, no matching).
"""

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tidetrace import loaders
from tidetrace.auth.users import add_user
from tidetrace.screen.apikeys import issue_key
from tidetrace.screen.index import build_index
from tidetrace.settings import get_settings
from tidetrace.workspace import Workspace

GOAL_RPS = 150.0
SERVER = """
import os, sys
import uvicorn
from tidetrace.web.app import create_app
from tidetrace.workspace import Workspace
cpu = int(sys.argv[3])
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {cpu})
app = create_app(Workspace.open(sys.argv[1]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False, workers=1)
"""
NOISE = [
    lambda s: s.upper(),
    lambda s: s.lower(),
    lambda s: s.replace(",", "").replace(".", ""),
    lambda s: s.replace("COMPANY LIMITED", "CO LTD").replace("Co., Ltd.", "CO.,LTD"),
    lambda s: s[:35],
]
JUNK = [
    "Northern Star Packaging GmbH",
    "Blue Harbour Logistics LLC",
    "Maple Leaf Frozen Foods Inc",
    "Sunrise Textiles Pvt Ltd",
    "Gulf Coast Shrimp Co",
    "Pacific Rim Trading Corp",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _prepare(home: Path, facilities: int, party_rows: int) -> tuple[Workspace, str, list[str]]:
    """The workspace, an API key, and the names queries are made of."""
    settings = get_settings()
    data = settings.shared_data
    if data is None:
        raise SystemExit("no shared data directory (TIDETRACE_SHARED_DATA)")
    ws = Workspace.init(home)
    sanctions = data / "sanctions"
    loaders.load_ofac_sdn(
        ws,
        sanctions / "ofac_sdn_2024-05-03.csv",
        alt=sanctions / "ofac_alt_2025-12.csv",
        add=sanctions / "ofac_add_2025-12.csv",
    )
    loaders.load_un_sc(ws, sanctions / "un_sc_consolidated_2026-02-27.xml")
    loaders.load_case(ws, data / "investigation")
    names: list[str] = []
    if facilities:
        from tidetrace.registry.ingest import ingest_registry
        from tidetrace.registry.synth import generate, write_csv

        plants = generate(facilities, seed=7)
        path = home / "registry.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            write_csv(plants, fh, seed=7)
        ingest_registry(ws, path, "generic")
        names += [p.name_zh for p in plants[:400]] + [p.name_en for p in plants[:400]]
    if party_rows:
        from bench.graph.synth import World, write_shipments
        from tidetrace.graph.build import build_graph

        write_shipments(ws.parquet_dir, World(party_rows))
        build_graph(ws)
    add_user(ws.engine, "bench", "analyst", "bench-password-not-secret")
    key, _ = issue_key(ws.engine, "bench", "benchmark")
    return ws, key, names


def _queries(ws: Workspace, extra: list[str], count: int, seed: int) -> list[dict[str, Any]]:
    index = build_index(ws)
    rng = random.Random(seed)
    listed = [e.caption for e in rng.sample(index.entries, min(2000, len(index.entries)))]
    out: list[dict[str, Any]] = []
    for i in range(count):
        roll = i % 10
        if roll < 4:
            name = rng.choice(listed)
        elif roll < 7:
            name = rng.choice(NOISE)(rng.choice(listed))
        elif roll < 9 and extra:
            name = rng.choice(extra)
        else:
            name = rng.choice(JUNK)
        out.append({"queries": {"q": {"schema": "Company", "properties": {"name": [name]}}}})
    print(f"index: {len(index.entries):,} entities ({', '.join(sorted(index.datasets))})")
    return out


def _load(
    url: str,
    bodies: list[dict[str, Any]] | None,
    headers: dict[str, str],
    clients: int,
) -> tuple[float, list[float], int, int]:
    """Send the requests over ``clients`` connections; (seconds, latencies, ok, errors)."""
    total = len(bodies) if bodies is not None else 3000
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0, "next": 0}

    def worker() -> None:
        with httpx.Client(headers=headers, timeout=30.0) as client:
            while True:
                with lock:
                    i = counts["next"]
                    if i >= total:
                        return
                    counts["next"] = i + 1
                started = time.perf_counter()
                try:
                    if bodies is None:
                        response = client.get(url)
                        good = response.status_code == 200
                    else:
                        response = client.post(url, json=bodies[i])
                        good = response.status_code == 200 and "q" in response.json()["responses"]
                except httpx.HTTPError:
                    good = False
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    counts["ok" if good else "errors"] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, counts["ok"], counts["errors"]


def _report(label: str, seconds: float, latencies: list[float], ok: int, errors: int) -> float:
    rps = ok / seconds if seconds else 0.0
    ms = sorted(1000 * x for x in latencies)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{label}: {rps:,.0f} requests/s ({ok} ok, {errors} errors in {seconds:.1f} s), "
        f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        flush=True,
    )
    return rps


def main(argv: list[str]) -> int:
    """Run the benchmark; 1 if the goal is missed or any request failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.screen")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--facilities", type=int, default=20_000)
    parser.add_argument("--party-rows", type=int, default=1_000_000)
    parser.add_argument("--cpu", type=int, default=0, help="CPU the server is pinned to")
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="tt-bench-screen-")
    home = args.home or Path(tmp.name) / "ws"
    started = time.perf_counter()
    ws, key, names = _prepare(home, args.facilities, args.party_rows)
    bodies = _queries(ws, names, args.requests, seed=3)
    ws.close()
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
    port = _free_port()
    env = dict(os.environ)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(home), str(port), str(args.cpu)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"ApiKey {key}"}
    try:
        deadline = time.monotonic() + 900
        warm = {"queries": {"q": {"schema": "Company", "properties": {"name": ["warm up"]}}}}
        while True:
            try:
                # The first /match builds the screening index in the server.
                first = httpx.post(
                    f"{base}/api/match/default", json=warm, headers=headers, timeout=900
                )
                if first.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not come up")
            time.sleep(0.5)
        # Both runs once briefly to warm caches, then measured.
        _load(f"{base}/api/match/default", bodies[:200], headers, args.clients)
        base_s, base_lat, base_ok, base_err = _load(f"{base}/healthz", None, {}, args.clients)
        match_s, match_lat, match_ok, match_err = _load(
            f"{base}/api/match/default", bodies, headers, args.clients
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"server pinned to CPU {args.cpu}; {args.clients} client connections; "
        "load generator in this process"
    )
    base_rps = _report("baseline GET /healthz", base_s, base_lat, base_ok, base_err)
    rps = _report("POST /api/match/default", match_s, match_lat, match_ok, match_err)
    print(
        f"/match is {rps / base_rps:.2f}× the app's no-op ceiling; goal ≥ {GOAL_RPS:.0f}/s "
        f"(yente reports ≈ 4–15/s per vCPU)",
        flush=True,
    )
    tmp.cleanup()
    ok = rps >= GOAL_RPS and match_err == 0 and base_err == 0
    print("goal met" if ok else "goal missed", flush=True)
    summary = {"match_rps": round(rps, 1), "healthz_rps": round(base_rps, 1), "errors": match_err}
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
