"""Clients that drop at random moments and come back with `since` get every event exactly
once, in order, and end with the fresh state: over the websocket and by polling."""

import asyncio
import random
from typing import Any

import httpx
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed

from tests.live.helpers import (
    ACTIONS,
    LiveServer,
    Room,
    apply_all,
    fresh_snapshot,
    perform,
    recv,
)

ACTIONS_DURING = 60
# Mostly floor traffic. Changing the queue order is left to the replay property test
# (test_replay_property.py): here a failure should mean a delivery fault, not a state one.
WEIGHTS = {"hand": 6, "next": 4, "lower": 2, "call": 2, "end_turn": 2, "attendance": 2, "order": 0}


class Follower:
    """What a client applied: the state, its sequence number, every event number once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state: dict[str, Any] | None = None
        self.first_seq: int | None = None
        self.last_seq = -1
        self.applied: list[int] = []

    def start(self, message: dict[str, Any]) -> None:
        assert self.state is None, f"{self.name}: a second snapshot"
        self.state, self.first_seq, self.last_seq = message["state"], message["seq"], message["seq"]

    def apply(self, events: list[dict[str, Any]]) -> None:
        assert self.state is not None
        self.state = apply_all(self.state, events, self.last_seq)  # contiguous, or it fails
        for event in events:
            self.applied.append(event["seq"])
            self.last_seq = event["seq"]

    def check(self, final_seq: int, final: dict[str, Any]) -> None:
        assert self.first_seq is not None
        assert self.applied == list(range(self.first_seq + 1, final_seq + 1)), self.name
        assert self.state == final, self.name


async def run_actions(room: Room, app: FastAPI, rng: random.Random) -> None:
    names = [name for name in ACTIONS for _ in range(WEIGHTS.get(name, 1))]
    for _ in range(ACTIONS_DURING):
        _, state = await fresh_snapshot(app, room.cid)
        name = rng.choice(names) if state["floor"]["item_id"] else "start_item"
        await perform(room, state, name, rng.randrange(8), rng.randrange(8))
        await asyncio.sleep(rng.uniform(0, 0.03))


async def settle(room: Room, app: FastAPI) -> tuple[int, dict[str, Any]]:
    """Everyone present (so reconnecting changes nothing more); the final state."""
    seats = [*room.seats, room.facilitator_seat, room.observer_seat]
    for seat in seats:
        response = await room.facilitator.put(
            room.url(f"/seats/{seat['id']}/attendance"), json={"attendance": "present"}
        )
        assert response.status_code == 200, response.text
    return await fresh_snapshot(app, room.cid)


async def websocket_follower(
    server: LiveServer,
    room: Room,
    browser: httpx.AsyncClient,
    me: Follower,
    rng: random.Random,
    done: asyncio.Future[int],
) -> int:
    """Connect, read a random number of messages, drop (cleanly or not), reconnect."""
    connections = 0
    while not (done.done() and me.last_seq == done.result()):
        connections += 1
        since = None if me.state is None else me.last_seq
        ws = await server.connect(room.cid, browser, since=since)
        try:
            budget = rng.randrange(0, 12) if not done.done() else 10**6
            first = await recv(ws)
            if since is None:
                assert first["type"] == "snapshot"
                me.start(first)
            else:
                assert first["type"] == "resume" and first["seq"] == since
            while budget > 0 and not (done.done() and me.last_seq == done.result()):
                try:
                    message = await recv(ws, within=0.25)
                except TimeoutError:
                    continue  # nothing yet; maybe nothing more
                budget -= 1
                if message["type"] == "event":
                    me.apply([message])
                if not done.done() and rng.random() < 0.1:
                    # Messages that arrive now are read by nobody: lost with the connection.
                    await asyncio.sleep(rng.uniform(0, 0.05))
                    break
        except ConnectionClosed:
            pass
        finally:
            if rng.random() < 0.5:
                ws.transport.abort()  # the network drops
            await ws.close()
    return connections


async def polling_follower(
    room: Room,
    browser: httpx.AsyncClient,
    me: Follower,
    rng: random.Random,
    done: asyncio.Future[int],
) -> int:
    """Poll with `since`; some answers are lost on the way and asked for again."""
    polls = 0
    while not (done.done() and me.last_seq == done.result()):
        polls += 1
        params: dict[str, Any] = {"wait": rng.choice((0, 0, 0.1))}
        if me.state is not None:
            params["since"] = me.last_seq
        response = await browser.get(room.url("/events"), params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        if not done.done() and rng.random() < 0.2:
            continue  # the answer never arrived
        if body["snapshot"] is not None:
            me.start(body["snapshot"])
        else:
            me.apply(body["events"])
            assert body["last_seq"] == me.last_seq
        await asyncio.sleep(rng.uniform(0, 0.02))
    return polls


async def test_clients_that_drop_and_resume_get_every_event_exactly_once(
    app: FastAPI, room: Room, live_server: LiveServer
) -> None:
    rng = random.Random(20240611)
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    flaky, steady, poller = Follower("flaky"), Follower("steady"), Follower("poller")
    async with live_server.connect(room.cid, room.facilitator) as steady_ws:
        first = await recv(steady_ws)
        steady.start(first)

        async def follow_steadily() -> None:
            while not (done.done() and steady.last_seq == done.result()):
                try:
                    message = await recv(steady_ws, within=0.25)
                except TimeoutError:
                    continue  # nothing yet; maybe nothing more
                if message["type"] == "event":
                    steady.apply([message])

        async with asyncio.timeout(60):
            followers = asyncio.gather(
                websocket_follower(
                    live_server, room, room.observer, flaky, random.Random(rng.random()), done
                ),
                polling_follower(
                    room, room.participants[0], poller, random.Random(rng.random()), done
                ),
                follow_steadily(),
            )
            try:
                await run_actions(room, app, random.Random(rng.random()))
                final_seq, final = await settle(room, app)
                done.set_result(final_seq)
                connections, polls, _ = await followers
            finally:
                followers.cancel()
    assert connections > 3 and polls > 3
    assert final_seq - first["seq"] > ACTIONS_DURING / 2  # most actions did change the room
    assert (await fresh_snapshot(app, room.cid))[0] == final_seq
    for follower in (flaky, steady, poller):
        follower.check(final_seq, final)
