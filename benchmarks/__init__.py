"""Benchmarks: `make bench` runs them all; `python -m benchmarks.<name>` runs one.

Each prints its figures and writes them to ``benchmarks/results/<name>.json``.
"""
