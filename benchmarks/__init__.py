"""Benchmarks: run as scripts or `python -m benchmarks.run`; they read ../shared/datasets."""
