"""The room's websocket served ahead of FastAPI's stack (`LiveRoom`) behaves as the routed
one: the same permission table, the same snapshot and events, the CSRF check still first;
and the sending primitive the hub relies on."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from starlette.middleware import Middleware
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from app.live.hub import run_now, text_frame
from app.live.routes import LiveRoom
from tests.conftest import SeatBrowser
from tests.live.helpers import (
    WAIT,
    LiveServer,
    Room,
    apply_all,
    cookie_header,
    fresh_snapshot,
    make_room,
    recv,
    recv_event,
    recv_until,
    serve,
)
from tests.live.test_websocket import refused


@pytest.fixture
async def live_room_server(app: FastAPI) -> AsyncIterator[LiveServer]:
    """The app with `LiveRoom` where BENCHMARKS.md proposes it: outside GZip, inside the
    other middleware (CSRF among them)."""
    index = next(i for i, m in enumerate(app.user_middleware) if m.cls is GZipMiddleware)
    app.user_middleware.insert(index, Middleware(LiveRoom))
    app.middleware_stack = None  # built again, with it, on the next call
    async with serve(app) as server:
        yield server


async def test_the_room_ahead_of_the_stack_pushes_and_refuses_as_the_table_says(
    app: FastAPI,
    room: Room,
    live_room_server: LiveServer,
    convener: httpx.AsyncClient,
    seated: SeatBrowser,
) -> None:
    server = live_room_server
    async with server.connect(room.cid, room.participants[0]) as ws:
        first = await recv(ws)
        assert first["type"] == "snapshot"
        assert first["you"] == {"actor": "participant", "seat_id": room.seats[0]["id"]}
        seq, state = await fresh_snapshot(app, room.cid)
        assert (first["seq"], first["state"]) == (seq, state)
        raised = await room.participants[1].post(room.url("/floor/hand"), json={})
        assert raised.status_code == 201
        event = await recv_event(ws)
        assert event["seq"] == seq + 1
        assert apply_all(state, [event], seq) == (await fresh_snapshot(app, room.cid))[1]
    # Strangers, and seats of another table, are refused as before.
    other = await make_room(convener, seated, participants=1, items=1)
    for browser in (None, other.participants[0]):
        await refused(server, room.cid, browser)
    await refused(server, 10**6, room.participants[0])
    # A handshake from another website is refused before the room is reached.
    with pytest.raises(InvalidStatus) as cross_site:
        async with connect(
            server.ws_url(room.cid),
            additional_headers={
                "Cookie": cookie_header(room.participants[0]),
                "Origin": "https://elsewhere.example",
            },
            open_timeout=WAIT,
        ):
            pass
    assert cross_site.value.response.status_code == 403


async def test_a_resume_with_a_malformed_since_starts_from_a_snapshot(
    room: Room, live_server: LiveServer
) -> None:
    url = live_server.ws_url(room.cid).replace("/live", "/live?since=yesterday")
    async with connect(
        url,
        additional_headers={"Cookie": cookie_header(room.observer)},
        open_timeout=WAIT,
        ping_interval=None,
    ) as ws:
        assert (await recv(ws))["type"] == "snapshot"


async def test_run_now_sends_at_once_or_finishes_later_in_order() -> None:
    """A send whose transport takes the frame completes within the call; one that has to
    wait for the transport (a paused socket) completes, in order, once it may."""
    writable = asyncio.Event()
    writable.set()
    sent: list[str] = []

    async def send(text: str) -> None:  # the shape of uvicorn's websocket send
        await writable.wait()
        sent.append(text)

    assert run_now(send("first")) is None
    assert sent == ["first"]
    writable.clear()
    rest = run_now(send("second"))
    assert rest is not None and sent == ["first"]
    finishing = asyncio.ensure_future(rest)
    await asyncio.sleep(0.01)
    assert not finishing.done() and sent == ["first"]
    writable.set()
    await asyncio.wait_for(finishing, WAIT)
    assert sent == ["first", "second"]
    # Cancelled while waiting, it unwinds the send it was finishing.
    writable.clear()
    rest = run_now(send("third"))
    assert rest is not None
    waiting = asyncio.ensure_future(rest)
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    writable.set()
    await asyncio.sleep(0.01)
    assert sent == ["first", "second"]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1000, 65535, 65536, 300_000])
def test_a_shared_frame_is_what_a_websocket_parser_reads(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    reader.feed_eof()
    parsing = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as parsed:
        next(parsing)
    frame = parsed.value.value
    assert frame.opcode == Opcode.TEXT and frame.fin and not frame.rsv1
    assert frame.data.decode() == text


async def test_uncompressed_sockets_get_the_shared_frames_in_order(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    """Without compression the channel writes each event's frame straight to the socket;
    the client reads the same events, in order, as through the ASGI send."""
    async with (
        connect(
            live_server.ws_url(room.cid),
            additional_headers={"Cookie": cookie_header(room.observer)},
            open_timeout=WAIT,
            ping_interval=None,
            compression=None,
        ) as plain,
        live_server.connect(room.cid, room.facilitator) as compressed,
    ):
        starts = [await recv(plain), await recv(compressed)]
        channel = app.state.hub.channels[room.cid]
        raw = {c.seat_id: c.raw is not None for c in channel.clients}
        assert raw == {room.observer_seat["id"]: True, room.facilitator_seat["id"]: False}
        seq = max(s["seq"] for s in starts)
        for n in range(6):
            who = room.participants[n % 3]
            answer = await (
                who.post(room.url("/floor/hand"), json={})
                if n < 3
                else who.delete(room.url("/floor/hand"))
            )
            assert answer.status_code in (200, 201), answer.text
        final_seq, final = await fresh_snapshot(app, room.cid)
        for ws, start in ((plain, starts[0]), (compressed, starts[1])):
            events = await recv_until(ws, final_seq)
            events = [e for e in events if e["seq"] > start["seq"]]
            assert apply_all(start["state"], events, start["seq"]) == final
        assert final_seq >= seq + 6
