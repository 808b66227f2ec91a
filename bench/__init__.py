"""Benchmarks, described with their figures in BENCHMARKS.md.

`python -m bench` (`make bench`) runs the live room's fan-out benchmark (bench/harness.py).
"""
