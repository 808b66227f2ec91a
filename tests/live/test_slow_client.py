"""A client that stops reading is dropped (4008) without holding up the others, and resumes
from its last sequence number with every event exactly once; a restarting server tells its
clients to reconnect (1012)."""

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.live import hub as hub_module
from tests.live.helpers import (
    WAIT,
    LiveServer,
    Room,
    apply_all,
    cookie_header,
    fresh_snapshot,
    recv,
    recv_event,
    recv_until,
    serve,
)

MAX_ACTIONS = 200  # the slow client is far behind long before this (about 50 here)


@pytest.fixture
async def small_buffers(app: FastAPI) -> AsyncIterator[LiveServer]:
    """The app served with small kernel send buffers, so a client that stops reading is
    behind after a few kilobytes rather than megabytes."""
    async with serve(app, send_buffer=4096) as server:
        yield server


def stalling_socket(port: int) -> socket.socket:
    """A connected socket with a small receive buffer (so not reading soon shows)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


async def present(room: Room, *seats: dict[str, Any]) -> None:
    for seat in seats:
        marked = await room.facilitator.put(
            room.url(f"/seats/{seat['id']}/attendance"), json={"attendance": "present"}
        )
        assert marked.status_code == 200, marked.text


async def test_a_client_that_stops_reading_is_dropped_and_resumes_exactly_once(
    app: FastAPI, room: Room, small_buffers: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = small_buffers
    await present(room, room.observer_seat, room.facilitator_seat)
    monkeypatch.setattr(hub_module, "CLIENT_QUEUE", 3)
    async with server.connect(room.cid, room.observer) as steady:
        start = await recv(steady)
        assert start["type"] == "snapshot"
        seq = start["seq"]
        slow = await connect(
            server.ws_url(room.cid),
            sock=stalling_socket(server.port),
            additional_headers={"Cookie": cookie_header(room.facilitator)},
            open_timeout=WAIT,
            close_timeout=1,
            ping_interval=None,
            max_queue=1,  # the client library stops reading once a message is waiting
            compression=None,  # frames as large as the events: the buffers fill sooner
        )
        try:
            begun = await recv(slow)
            assert begun["type"] == "snapshot" and begun["seq"] == seq
            server.shrink_send_buffers()
            channel = app.state.hub.channels[room.cid]
            # The slow client reads nothing more while the room keeps changing.
            hand = room.participants[0]
            actions = 0
            while any(c.seat_id == room.facilitator_seat["id"] for c in channel.clients):
                assert actions < MAX_ACTIONS, "the client that stopped reading was kept"
                if actions % 2 == 0:
                    answer = await hand.post(room.url("/floor/hand"), json={})
                else:
                    answer = await hand.delete(room.url("/floor/hand"))
                assert answer.status_code in (200, 201), answer.text
                actions += 1
                # The others are not held up: each change reaches them as it happens.
                event = await recv_event(steady)
                assert event["seq"] == seq + actions
            # Reading again, it gets what its socket held, in order, then the close: 4008.
            received: list[dict[str, Any]] = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    message = await recv(slow)
                    if message["type"] == "event":
                        received.append(message)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
        finally:
            await slow.close()
        assert received, "the slow client got nothing before it was dropped"
        state = apply_all(begun["state"], received, seq)  # contiguous, no duplicate
        last = received[-1]["seq"]
        assert last < seq + actions
        final_seq, final = await fresh_snapshot(app, room.cid)
        assert final_seq == seq + actions
    # It resumes from the last event it applied and gets the rest exactly once.
    async with server.connect(room.cid, room.facilitator, since=last) as again:
        resume = await recv(again)
        assert resume["type"] == "resume" and resume["seq"] == last
        events = await recv_until(again, final_seq)
        assert [e["seq"] for e in events] == list(range(last + 1, final_seq + 1))
        assert apply_all(state, events, last) == final
        with pytest.raises(TimeoutError):  # and nothing twice
            await recv_event(again, within=0.3)


async def test_a_burst_reaches_every_reader_in_order(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    """Events arriving faster than they are read are sent in order, none twice, none lost."""
    await present(room, room.observer_seat, room.facilitator_seat)
    async with (
        live_server.connect(room.cid, room.observer) as first,
        live_server.connect(room.cid, room.facilitator) as second,
    ):
        starts = [await recv(first), await recv(second)]
        seq = starts[0]["seq"]
        assert starts[1]["seq"] == seq
        hand = room.participants[1]
        for n in range(30):
            answer = await (
                hand.post(room.url("/floor/hand"), json={})
                if n % 2 == 0
                else hand.delete(room.url("/floor/hand"))
            )
            assert answer.status_code in (200, 201), answer.text
        final_seq, final = await fresh_snapshot(app, room.cid)
        assert final_seq == seq + 30
        for ws, begun in zip((first, second), starts, strict=True):
            events = await recv_until(ws, final_seq)
            assert apply_all(begun["state"], events, seq) == final


async def test_a_restarting_server_tells_clients_to_reconnect(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    async with live_server.connect(room.cid, room.observer) as ws:
        assert (await recv(ws))["type"] == "snapshot"
        await app.state.hub.stop()
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(WAIT):
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
