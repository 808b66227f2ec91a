"""A seat's live connection follows its binding, and connecting before the opening counts."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed

from tests.conftest import CONVENING, SeatBrowser
from tests.live.helpers import WAIT, LiveServer, Room, recv


async def test_revoking_a_link_closes_the_seats_open_room(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    seat = room.seats[0]
    async with live_server.connect(room.cid, room.participants[0]) as ws:
        assert (await recv(ws))["type"] == "snapshot"
        revoked = await room.convener.delete(room.url(f"/seats/{seat['id']}/invitation"))
        assert revoked.status_code == 200
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(WAIT):
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    # And it cannot come back.
    assert (
        await room.participants[0].get(room.url("/events"), params={"wait": 0})
    ).status_code == 404


async def test_seats_connected_before_the_opening_are_marked_present(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, live_server: LiveServer
) -> None:
    cid = (await convener.post("/api/convenings", json=CONVENING)).json()["id"]
    early, seat = await seated(cid, "participant")
    await convener.post(f"/api/convenings/{cid}/schedule")
    async with live_server.connect(cid, early) as ws:
        assert (await recv(ws))["type"] == "snapshot"
        seats = (await convener.get(f"/api/convenings/{cid}/seats")).json()
        assert seats[0]["attendance"] == "confirmed"
        assert seat["id"] in app.state.hub.presence_of(cid)  # announced when it attached
        assert (await convener.post(f"/api/convenings/{cid}/open")).status_code == 200
        seats = (await convener.get(f"/api/convenings/{cid}/seats")).json()
        assert seats[0]["attendance"] == "present"
