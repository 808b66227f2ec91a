"""A client whose queue overflows is dropped (4008) without holding up the others, and
resumes from its last sequence number with every event exactly once."""

import asyncio
import json

import pytest
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed

from app.live import hub as hub_module
from app.live.broker import MemoryBroker
from app.live.hub import DROPPED, Client, Hub
from tests.live.helpers import (
    WAIT,
    LiveServer,
    Room,
    apply_all,
    fresh_snapshot,
    recv,
    recv_event,
    recv_until,
)


class Gate:
    """Holds what the broker is asked to publish, then lets it all through at once: a burst,
    as after a network hiccup, that reaches the hub faster than any socket can drain."""

    def __init__(self, broker: object) -> None:
        self.publish_through = broker.publish  # type: ignore[attr-defined]
        self.held: list[tuple[str, str]] = []
        self.closed = False

    async def publish(self, channel: str, message: str) -> None:
        if self.closed:
            self.held.append((channel, message))
        else:
            await self.publish_through(channel, message)

    async def open(self) -> None:
        self.closed = False
        held, self.held = self.held, []
        for channel, message in held:
            await self.publish_through(channel, message)


async def act(room: Room) -> None:
    """Eight changes to the floor."""
    for client in room.participants:
        assert (await client.post(room.url("/floor/hand"), json={})).status_code == 201
    fac = room.facilitator
    assert (await fac.post(room.url("/floor/next"))).status_code == 200
    assert (await fac.post(room.url("/floor/next"))).status_code == 200
    assert (await room.participants[2].delete(room.url("/floor/hand"))).status_code == 200
    assert (await fac.post(room.url("/floor/end-turn"))).status_code == 200
    item = room.items[0]["id"]
    assert (await fac.post(room.url(f"/agenda/{item}/pause"))).status_code == 200


async def test_a_client_that_falls_behind_is_dropped_and_resumes_exactly_once(
    app: FastAPI, room: Room, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for seat in (room.observer_seat, room.facilitator_seat):
        marked = await room.facilitator.put(
            room.url(f"/seats/{seat['id']}/attendance"), json={"attendance": "present"}
        )
        assert marked.status_code == 200
    gate = Gate(app.state.hub.broker)
    monkeypatch.setattr(app.state.hub.broker, "publish", gate.publish)
    async with live_server.connect(room.cid, room.observer) as steady:
        start = await recv(steady)
        assert start["type"] == "snapshot"
        monkeypatch.setattr(hub_module, "CLIENT_QUEUE", 3)
        async with live_server.connect(room.cid, room.facilitator) as slow:
            begun = await recv(slow)
            monkeypatch.setattr(hub_module, "CLIENT_QUEUE", 512)
            assert begun["type"] == "snapshot" and begun["seq"] == start["seq"]
            seq = begun["seq"]
            gate.closed = True
            await act(room)
            await gate.open()  # eight events reach both queues at once
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    message = await recv(slow)
                    assert message["type"] != "event", "the burst overflowed this queue"
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
        # The other client got everything, in order.
        steady_events = await recv_until(steady, seq + 8)
        state = apply_all(start["state"], steady_events, seq)
        assert (
            await room.participants[0].post(room.url("/floor/hand"), json={})
        ).status_code == 201
        steady_events.append(await recv_event(steady))
        state = apply_all(state, steady_events[-1:], seq + 8)
        final_seq, final = await fresh_snapshot(app, room.cid)
        assert final_seq == seq + 9 and state == final
    # The dropped client resumes from the last event it applied.
    async with live_server.connect(room.cid, room.facilitator, since=seq) as again:
        resume = await recv(again)
        assert resume["type"] == "resume" and resume["seq"] == seq
        events = await recv_until(again, final_seq)
        assert [e["seq"] for e in events] == list(range(seq + 1, final_seq + 1))
        assert apply_all(begun["state"], events, seq) == final
        with pytest.raises(TimeoutError):  # and nothing twice
            await recv_event(again, within=0.3)


async def test_the_hub_drops_only_the_client_that_overflows(app: FastAPI, room: Room) -> None:
    hub = Hub(MemoryBroker(), app.state.sessionmaker)
    fast, slow = Client(), Client(maxsize=2)
    try:
        channel = await hub.attach(room.cid, fast)
        await hub.attach(room.cid, slow)
        start = channel.last_seq
        for seq in range(start + 1, start + 6):
            await hub.publish(room.cid, {"type": "event", "seq": seq, "kind": "test", "data": {}})
        async with asyncio.timeout(WAIT):
            got = [await fast.queue.get() for _ in range(5)]
        assert [seq for seq, _ in got] == list(range(start + 1, start + 6))
        assert [json.loads(text)["seq"] for _, text in got] == [seq for seq, _ in got]
        assert slow.dropped
        assert slow.queue.get_nowait() == DROPPED and slow.queue.empty()
        # Once dropped, it is offered nothing more; the others carry on.
        await hub.publish(room.cid, {"type": "event", "seq": start + 6, "kind": "test", "data": {}})
        async with asyncio.timeout(WAIT):
            seq, _ = await fast.queue.get()
        assert seq == start + 6 and slow.queue.empty()
    finally:
        await hub.stop()


async def test_stopping_the_hub_tells_clients_to_reconnect(app: FastAPI, room: Room) -> None:
    hub = Hub(MemoryBroker(), app.state.sessionmaker)
    watcher = Client()
    await hub.attach(room.cid, watcher)
    await hub.stop()
    assert watcher.queue.get_nowait() == DROPPED and not watcher.dropped
