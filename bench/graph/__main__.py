"""``python -m bench.graph [--rows N]``: run the graph benchmark (see ``run.py``)."""

import sys

from bench.graph.run import main

raise SystemExit(main(sys.argv[1:]))
