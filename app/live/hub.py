"""The hub: one broker subscription per process per convening, fanned out to local clients.

Events reach a channel in any order (several processes publish); the channel delivers them
to its clients strictly in sequence, once each, filling any gap from the event log. Each
event is serialized once (the published text is forwarded as is, as one websocket frame
built once) and the channel's task writes it to every client's socket itself, one after
the other, with no task and no queue per client: a socket that takes the frame (almost
always) costs one call. Only a client
whose socket cannot take more right now (its transport's write buffer is full) keeps a
backlog, drained by a task of its own while it lasts; a client whose backlog grows past
`CLIENT_QUEUE` messages or `CLIENT_BACKLOG_BYTES` is dropped (close code 4008) and resumes
from its last sequence number. Presence (which seats are connected) is announced through
the same broker by each process, and merged.
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from websockets.server import ServerProtocol

from app import metrics
from app.convenings.models import Convening
from app.db import read_only_sessionmaker
from app.live.broker import Broker
from app.live.log import event_message
from app.live.models import Event
from app.live.service import events_after
from app.live.service import snapshot as snapshot_state

log = logging.getLogger("convene.hub")

CLIENT_QUEUE = 512  # messages a slow client may have waiting before it is dropped
CLIENT_BACKLOG_BYTES = 1 << 20  # ... or bytes (beyond what its socket buffers already hold)
GAP_WAIT = 0.25  # seconds to wait for a missing event before reading it from the log
PRESENCE_EVERY = 15.0  # seconds between a process's presence announcements
PRESENCE_TTL = 45.0  # a process not heard from for this long is no longer counted
POLLER_TTL = 40.0  # a polling seat counts as connected this long after its last poll
LINGER = 60.0  # seconds a channel stays subscribed after its last client left
PRESENCE_COALESCE = 0.3  # seconds presence changes are gathered before one announcement
PRESENCE_SCALE = 1000  # ... times clients / PRESENCE_SCALE in a bigger room
PING = '{"type":"ping"}'  # heartbeat, sent to every client by the hub's timer
PING_EVERY = 20.0

CLOSE_NOT_FOUND = 4404  # unknown convening, or the seat's binding was revoked
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4008  # the client fell too far behind; it reconnects with `since`
CLOSE_GOING_AWAY = 1012  # the server is restarting; reconnect
GONE = -1  # the socket went away: no close frame to send

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]  # an ASGI `send`


def channel_name(convening_id: int) -> str:
    """The broker channel of a convening."""
    return f"convening:{convening_id}"


def run_now(awaitable: Awaitable[Any]) -> Coroutine[Any, Any, None] | None:
    """Run a coroutine as far as it goes without waiting.

    Returns None when it finished (an ASGI `send` whose transport takes the frame does), or
    a coroutine that finishes it when awaited (it waits where the original would have, for
    instance for a paused transport to drain). Raises what the coroutine raised.
    """
    coro = awaitable if isinstance(awaitable, Coroutine) else _wrap(awaitable)
    try:
        waited = coro.send(None)
    except StopIteration:
        return None
    return _finish(coro, waited)


async def _wrap(awaitable: Awaitable[Any]) -> None:
    await awaitable


async def _finish(coro: Coroutine[Any, Any, Any], waited: Any) -> None:
    """Drive a coroutine that `run_now` started, as a task would."""
    try:
        while True:
            if waited is None:  # a bare yield: give the loop one turn
                await asyncio.sleep(0)
            else:
                # As a task does: the future was handed over, so it is no longer "blocking"
                # the coroutine that yielded it; this task waits on it instead.
                waited._asyncio_future_blocking = False
                # The future's outcome is the coroutine's to read when it resumes.
                with contextlib.suppress(Exception):
                    await waited
            try:
                waited = coro.send(None)
            except StopIteration:
                return
    finally:
        coro.close()  # cancelled midway: unwind it too (nothing happens once it finished)


def text_frame(text: str) -> bytes:
    """`text` as one final, unmasked websocket text frame (RFC 6455, 5.2), as a server sends
    it: built once per message and written as is to every socket that can take it."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 1 << 16:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + payload


def raw_socket(receive: Any) -> Any | None:
    """The uvicorn websockets-sansio connection behind an ASGI `receive`, if frames can be
    written to its transport as they are: no extension (compression) was negotiated. Else
    None, and messages go through the ASGI `send`."""
    connection = getattr(receive, "__self__", None)
    if connection is None or not type(connection).__module__.startswith(
        "uvicorn.protocols.websockets.websockets_sansio"
    ):
        return None
    protocol = getattr(connection, "conn", None)
    needed = ("transport", "writable", "close_sent", "disconnected", "handshake_complete")
    if not all(hasattr(connection, name) for name in needed):
        return None
    if not isinstance(protocol, ServerProtocol) or protocol.extensions:
        return None
    return connection


class Client:
    """One connected websocket. The channel sends to it directly; only while its socket is
    full (or while the connection is still sending its snapshot) do messages wait in
    `backlog`, drained in order by whoever is sending."""

    __slots__ = (
        "send",
        "raw",
        "seat_id",
        "channel",
        "last_seq",
        "backlog",
        "backlog_bytes",
        "sender",
        "closing",
    )

    def __init__(self, send: Send, seat_id: int | None = None, raw: Any = None) -> None:
        self.send = send  # the connection's ASGI `send`
        self.raw = raw  # the server's connection, when frames can be written as they are
        self.seat_id = seat_id
        self.channel: Channel | None = None
        self.last_seq = 0  # the last event sent (or being sent)
        # Catching up: the connection drains this once its snapshot or replay is out.
        self.backlog: deque[tuple[int, str]] | None = deque()
        self.backlog_bytes = 0
        self.sender: asyncio.Task[None] | None = None  # drains the backlog of a full socket
        self.closing = 0  # the close code once the client is closed

    @property
    def slow(self) -> bool:
        """Whether messages are waiting for this client."""
        return self.backlog is not None

    def offer(self, seq: int, text: str, frame: bytes | None = None) -> None:
        """Send a message now if the socket takes it, else keep it in the backlog.

        `seq` is the event's sequence number, or 0 for messages outside the log (presence,
        heartbeats); `frame` is `text_frame(text)`, shared by every client. Events already
        sent are skipped."""
        if self.closing:
            return
        backlog = self.backlog
        if backlog is None:
            if seq == 0 or seq == self.last_seq + 1:
                if seq:
                    self.last_seq = seq
                raw = self.raw
                if (
                    raw is not None
                    and frame is not None
                    and raw.writable.is_set()  # the transport is below its high-water mark
                    and raw.handshake_complete
                    and not raw.close_sent
                    and not raw.disconnected
                    and not raw.transport.is_closing()
                ):
                    raw.transport.write(frame)
                    return
                self._write(text)
                return
            if seq <= self.last_seq:
                return
            backlog = self._lag(None)  # a gap: the sender fills it from the log
        backlog.append((seq, text))
        self.backlog_bytes += len(text)
        if len(backlog) > CLIENT_QUEUE or self.backlog_bytes > CLIENT_BACKLOG_BYTES:
            self.close(CLOSE_TOO_SLOW)

    def _write(self, text: str) -> None:
        try:
            rest = run_now(self.send({"type": "websocket.send", "text": text}))
        except Exception:
            self._gone()
            return
        if rest is not None:  # the socket is full: this frame waits for it to drain
            self._lag(rest)

    def _lag(self, rest: Coroutine[Any, Any, None] | None) -> deque[tuple[int, str]]:
        backlog: deque[tuple[int, str]] = deque()
        self.backlog = backlog
        self.backlog_bytes = 0
        self.sender = asyncio.get_running_loop().create_task(self._catch_up(rest))
        return backlog

    async def _catch_up(self, rest: Coroutine[Any, Any, None] | None) -> None:
        try:
            if rest is not None:
                await rest
            await self.drain()
        except Exception:
            self._gone()
        finally:
            self.sender = None

    async def drain(self) -> None:
        """Send what waits, in order (filling a gap from the log), then send directly again;
        or, once closed, send the close frame."""
        while not self.closing:
            backlog = self.backlog
            if not backlog:
                self.backlog = None
                self.backlog_bytes = 0
                return
            seq, text = backlog.popleft()
            self.backlog_bytes -= len(text)
            if seq:
                if seq <= self.last_seq:
                    continue
                if seq > self.last_seq + 1:
                    await self._fill(seq)
                    if self.closing:
                        break
                self.last_seq = seq
            await self.send({"type": "websocket.send", "text": text})
        if self.closing > 0:
            await self.send({"type": "websocket.close", "code": self.closing, "reason": ""})

    async def _fill(self, upto: int) -> None:
        """Send the logged events between the last one sent and `upto` (exclusive)."""
        channel = self.channel
        if channel is None:
            return
        async with channel.hub.reader() as session:
            events = await events_after(
                session, channel.convening_id, self.last_seq, upto - self.last_seq - 1
            )
        for event in events:
            if self.closing:
                return
            await self.send(
                {"type": "websocket.send", "text": json.dumps(event, separators=(",", ":"))}
            )
            self.last_seq = event["seq"]

    def close(self, code: int) -> None:
        """Close the connection with this code, after what its socket already holds. The
        client leaves its channel at once."""
        if self.closing:
            return
        self.closing = code
        if self.channel is not None:
            self.channel.discard(self)
        if self.backlog is not None:
            # Someone is sending (a full socket, or the snapshot): it sends the close frame.
            self.backlog.clear()
            self.backlog_bytes = 0
            return
        try:
            rest = run_now(self.send({"type": "websocket.close", "code": code, "reason": ""}))
        except Exception:
            return
        if rest is not None:
            self.sender = asyncio.get_running_loop().create_task(rest)

    def _gone(self) -> None:
        if not self.closing:
            self.closing = GONE
            if self.channel is not None:
                self.channel.discard(self)
        if self.backlog is not None:
            self.backlog.clear()

    def end(self) -> None:
        """The connection is over: leave the channel, stop sending."""
        self._gone()
        if self.sender is not None and self.sender is not asyncio.current_task():
            self.sender.cancel()
            self.sender = None


@dataclass(eq=False)
class Channel:
    """A convening's subscription in this process and the clients attached to it."""

    hub: "Hub"
    convening_id: int
    last_seq: int = 0
    clients: set[Client] = field(default_factory=set)
    watchers: int = 0  # long polls waiting on the channel
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    pending: dict[int, str] = field(default_factory=dict)
    local_seats: Counter[int] = field(default_factory=Counter)
    pollers: dict[int, float] = field(default_factory=dict)
    linger_task: asyncio.Task[None] | None = None
    announce_task: asyncio.Task[None] | None = None
    node: str = ""  # this process's node id
    sent_presence: list[int] | None = None  # the presence last pushed to clients
    presence_cache: tuple[int, float, str] | None = None  # (version, when, JSON)
    presence_version: int = 0
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
                self.presence_version += 1
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

    def presence_json(self) -> str:
        """`presence()` as JSON, reused by a wave of connections while nothing changed."""
        now = time.monotonic()
        cached = self.presence_cache
        if cached is not None and cached[0] == self.presence_version and now - cached[1] < 1.0:
            return cached[2]
        text = json.dumps(self.presence(), separators=(",", ":"))
        self.presence_cache = (self.presence_version, now, text)
        return text

    def discard(self, client: Client) -> None:
        """A client leaves (closed, or gone); the channel lingers once the last one left."""
        if client not in self.clients:
            return
        self.clients.remove(client)
        client.channel = None
        if client.seat_id is not None:
            self.local_seats[client.seat_id] -= 1
            if self.local_seats[client.seat_id] <= 0:
                del self.local_seats[client.seat_id]
                self.presence_version += 1
                self.hub._announce_soon(self)
        self.hub._release(self)

    async def wait_past(self, seq: int) -> None:
        """Wait until an event after `seq` reached the channel."""
        loop = asyncio.get_running_loop()
        while self.last_seq <= seq:
            waiter: asyncio.Future[None] = loop.create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)


class Hub:
    """Publishes events after commit and fans them out to this process's clients."""

    def __init__(self, broker: Broker, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.broker = broker
        self.sessionmaker = sessionmaker
        self.reader = read_only_sessionmaker(sessionmaker)
        self.node = uuid.uuid4().hex[:12]
        self.channels: dict[int, Channel] = {}
        self._lock = asyncio.Lock()
        self._presence_task: asyncio.Task[None] | None = None
        self._ping_task: asyncio.Task[None] | None = None
        self.published = 0
        self.delivered = 0
        # When this process published each event still on its way, for the fan-out histogram.
        self._published_at: dict[tuple[int, int], float] = {}

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
                client.close(CLOSE_GOING_AWAY)
            await self._close(channel)
        self.channels.clear()
        await self.broker.disconnect()

    # Publishing -----------------------------------------------------------------------

    async def publish(self, convening_id: int, message: dict[str, Any]) -> None:
        """Publish a committed event to every process (this one included)."""
        self.published += 1
        if convening_id in self.channels and message.get("type") == "event":
            if len(self._published_at) > 10_000:  # events whose delivery never came here
                self._published_at.clear()
            self._published_at[(convening_id, int(message["seq"]))] = time.perf_counter()
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
        event: a client attached to the channel receives every later event. Connections
        arriving together wait for one build instead of each reading the database.
        """
        channel = self.channels.get(convening_id)
        if channel is None:
            async with self.reader() as session:
                seq, state = await snapshot_state(session, convening_id)
            return seq, json.dumps(state, separators=(",", ":"))
        async with channel.snapshot_lock:
            cached = channel.snapshot
            if cached is not None and cached[0] >= channel.last_seq:
                return cached
            async with self.reader() as session:
                seq, state = await snapshot_state(session, convening_id)
            channel.snapshot = (seq, json.dumps(state, separators=(",", ":")))
            return channel.snapshot

    def presence_of(self, convening_id: int) -> list[int]:
        """Seats connected to the convening's room, as this process knows it."""
        channel = self.channels.get(convening_id)
        return channel.presence() if channel is not None else []

    # Attaching clients ----------------------------------------------------------------

    async def _open(self, convening_id: int) -> Channel:
        """The convening's channel, subscribed and caught up with the log."""
        async with self._lock:
            channel = self.channels.get(convening_id)
            if channel is None:
                channel = Channel(self, convening_id, node=self.node)
                self.channels[convening_id] = channel
                channel.task = asyncio.create_task(
                    self._run(channel), name=f"channel-{convening_id}"
                )
        await channel.ready.wait()
        if channel.linger_task is not None:
            channel.linger_task.cancel()
            channel.linger_task = None
        return channel

    async def attach(self, convening_id: int, client: Client) -> Channel:
        """Attach a client; once this returns, every later event reaches it (into its
        backlog until the connection calls `client.drain()`)."""
        channel = await self._open(convening_id)
        if client.closing:
            self._release(channel)
            return channel
        channel.clients.add(client)
        client.channel = channel
        if client.seat_id is not None:
            channel.local_seats[client.seat_id] += 1
            if channel.local_seats[client.seat_id] == 1:
                channel.presence_version += 1
                self._announce_soon(channel)
        return channel

    def detach(self, client: Client) -> None:
        """Detach a client (the connection is over); the channel lingers once it is empty."""
        client.end()

    @contextlib.asynccontextmanager
    async def watching(self, convening_id: int) -> AsyncIterator[Channel]:
        """Keep the convening's channel open while a long poll waits on it."""
        channel = await self._open(convening_id)
        channel.watchers += 1
        try:
            yield channel
        finally:
            channel.watchers -= 1
            self._release(channel)

    async def touch(self, convening_id: int, seat_id: int) -> None:
        """Count a polling seat as connected for a while."""
        channel = self.channels.get(convening_id)
        if channel is None:
            return
        new = seat_id not in channel.local_presence()
        channel.pollers[seat_id] = time.monotonic()
        if new:
            channel.presence_version += 1
            self._announce_soon(channel)

    def _release(self, channel: Channel) -> None:
        if (
            not channel.clients
            and not channel.watchers
            and channel.linger_task is None
            and self.channels.get(channel.convening_id) is channel
        ):
            channel.linger_task = asyncio.get_running_loop().create_task(self._linger(channel))

    async def _linger(self, channel: Channel) -> None:
        await asyncio.sleep(LINGER)
        async with self._lock:
            if (
                not channel.clients
                and not channel.watchers
                and self.channels.get(channel.convening_id) is channel
            ):
                del self.channels[channel.convening_id]
                channel.linger_task = None
                await self._announce_gone(channel)
                await self._close(channel)

    async def _close(self, channel: Channel) -> None:
        for task in (channel.gap_task, channel.task, channel.linger_task, channel.announce_task):
            if task is not None and task is not asyncio.current_task():
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
        async with self.reader() as session:
            if not channel.ready.is_set() and channel.last_seq == 0:
                last = (
                    await session.exec(
                        select(Convening.last_seq).where(Convening.id == channel.convening_id)
                    )
                ).first()
                channel.last_seq = int(last or 0)
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
                    client.close(CLOSE_NOT_FOUND)
            return
        if kind == "presence":
            # An announcement carries how far its process's channel is. A process further
            # behind missed an event whose publication failed: it reads it from the log.
            if int(message.get("seq", 0)) > channel.last_seq and (
                channel.gap_task is None or channel.gap_task.done()
            ):
                channel.gap_task = asyncio.create_task(self._catch_up(channel))
            channel.nodes[message["node"]] = (time.monotonic(), frozenset(message["seats"]))
            channel.presence_version += 1
            seats = channel.presence()
            if seats != channel.sent_presence:  # push only what changed
                channel.sent_presence = seats
                presence = json.dumps({"type": "presence", "seats": seats})
                frame = text_frame(presence)
                for client in list(channel.clients):
                    client.offer(0, presence, frame)
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
        """Send an event to every client of the channel, from this task: one frame each."""
        channel.last_seq = seq
        frame = text_frame(text)
        for client in list(channel.clients):
            client.offer(seq, text, frame)
        self.delivered += 1
        waiters, channel.waiters = channel.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        started = self._published_at.pop((channel.convening_id, seq), None)
        if started is not None:
            metrics.fanout_observed(time.perf_counter() - started)

    async def _fill_gap(self, channel: Channel) -> None:
        await asyncio.sleep(GAP_WAIT)
        if channel.pending:
            await self._catch_up(channel)

    # Presence -------------------------------------------------------------------------

    def _announce_soon(self, channel: Channel) -> None:
        """Announce this process's presence shortly: a wave of joins makes one announcement
        (and one push to each client), not one per join."""
        if channel.announce_task is None or channel.announce_task.done():
            channel.announce_task = asyncio.get_running_loop().create_task(
                self._announce_after(channel)
            )

    async def _announce_after(self, channel: Channel) -> None:
        # A push sends the whole list to every client: in a big room, gather for longer.
        await asyncio.sleep(PRESENCE_COALESCE * max(1.0, len(channel.clients) / PRESENCE_SCALE))
        await self._announce(channel)

    async def _announce_gone(self, channel: Channel) -> None:
        channel.local_seats.clear()
        channel.pollers.clear()
        await self._announce(channel)

    async def _announce(self, channel: Channel) -> None:
        local = channel.local_presence()
        message = {
            "type": "presence",
            "node": self.node,
            "seats": sorted(local),
            "seq": channel.last_seq,
        }
        channel.nodes[self.node] = (time.monotonic(), local)
        await self._send(channel.convening_id, json.dumps(message))

    async def _ping_loop(self) -> None:
        """Heartbeats: one timer for every client of this process."""
        while True:
            await asyncio.sleep(PING_EVERY)
            frame = text_frame(PING)
            for channel in list(self.channels.values()):
                for client in list(channel.clients):
                    client.offer(0, PING, frame)

    async def _announce_loop(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_EVERY)
            for channel in list(self.channels.values()):
                await self._announce(channel)
