"""Brokers carry published messages between app processes: in memory, or through Redis.

The shape follows encode/broadcaster: `publish(channel, message)`, and `subscribe(channel)`
as an async context manager that is subscribed once entered and yields messages when
iterated. The hub holds one subscription per process per convening and fans out itself.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol, Self

log = logging.getLogger("convene.broker")


class Subscription(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def __aiter__(self) -> AsyncIterator[str]: ...


class Broker(Protocol):
    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> Subscription: ...


class _MemorySubscription:
    def __init__(self, broker: "MemoryBroker", channel: str) -> None:
        self._broker = broker
        self._channel = channel
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    async def __aenter__(self) -> Self:
        self._broker._subscribers[self._channel].add(self._queue)
        return self

    async def __aexit__(self, *exc: object) -> None:
        queues = self._broker._subscribers.get(self._channel)
        if queues is not None:
            queues.discard(self._queue)
            if not queues:
                del self._broker._subscribers[self._channel]

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            yield await self._queue.get()


class MemoryBroker:
    """One process: subscribers are queues in this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def connect(self) -> None:
        """Nothing to connect to."""

    async def disconnect(self) -> None:
        """Nothing to release."""

    async def publish(self, channel: str, message: str) -> None:
        """Hand the message to every subscriber of the channel in this process."""
        for queue in list(self._subscribers.get(channel, ())):
            queue.put_nowait(message)

    def subscribe(self, channel: str) -> _MemorySubscription:
        """A subscription to the channel (subscribed once entered)."""
        return _MemorySubscription(self, channel)


class _RedisSubscription:
    def __init__(self, broker: "RedisBroker", channel: str) -> None:
        self._pubsub = broker.redis.pubsub(ignore_subscribe_messages=True)
        self._channel = channel

    async def __aenter__(self) -> Self:
        await self._pubsub.subscribe(self._channel)
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.unsubscribe(self._channel)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
            if message is not None and message.get("type") == "message":
                yield message["data"]


class RedisBroker:
    """Several processes: Redis pub/sub."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        # Explicit timeouts (redis-py before 8.0 had none): a Redis that stops answering
        # slows publishing and subscribing down, it never holds them.
        self.redis = redis.from_url(
            url,
            decode_responses=True,
            health_check_interval=15,
            socket_timeout=5,
            socket_connect_timeout=5,
        )

    async def connect(self) -> None:
        """Check that Redis answers; if not, the app still serves (clients catch up by replay)."""
        try:
            await self.redis.ping()
        except Exception as error:
            log.warning("redis broker unreachable at start: %s", error)

    async def disconnect(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()

    async def publish(self, channel: str, message: str) -> None:
        """Publish to every process subscribed to the channel. A pooled connection that broke
        meanwhile (Redis restarted) fails once: the command is sent again on a new one."""
        from redis.exceptions import ConnectionError as RedisConnectionError

        try:
            await self.redis.publish(channel, message)
        except RedisConnectionError:
            await self.redis.publish(channel, message)

    def subscribe(self, channel: str) -> _RedisSubscription:
        """A subscription to the channel (subscribed once entered)."""
        return _RedisSubscription(self, channel)


def make_broker(url: str) -> Broker:
    """The broker a BROKER_URL names."""
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"unsupported BROKER_URL: {url}")
