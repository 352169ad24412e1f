"""``python -m bench.registry``: run the registry benchmarks (see ``run.py``)."""

from bench.registry.run import main

raise SystemExit(main())
