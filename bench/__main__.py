"""`python -m bench` (`make bench`): every benchmark case, see bench/harness.py."""

from bench.harness import main

main()
