"""Helpers for the live-room tests: a room, a real server, websocket clients, applying events."""

import asyncio
import contextlib
import json
import random
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from app.live import service
from app.live.state import apply_event
from tests.conftest import CONVENING, SeatBrowser

WAIT = 5.0  # seconds any single expected message may take to arrive


@dataclass
class Room:
    """A live convening with its first item open."""

    cid: int
    convener: httpx.AsyncClient
    facilitator: httpx.AsyncClient
    participants: list[httpx.AsyncClient]
    seats: list[dict[str, Any]]  # participants' seats, in the same order
    observer: httpx.AsyncClient
    observer_seat: dict[str, Any]
    facilitator_seat: dict[str, Any]
    items: list[dict[str, Any]]
    groups: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"/api/convenings/{self.cid}{path}"


async def make_room(
    convener: httpx.AsyncClient, seated: SeatBrowser, participants: int = 3, items: int = 2
) -> Room:
    """Create a convening, seat a facilitator, participants and an observer, open item 1."""
    response = await convener.post("/api/convenings", json=CONVENING)
    assert response.status_code == 201, response.text
    cid = response.json()["id"]
    groups = []
    for preset in ("government", "civil_society"):
        created = await convener.post(f"/api/convenings/{cid}/groups", json={"preset": preset})
        assert created.status_code == 201, created.text
        groups.append(created.json())
    agenda = []
    for n in range(items):
        added = await convener.post(
            f"/api/convenings/{cid}/agenda", json={"kind": "discussion", "title": f"Item {n}"}
        )
        assert added.status_code == 201, added.text
        agenda.append(added.json())
    facilitator, facilitator_seat = await seated(cid, "facilitator")
    clients, seats = [], []
    for n in range(participants):
        client, seat = await seated(cid, "participant", group_id=groups[n % 2]["id"])
        clients.append(client)
        seats.append(seat)
    observer, observer_seat = await seated(cid, "observer")
    for step in ("schedule", "open"):
        moved = await convener.post(f"/api/convenings/{cid}/{step}")
        assert moved.status_code == 200, moved.text
    started = await facilitator.post(f"/api/convenings/{cid}/agenda/{agenda[0]['id']}/start")
    assert started.status_code == 200, started.text
    return Room(
        cid=cid,
        convener=convener,
        facilitator=facilitator,
        participants=clients,
        seats=seats,
        observer=observer,
        observer_seat=observer_seat,
        facilitator_seat=facilitator_seat,
        items=agenda,
        groups=groups,
    )


async def fresh_snapshot(app: FastAPI, cid: int) -> tuple[int, dict[str, Any]]:
    """The room's state as a fresh build gives it, and its sequence number."""
    async with app.state.sessionmaker() as session:
        return await service.snapshot(session, cid)


def apply_all(state: dict[str, Any], events: list[dict[str, Any]], after: int) -> dict[str, Any]:
    """Apply events in order, checking they continue contiguously from `after`."""
    for event in events:
        assert event["type"] == "event"
        assert event["seq"] == after + 1, (event["seq"], after)
        state = apply_event(state, event)
        after = event["seq"]
    return state


def cookie_header(client: httpx.AsyncClient) -> str:
    """The Cookie header a browser holding this cookie jar would send."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in client.cookies.jar)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """The test's app served by uvicorn over real sockets."""

    port: int
    server: uvicorn.Server | None = None

    def shrink_send_buffers(self, high: int = 2048) -> None:
        """Make the server's open connections hold little unsent data (their transports
        pause above `high` bytes), so that a client that stops reading is soon behind."""
        assert self.server is not None
        for connection in self.server.server_state.connections:
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.set_write_buffer_limits(high=high, low=high // 4)

    def ws_url(self, cid: int, since: int | None = None) -> str:
        query = f"?since={since}" if since is not None else ""
        return f"ws://127.0.0.1:{self.port}/api/convenings/{cid}/live{query}"

    def connect(self, cid: int, client: httpx.AsyncClient | None, since: int | None = None) -> Any:
        headers = {"Cookie": cookie_header(client)} if client is not None else {}
        return connect(
            self.ws_url(cid, since),
            additional_headers=headers,
            open_timeout=WAIT,
            close_timeout=1,
            ping_interval=None,
        )


@contextlib.asynccontextmanager
async def serve(app: FastAPI, send_buffer: int | None = None) -> AsyncIterator[LiveServer]:
    """Run uvicorn in this event loop on the (already started) app; stop it afterwards.

    `send_buffer` sets the kernel's send buffer of every accepted socket (bytes; by default
    the kernel sizes it, up to megabytes on the loopback interface)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",  # the `app` fixture runs the lifespan
        ws="websockets-sansio",  # the legacy implementation warns, and warnings are errors
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        port = listener.getsockname()[1]
        yield LiveServer(port, server)
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            task.cancel()
        listener.close()


async def recv(ws: ClientConnection, within: float = WAIT) -> dict[str, Any]:
    """The next message (pings skipped)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), within))
        if message["type"] != "ping":
            return message  # type: ignore[no-any-return]


async def recv_event(ws: ClientConnection, within: float = WAIT) -> dict[str, Any]:
    """The next sequenced event (presence and pings skipped)."""
    async with asyncio.timeout(within):
        while True:
            message = await recv(ws, within)
            if message["type"] == "event":
                return message


async def recv_until(ws: ClientConnection, seq: int, within: float = WAIT) -> list[dict[str, Any]]:
    """Events until (and including) sequence number `seq`."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while not events or events[-1]["seq"] < seq:
            events.append(await recv_event(ws, within))
    return events


# Live actions through the API ---------------------------------------------------------

KINDS = ("hand", "point_of_order", "direct_reply")
ORDERS = ("first_come", "least_heard_seat", "least_heard_group")
TOURS = ("seating", "alternating_groups")
ACTIONS = (
    "hand",
    "hand",
    "lower",
    "next",
    "next",
    "call",
    "end_turn",
    "reorder",
    "order",
    "start_item",
    "complete_item",
    "pause",
    "resume",
    "tour",
    "pass",
    "pass_for",
    "end_tour",
    "attendance",
)
OK = {200, 201, 409, 422}


async def perform(room: Room, state: dict[str, Any], name: str, a: int, b: int) -> int:
    """Do one action through the API; returns the HTTP status."""
    fac = room.facilitator
    who = room.participants[a % len(room.participants)]
    seat_ids = [s["id"] for s in room.seats] + [
        room.facilitator_seat["id"],
        room.observer_seat["id"],
        10**6,  # no such seat
    ]
    seat_id = seat_ids[b % len(seat_ids)]
    item_id = room.items[b % len(room.items)]["id"]
    response: httpx.Response
    match name:
        case "hand":
            response = await who.post(room.url("/floor/hand"), json={"kind": KINDS[b % 3]})
        case "lower":
            params = {"kind": KINDS[b % 4]} if b % 4 < 3 else {}
            response = await who.delete(room.url("/floor/hand"), params=params)
        case "next":
            response = await fac.post(room.url("/floor/next"))
        case "call":
            response = await fac.post(room.url("/floor/call"), json={"seat_id": seat_id})
        case "end_turn":
            response = await fac.post(room.url("/floor/end-turn"))
        case "reorder":
            hands = [e["id"] for e in state["floor"]["queue"] if e["kind"] == "hand"]
            random.Random(b).shuffle(hands)
            if a == 7:
                hands = hands[1:]  # incomplete: refused
            response = await fac.put(room.url("/floor/queue"), json={"entry_ids": hands})
        case "order":
            response = await fac.put(room.url("/floor/order"), json={"queue_order": ORDERS[b % 3]})
        case "start_item":
            response = await fac.post(room.url(f"/agenda/{item_id}/start"))
        case "complete_item":
            response = await fac.post(room.url(f"/agenda/{item_id}/complete"))
        case "pause":
            response = await fac.post(room.url(f"/agenda/{item_id}/pause"))
        case "resume":
            response = await fac.post(room.url(f"/agenda/{item_id}/resume"))
        case "tour":
            response = await fac.post(room.url("/floor/tour"), json={"order": TOURS[b % 2]})
        case "pass":
            response = await who.post(room.url("/floor/tour/pass"))
        case "pass_for":
            response = await fac.post(room.url("/floor/tour/pass-for"), json={"seat_id": seat_id})
        case "end_tour":
            response = await fac.delete(room.url("/floor/tour"))
        case "attendance":
            attendance = ("present", "absent")[a % 2] if a < 6 else "present"
            response = await fac.put(
                room.url(f"/seats/{seat_id}/attendance"), json={"attendance": attendance}
            )
        case _:
            raise AssertionError(name)
    allowed = OK | {404} if name in ("call", "pass_for", "attendance") else OK
    assert response.status_code in allowed, (name, response.status_code, response.text)
    return response.status_code
