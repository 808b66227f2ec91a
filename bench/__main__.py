"""`python -m bench` (`make bench`): the live-room fan-out benchmark, see bench/harness.py."""

from bench.harness import main

main()
