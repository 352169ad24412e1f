"""Benchmarks of the supply graph: build, and downstream traces warm and cold (not tests)."""
