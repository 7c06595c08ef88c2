"""Benchmarks: ``python -m bench.knowledge``."""
