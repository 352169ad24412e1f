"""``python -m bench.screen``: run the /match benchmark (see ``run.py``)."""

import sys

from bench.screen.run import main

raise SystemExit(main(sys.argv[1:]))
