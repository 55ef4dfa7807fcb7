"""Benchmarks behind `make bench` (figures, not tests: pytest never collects this folder)."""
