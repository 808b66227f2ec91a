"""The broker is down when a convening's channel opens: clients still attach, and when the
broker is back they get what happened since, not the convening's whole history again."""

import asyncio
import json
from typing import Any, Self

from fastapi import FastAPI

from app.live.broker import MemoryBroker, _MemorySubscription
from app.live.hub import Client, Hub
from tests.live.helpers import WAIT, Room, fresh_snapshot


class DownAtFirst(MemoryBroker):
    """A broker whose first subscription fails, as when Redis is briefly unreachable."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1
        self.subscribed = asyncio.Event()

    def subscribe(self, channel: str) -> _MemorySubscription:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        broker = self

        class Noticed(_MemorySubscription):
            async def __aenter__(self) -> Self:
                entered = await super().__aenter__()
                broker.subscribed.set()
                return entered

        return Noticed(self, channel)


class Inbox:
    """What a connection's ASGI `send` was given, in order."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        self.messages.append(dict(message))
        self.arrived.set()

    def events(self) -> list[dict[str, Any]]:
        texts = [json.loads(m["text"]) for m in self.messages if m["type"] == "websocket.send"]
        return [t for t in texts if t["type"] == "event"]


async def test_a_channel_opened_while_the_broker_is_down_resumes_where_the_log_stands(
    app: FastAPI, room: Room
) -> None:
    for client in room.participants:
        assert (await client.post(room.url("/floor/hand"), json={})).status_code == 201
    last, _ = await fresh_snapshot(app, room.cid)
    broker = DownAtFirst()
    hub = Hub(broker, app.state.sessionmaker)
    inbox = Inbox()
    watcher = Client(inbox)
    try:
        channel = await hub.attach(room.cid, watcher)  # attaches although the broker is down
        watcher.last_seq = last  # as if its snapshot was at `last`
        await watcher.drain()
        async with asyncio.timeout(WAIT):
            await broker.subscribed.wait()  # the hub subscribed again after a short delay
        await hub.publish(room.cid, {"type": "event", "seq": last + 1, "kind": "test", "data": {}})
        async with asyncio.timeout(WAIT):
            while not inbox.events():
                inbox.arrived.clear()
                await inbox.arrived.wait()
        assert [e["seq"] for e in inbox.events()] == [last + 1], (
            "events from before the client attached were delivered again"
        )
        assert channel.last_seq == last + 1
    finally:
        await hub.stop()
