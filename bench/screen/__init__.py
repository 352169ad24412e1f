"""Benchmark of supplier screening: yente-compatible ``/match`` requests per second."""
