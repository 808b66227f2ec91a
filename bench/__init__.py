"""Benchmarks, described with their figures in BENCHMARKS.md.

`python -m bench` (`make bench`) runs the live room's fan-out benchmark (bench/harness.py):
the app against a bare `websockets` server, a slow-consumer case, two processes over Redis,
and the report-back benchmarks (bench/report_draft.py, bench/report_pdf.py) as cases.
"""
