"""``python -m bench.shipments`` runs the shipments benchmark."""

import sys

from bench.shipments.run import main

sys.exit(main())
