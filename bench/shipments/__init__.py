"""Benchmarks of the shipments ingest (``python -m bench.shipments.run``)."""
