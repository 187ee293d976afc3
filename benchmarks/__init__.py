"""Benchmarks: run with ./scripts/bench NAME."""
