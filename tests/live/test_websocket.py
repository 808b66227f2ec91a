"""The room's websocket over a real server: snapshot, live events, presence, authorization."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import SeatBrowser
from tests.live.helpers import (
    WAIT,
    LiveServer,
    Room,
    apply_all,
    fresh_snapshot,
    make_room,
    recv,
    recv_event,
)


async def mark_present(room: Room, *seats: dict[str, Any]) -> None:
    for seat in seats:
        response = await room.facilitator.put(
            room.url(f"/seats/{seat['id']}/attendance"), json={"attendance": "present"}
        )
        assert response.status_code == 200, response.text


async def test_a_seat_gets_a_snapshot_then_every_change_as_it_happens(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    a, b = room.participants[0], room.participants[1]
    seat_a, seat_b = room.seats[0], room.seats[1]
    # Present already, so connecting changes nothing: the next event is the action's.
    await mark_present(room, seat_a, room.observer_seat)
    async with (
        live_server.connect(room.cid, a) as participant,
        live_server.connect(room.cid, room.observer) as observer,
    ):
        seq, state = await fresh_snapshot(app, room.cid)
        first = await recv(participant)
        assert first["type"] == "snapshot"
        assert first["seq"] == seq
        assert first["state"] == state
        assert first["you"] == {"actor": "participant", "seat_id": seat_a["id"]}
        assert seat_a["id"] in first["presence"]
        watched = await recv(observer)
        assert watched["type"] == "snapshot" and watched["seq"] == seq
        assert watched["you"] == {"actor": "observer", "seat_id": room.observer_seat["id"]}

        raised = await b.post(room.url("/floor/hand"), json={})
        assert raised.status_code == 201, raised.text
        assert raised.json()["seq"] == seq + 1
        _, after = await fresh_snapshot(app, room.cid)
        for ws, start in ((participant, first), (observer, watched)):
            event = await recv_event(ws)
            assert event["seq"] == seq + 1
            assert event["kind"] == "floor.hand_raised"
            assert event["data"]["seat_id"] == seat_b["id"]
            queue = event["data"]["state"]["floor"]["queue"]
            assert [e["seat_id"] for e in queue] == [seat_b["id"]]
            assert apply_all(start["state"], [event], seq) == after


async def test_resuming_replays_exactly_the_missed_events(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    await mark_present(room, room.observer_seat)
    seq, state = await fresh_snapshot(app, room.cid)
    for client in room.participants:
        assert (await client.post(room.url("/floor/hand"), json={})).status_code == 201
    assert (await room.facilitator.post(room.url("/floor/next"))).status_code == 200
    async with live_server.connect(room.cid, room.observer, since=seq) as ws:
        resume = await recv(ws)
        assert resume["type"] == "resume" and resume["seq"] == seq
        events = [await recv_event(ws) for _ in range(4)]
        assert [e["seq"] for e in events] == [seq + 1, seq + 2, seq + 3, seq + 4]
        assert apply_all(state, events, seq) == (await fresh_snapshot(app, room.cid))[1]
        # A client ahead of the log, or with a negative number, starts from a snapshot.
    for since in (seq + 100, -1):
        async with live_server.connect(room.cid, room.observer, since=since) as ws:
            first = await recv(ws)
            assert first["type"] == "snapshot" and first["seq"] == seq + 4


async def test_connecting_shows_presence_and_marks_the_seat_present(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    a, seat_a = room.participants[0], room.seats[0]
    async with live_server.connect(room.cid, room.observer) as observer:
        snapshot = await recv(observer)
        assert snapshot["type"] == "snapshot"
        assert snapshot["presence"] == [room.observer_seat["id"]]
        attendance = {s["id"]: s["attendance"] for s in snapshot["state"]["seats"]}
        assert attendance[room.observer_seat["id"]] == "present"  # it connected
        assert attendance[seat_a["id"]] == "confirmed"

        async with live_server.connect(room.cid, a) as participant:
            assert (await recv(participant))["type"] == "snapshot"
            event = await recv_event(observer)
            assert event["seq"] == snapshot["seq"] + 1
            assert event["kind"] == "seat.attendance_changed"
            assert event["data"]["seat_id"] == seat_a["id"]
            assert event["data"]["attendance"] == "present"
            seats = {s["id"]: s["attendance"] for s in event["data"]["upsert"]["seats"]}
            assert seats[seat_a["id"]] == "present"
            presence = await next_presence(observer, lambda p: seat_a["id"] in p)
            assert presence == sorted([room.observer_seat["id"], seat_a["id"]])
            polled = await room.convener.get(room.url("/events"), params={"wait": 0})
            assert seat_a["id"] in polled.json()["presence"]
        # The participant left: the others see it gone, promptly.
        presence = await next_presence(observer, lambda p: seat_a["id"] not in p)
        assert presence == [room.observer_seat["id"]]
        polled = await room.convener.get(room.url("/events"), params={"wait": 0})
        assert polled.json()["presence"] == [room.observer_seat["id"]]


async def next_presence(ws: Any, wanted: Any) -> list[int]:
    """Read until a presence message whose seats satisfy `wanted`."""
    async with asyncio.timeout(WAIT):
        while True:
            message = await recv(ws)
            if message["type"] == "presence" and wanted(message["seats"]):
                return message["seats"]  # type: ignore[no-any-return]


async def refused(live_server: LiveServer, cid: int, client: httpx.AsyncClient | None) -> None:
    """The room's websocket refuses this browser: at the handshake, or closing with 4404."""
    try:
        async with live_server.connect(cid, client) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), WAIT)
            assert closed.value.rcvd is not None and closed.value.rcvd.code in (4403, 4404)
    except InvalidStatus as error:
        assert error.response.status_code == 403


async def test_only_seated_browsers_watch_the_room(
    room: Room,
    live_server: LiveServer,
    convener: httpx.AsyncClient,
    seated: SeatBrowser,
    client: httpx.AsyncClient,
) -> None:
    other = await make_room(convener, seated, participants=1, items=1)
    stranger = other.participants[0]  # seated, but at another table
    for browser in (None, client, stranger):
        await refused(live_server, room.cid, browser)
    await refused(live_server, 10**6, room.participants[0])  # no such convening
    for browser in (client, stranger):
        polled = await browser.get(room.url("/events"), params={"wait": 0})
        assert polled.status_code == 404
        polled = await browser.get(room.url("/events"), params={"since": 0, "wait": 0})
        assert polled.status_code == 404
    # Seated, but not allowed to do this.
    assert (await room.participants[0].post(room.url("/floor/next"))).status_code == 403
    assert (
        await room.participants[0].post(room.url("/floor/call"), json={"seat_id": 1})
    ).status_code == 403
    assert (await room.observer.post(room.url("/floor/hand"), json={})).status_code == 403
    assert (await stranger.post(room.url("/floor/hand"), json={})).status_code == 404
    # The seated ones do get in.
    async with live_server.connect(room.cid, room.observer) as ws:
        assert (await recv(ws))["type"] == "snapshot"
