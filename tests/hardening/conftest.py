"""Fixtures for the hardening tests: a PostgreSQL database of the test's own, and the
subprocesses the test starts, always ended afterwards (before the database is dropped)."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bench.procs import Processes
from tests.hardening.helpers import fresh_database


@pytest.fixture
def database() -> Iterator[str]:
    """An empty PostgreSQL database for this test alone (dropped afterwards); its URL."""
    with fresh_database() as url:
        yield url


@pytest.fixture
async def processes(tmp_path: Path, database: str) -> AsyncIterator[Processes]:
    """The app and Redis processes this test starts (each its own process group, its output
    in tmp_path); whatever is still running at the end is stopped, by its id."""
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        await started.stop_all()
