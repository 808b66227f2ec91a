"""Fixtures for the live-room tests: a live room and the app served over real sockets."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import SeatBrowser
from tests.live.helpers import LiveServer, Room, make_room, serve


@pytest.fixture
async def room(convener: httpx.AsyncClient, seated: SeatBrowser) -> Room:
    """A live convening, first item open: a facilitator, three participants, an observer."""
    return await make_room(convener, seated)


@pytest.fixture
async def live_server(app: FastAPI) -> AsyncIterator[LiveServer]:
    """The test's app served by uvicorn on a free port."""
    async with serve(app) as server:
        yield server
