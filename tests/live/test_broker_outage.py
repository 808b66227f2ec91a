"""The broker is down when a convening's channel opens: clients still attach, and when the
broker is back they get what happened since, not the convening's whole history again."""

import asyncio
from typing import Self

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


async def test_a_channel_opened_while_the_broker_is_down_resumes_where_the_log_stands(
    app: FastAPI, room: Room
) -> None:
    for client in room.participants:
        assert (await client.post(room.url("/floor/hand"), json={})).status_code == 201
    last, _ = await fresh_snapshot(app, room.cid)
    broker = DownAtFirst()
    hub = Hub(broker, app.state.sessionmaker)
    watcher = Client(maxsize=last + 10)
    try:
        channel = await hub.attach(room.cid, watcher)  # attaches although the broker is down
        async with asyncio.timeout(WAIT):
            await broker.subscribed.wait()  # the hub subscribed again after a short delay
        await hub.publish(room.cid, {"type": "event", "seq": last + 1, "kind": "test", "data": {}})
        async with asyncio.timeout(WAIT):
            seq, _ = await watcher.queue.get()
        assert seq == last + 1, "events from before the client attached were delivered again"
        assert watcher.queue.empty() and channel.last_seq == last + 1
    finally:
        await hub.stop()
