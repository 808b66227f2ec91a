"""The hub: one broker subscription per process per convening, fanned out to local clients.

Events reach a channel in any order (several processes publish); the channel delivers them
to its clients strictly in sequence, once each, filling any gap from the event log. Each
event is serialized once (the published text is forwarded as is), and each client has a
bounded queue: a client that cannot keep up is dropped and resumes from its last sequence
number. Presence (which seats are connected) is announced through the same broker by each
process, and merged.
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.convenings.models import Convening
from app.live.broker import Broker
from app.live.log import event_message
from app.live.models import Event
from app.live.service import snapshot as snapshot_state

log = logging.getLogger("convene.hub")

CLIENT_QUEUE = 512  # events a client may lag behind before it is dropped
GAP_WAIT = 0.25  # seconds to wait for a missing event before reading it from the log
PRESENCE_EVERY = 15.0  # seconds between a process's presence announcements
PRESENCE_TTL = 45.0  # a process not heard from for this long is no longer counted
POLLER_TTL = 40.0  # a polling seat counts as connected this long after its last poll
LINGER = 60.0  # seconds a channel stays subscribed after its last client left
PRESENCE_COALESCE = 0.3  # seconds presence changes are gathered before one announcement
DROPPED = (-1, "")
UNBOUND = (-2, "")  # the client's seat lost its binding (link revoked or reissued)
LEFT = (-3, "")  # the client went away
PING = (0, '{"type":"ping"}')  # heartbeat, sent to every client by the hub's timer
PING_EVERY = 20.0


def channel_name(convening_id: int) -> str:
    """The broker channel of a convening."""
    return f"convening:{convening_id}"


class Client:
    """One connected client: a bounded queue of (seq, text) the hub fills."""

    def __init__(self, seat_id: int | None = None, maxsize: int | None = None) -> None:
        self.seat_id = seat_id
        # CLIENT_QUEUE is read now, not when the module loaded, so it can be tuned at run time.
        size = CLIENT_QUEUE if maxsize is None else maxsize
        self.queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue(size)
        self.dropped = False

    def leave(self) -> None:
        """The client went away: wake its sending loop to end it."""
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(LEFT)

    def unbind(self) -> None:
        """Close this client for good: its seat no longer belongs to this browser."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(UNBOUND)
        self.dropped = True

    def offer(self, seq: int, text: str) -> None:
        """Queue a message; on overflow the client is marked dropped (it must resume)."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait((seq, text))
        except asyncio.QueueFull:
            self.dropped = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(DROPPED)


@dataclass
class Channel:
    """A convening's subscription in this process and the clients attached to it."""

    convening_id: int
    last_seq: int = 0
    clients: set[Client] = field(default_factory=set)
    pending: dict[int, str] = field(default_factory=dict)
    local_seats: Counter[int] = field(default_factory=Counter)
    pollers: dict[int, float] = field(default_factory=dict)
    linger_task: asyncio.Task[None] | None = None
    announce_task: asyncio.Task[None] | None = None
    node: str = ""  # this process's node id
    sent_presence: list[int] | None = None  # the presence last pushed to clients
    snapshot: tuple[int, str] | None = None  # the state serialized at a sequence number
    snapshot_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    nodes: dict[str, tuple[float, frozenset[int]]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    gap_task: asyncio.Task[None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def local_presence(self) -> frozenset[int]:
        """Seats connected to this process: open sockets and recent polls."""
        now = time.monotonic()
        for seat, seen in list(self.pollers.items()):
            if now - seen > POLLER_TTL:
                del self.pollers[seat]
        return frozenset(self.local_seats) | frozenset(self.pollers)

    def presence(self) -> list[int]:
        """Seats connected anywhere: this process's as they are now, the others' by their
        latest announcements."""
        now = time.monotonic()
        seats: set[int] = set(self.local_presence())
        for node, (heard, node_seats) in self.nodes.items():
            if node != self.node and now - heard <= PRESENCE_TTL:
                seats |= node_seats
        return sorted(seats)


class Hub:
    """Publishes events after commit and fans them out to this process's clients."""

    def __init__(self, broker: Broker, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.broker = broker
        self.sessionmaker = sessionmaker
        self.node = uuid.uuid4().hex[:12]
        self.channels: dict[int, Channel] = {}
        self._lock = asyncio.Lock()
        self._presence_task: asyncio.Task[None] | None = None
        self._ping_task: asyncio.Task[None] | None = None
        self.published = 0
        self.delivered = 0

    async def start(self) -> None:
        """Connect the broker and start announcing presence."""
        await self.broker.connect()
        self._presence_task = asyncio.create_task(self._announce_loop(), name="presence")
        self._ping_task = asyncio.create_task(self._ping_loop(), name="heartbeat")

    async def stop(self) -> None:
        """Tell clients to reconnect elsewhere, stop every subscription, close the broker."""
        for task in (self._presence_task, self._ping_task):
            if task is not None:
                task.cancel()
        for channel in list(self.channels.values()):
            for client in list(channel.clients):
                client.offer(*DROPPED)
            await self._close(channel)
        await self.broker.disconnect()

    # Publishing -----------------------------------------------------------------------

    async def publish(self, convening_id: int, message: dict[str, Any]) -> None:
        """Publish a committed event to every process (this one included)."""
        self.published += 1
        await self._send(convening_id, json.dumps(message, separators=(",", ":")))

    async def _send(self, convening_id: int, text: str) -> None:
        """Put a message on the convening's channel in every process. If the broker is down,
        this process's clients still get it; the others catch up from the log when they
        reconnect or poll."""
        try:
            await self.broker.publish(channel_name(convening_id), text)
        except Exception as error:
            log.warning("broker publish failed, delivering locally only: %s", error)
            channel = self.channels.get(convening_id)
            if channel is not None:
                self._receive(channel, text)

    async def unbind_seat(self, convening_id: int, seat_id: int) -> None:
        """Close every connection of a seat whose browser binding was revoked, everywhere."""
        await self._send(convening_id, json.dumps({"type": "unbind", "seat_id": seat_id}))

    async def snapshot(self, convening_id: int) -> tuple[int, str]:
        """The room's state as JSON and its sequence number, built once per number.

        A cached snapshot serves while it is no older than the channel's last delivered
        event: a client attached to the channel receives every later event from its queue.
        Connections arriving together wait for one build instead of each reading the
        database.
        """
        channel = self.channels.get(convening_id)
        if channel is None:
            async with self.sessionmaker() as session:
                seq, state = await snapshot_state(session, convening_id)
            return seq, json.dumps(state, separators=(",", ":"))
        async with channel.snapshot_lock:
            cached = channel.snapshot
            if cached is not None and cached[0] >= channel.last_seq:
                return cached
            async with self.sessionmaker() as session:
                seq, state = await snapshot_state(session, convening_id)
            channel.snapshot = (seq, json.dumps(state, separators=(",", ":")))
            return channel.snapshot

    def presence_of(self, convening_id: int) -> list[int]:
        """Seats connected to the convening's room, as this process knows it."""
        channel = self.channels.get(convening_id)
        return channel.presence() if channel is not None else []

    # Attaching clients ----------------------------------------------------------------

    async def attach(self, convening_id: int, client: Client) -> Channel:
        """Attach a client; once this returns, every later event reaches its queue."""
        async with self._lock:
            channel = self.channels.get(convening_id)
            if channel is None:
                channel = Channel(convening_id, node=self.node)
                self.channels[convening_id] = channel
                channel.task = asyncio.create_task(
                    self._run(channel), name=f"channel-{convening_id}"
                )
        await channel.ready.wait()
        if channel.linger_task is not None:
            channel.linger_task.cancel()
            channel.linger_task = None
        channel.clients.add(client)
        if client.seat_id is not None:
            channel.local_seats[client.seat_id] += 1
            if channel.local_seats[client.seat_id] == 1:
                self._announce_soon(channel)
        return channel

    async def detach(self, convening_id: int, client: Client) -> None:
        """Detach a client; the channel closes when its last client leaves."""
        channel = self.channels.get(convening_id)
        if channel is None:
            return
        channel.clients.discard(client)
        if client.seat_id is not None:
            channel.local_seats[client.seat_id] -= 1
            if channel.local_seats[client.seat_id] <= 0:
                del channel.local_seats[client.seat_id]
                self._announce_soon(channel)
        if not channel.clients and channel.linger_task is None:
            channel.linger_task = asyncio.create_task(self._linger(channel))

    async def touch(self, convening_id: int, seat_id: int) -> None:
        """Count a polling seat as connected for a while."""
        channel = self.channels.get(convening_id)
        if channel is None:
            return
        new = seat_id not in channel.local_presence()
        channel.pollers[seat_id] = time.monotonic()
        if new:
            self._announce_soon(channel)

    async def _linger(self, channel: Channel) -> None:
        await asyncio.sleep(LINGER)
        async with self._lock:
            if not channel.clients and self.channels.get(channel.convening_id) is channel:
                del self.channels[channel.convening_id]
                channel.linger_task = None
                await self._announce_gone(channel)
                await self._close(channel)

    async def _close(self, channel: Channel) -> None:
        for task in (channel.gap_task, channel.task, channel.linger_task, channel.announce_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # Receiving ------------------------------------------------------------------------

    async def _run(self, channel: Channel) -> None:
        """Hold the channel's subscription, resubscribing if the broker connection drops."""
        delay = 0.5
        while True:
            try:
                async with self.broker.subscribe(
                    channel_name(channel.convening_id)
                ) as subscription:
                    # Subscribed first, then read where the log stands: nothing falls between.
                    await self._catch_up(channel)
                    channel.ready.set()
                    delay = 0.5
                    async for text in subscription:
                        self._receive(channel, text)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("subscription to convening %s lost: %s", channel.convening_id, error)
                if not channel.ready.is_set():
                    # Never subscribed: still note where the log stands, or the first catch-up
                    # once the broker is back would deliver the whole log to every client.
                    with contextlib.suppress(Exception):
                        await self._catch_up(channel)
                channel.ready.set()  # clients attach anyway and catch up from the log
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _catch_up(self, channel: Channel) -> None:
        """Deliver, in order, every logged event after the channel's last one."""
        async with self.sessionmaker() as session:
            if not channel.ready.is_set() and channel.last_seq == 0:
                convening = await session.get(Convening, channel.convening_id)
                channel.last_seq = convening.last_seq if convening else 0
                return
            rows = (
                await session.exec(
                    select(Event)
                    .where(Event.convening_id == channel.convening_id, Event.seq > channel.last_seq)
                    .order_by(col(Event.seq))
                )
            ).all()
        for event in rows:
            if event.seq == channel.last_seq + 1:
                self._deliver(
                    channel, event.seq, json.dumps(event_message(event), separators=(",", ":"))
                )
        self._drain(channel)

    def _receive(self, channel: Channel, text: str) -> None:
        message = json.loads(text)
        kind = message.get("type")
        if kind == "unbind":
            for client in list(channel.clients):
                if client.seat_id == message["seat_id"]:
                    client.unbind()
            return
        if kind == "presence":
            channel.nodes[message["node"]] = (time.monotonic(), frozenset(message["seats"]))
            seats = channel.presence()
            if seats != channel.sent_presence:  # push only what changed
                channel.sent_presence = seats
                presence = json.dumps({"type": "presence", "seats": seats})
                for client in list(channel.clients):
                    client.offer(0, presence)
            return
        if kind != "event":
            return
        seq = int(message["seq"])
        if seq <= channel.last_seq or seq in channel.pending:
            return
        channel.pending[seq] = text
        self._drain(channel)
        if channel.pending and (channel.gap_task is None or channel.gap_task.done()):
            channel.gap_task = asyncio.create_task(self._fill_gap(channel))

    def _drain(self, channel: Channel) -> None:
        while channel.last_seq + 1 in channel.pending:
            seq = channel.last_seq + 1
            self._deliver(channel, seq, channel.pending.pop(seq))
        for seq in [s for s in channel.pending if s <= channel.last_seq]:
            del channel.pending[seq]

    def _deliver(self, channel: Channel, seq: int, text: str) -> None:
        channel.last_seq = seq
        for client in list(channel.clients):
            client.offer(seq, text)
        self.delivered += 1

    async def _fill_gap(self, channel: Channel) -> None:
        await asyncio.sleep(GAP_WAIT)
        if channel.pending:
            await self._catch_up(channel)

    # Presence -------------------------------------------------------------------------

    def _announce_soon(self, channel: Channel) -> None:
        """Announce this process's presence shortly: a wave of joins makes one announcement
        (and one push to each client), not one per join."""
        if channel.announce_task is None or channel.announce_task.done():
            channel.announce_task = asyncio.create_task(self._announce_after(channel))

    async def _announce_after(self, channel: Channel) -> None:
        await asyncio.sleep(PRESENCE_COALESCE)
        await self._announce(channel)

    async def _announce_gone(self, channel: Channel) -> None:
        channel.local_seats.clear()
        channel.pollers.clear()
        await self._announce(channel)

    async def _announce(self, channel: Channel) -> None:
        local = channel.local_presence()
        message = {"type": "presence", "node": self.node, "seats": sorted(local)}
        channel.nodes[self.node] = (time.monotonic(), local)
        await self._send(channel.convening_id, json.dumps(message))

    async def _ping_loop(self) -> None:
        """Heartbeats: one timer for every client of this process."""
        while True:
            await asyncio.sleep(PING_EVERY)
            for channel in list(self.channels.values()):
                for client in list(channel.clients):
                    client.offer(*PING)

    async def _announce_loop(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_EVERY)
            for channel in list(self.channels.values()):
                await self._announce(channel)
