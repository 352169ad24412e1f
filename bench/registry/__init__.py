"""Benchmarks of the establishment registry: lookup latency and stamp OCR (not tests)."""
