"""Run every benchmark suite in turn (``make bench``); each prints ratios to its baseline.

Usage: ``python -m bench.run [SUITE ...]`` — with no names, all suites in data-flow order.
Suites are ``bench/<name>/run.py`` modules with a ``main(argv) -> int``.
"""

import importlib
import sys
import time

SUITES = ("registry", "shipments", "linkage", "graph", "screen")


def main(argv: list[str] | None = None) -> int:
    """Run the named suites (default: all present); returns non-zero if any failed."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(SUITES)
    failed: list[str] = []
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}.run")
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name.startswith(f"bench.{name}"):
                print(f"== {name}: no benchmark suite yet", flush=True)
                continue
            raise
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        code = int(module.main([]))
        print(f"== {name}: exit {code} in {time.perf_counter() - started:.1f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
