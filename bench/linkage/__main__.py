"""``python -m bench.linkage``: run the linkage benchmark (see ``run.py``)."""

from bench.linkage.run import main

raise SystemExit(main())
