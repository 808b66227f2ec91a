"""The outbox worker on its own: the background loop, and several workers at once.

Every email goes to a real SMTP server on 127.0.0.1. Several workers share one database
(as several app processes would): each message must arrive exactly once.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db import utcnow
from app.notify.models import OutboxMessage
from app.notify.outbox import OutboxWorker
from tests.conftest import make_settings
from tests.notify.smtp_inbox import (
    HOST,
    WAIT_SECONDS,
    Inbox,
    add_seat,
    invitation_rows,
    outbox_rows,
    send,
)


@pytest.fixture
def poll_seconds() -> float:
    return 0.2


@pytest.fixture
def settings(database_url: str, inbox: Inbox, poll_seconds: float) -> Settings:
    return make_settings(
        database_url, smtp_host=HOST, smtp_port=inbox.port, outbox_poll_seconds=poll_seconds
    )


@pytest.fixture
async def outbox(app: FastAPI) -> OutboxWorker:
    """The app's own outbox worker, its background loop stopped: the test runs each pass."""
    worker: OutboxWorker = app.state.outbox
    await worker.stop()
    return worker


async def eventually(check: Callable[[], Awaitable[bool]], within: float = WAIT_SECONDS) -> None:
    """Wait (at most `within` seconds) until `check` holds."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"not so after {within} s"
        await asyncio.sleep(0.05)


async def delivery_of(convener: httpx.AsyncClient, cid: int, seat_id: int) -> dict[str, Any]:
    return (await invitation_rows(convener, cid))[seat_id]  # type: ignore[no-any-return]


# The background loop ----------------------------------------------------------------------


async def test_the_running_app_delivers_what_the_convener_sends(
    app: FastAPI, convener: httpx.AsyncClient, convening: dict[str, Any], inbox: Inbox
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Sofia Marin", "sofia@example.org")
    await send(convener, cid, seat["id"])
    [mail] = await inbox.wait_for(1)
    assert mail.rcpt_tos == ["sofia@example.org"]
    assert convening["title"] in mail.subject

    async def shows_sent() -> bool:
        return (await delivery_of(convener, cid, seat["id"]))["delivery"] == "sent"

    await eventually(shows_sent)
    assert (await delivery_of(convener, cid, seat["id"]))["delivery_attempts"] == 1


@pytest.mark.parametrize("poll_seconds", [3600.0])
async def test_a_send_wakes_the_worker_without_waiting_for_the_next_poll(
    app: FastAPI, convener: httpx.AsyncClient, convening: dict[str, Any], inbox: Inbox
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Rahul Iyer", "rahul@example.org")
    await send(convener, cid, seat["id"])
    [mail] = await inbox.wait_for(1)
    assert mail.rcpt_tos == ["rahul@example.org"]


async def test_the_loop_finds_a_retry_that_falls_due_on_its_own(
    app: FastAPI, convener: httpx.AsyncClient, convening: dict[str, Any], inbox: Inbox
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Ana Souza", "ana@example.org")
    await send(convener, cid, seat["id"])
    await inbox.wait_for(1)

    async def shows_sent() -> bool:
        return (await delivery_of(convener, cid, seat["id"]))["delivery"] == "sent"

    await eventually(shows_sent)
    # A retry whose backoff runs out wakes nobody: only the poll finds it.
    async with app.state.sessionmaker() as session:
        await session.exec(update(OutboxMessage).values(state="retrying", next_attempt_at=utcnow()))
        await session.commit()
    await inbox.wait_for(2)
    assert [m.rcpt_tos for m in inbox.messages] == [["ana@example.org"]] * 2


# Several workers ------------------------------------------------------------------------


async def queue_invitations(convener: httpx.AsyncClient, cid: int, count: int) -> list[str]:
    addresses = [f"holder{n}@example.org" for n in range(count)]
    for n, address in enumerate(addresses):
        await add_seat(convener, cid, f"Holder {n}", address)
    response = await convener.post(f"/api/convenings/{cid}/invitations/send")
    assert response.status_code == 202, response.text
    return addresses


async def test_two_workers_at_once_deliver_each_message_exactly_once(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
    settings: Settings,
) -> None:
    cid = convening["id"]
    addresses = await queue_invitations(convener, cid, 12)
    first = OutboxWorker(app.state.sessionmaker, settings)
    second = OutboxWorker(app.state.sessionmaker, settings)

    tried = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(tried) == len(addresses)
    assert await asyncio.gather(first.run_once(), second.run_once()) == [0, 0]

    assert sorted(a for m in inbox.messages for a in m.rcpt_tos) == sorted(addresses)
    assert len(inbox.messages) == len(addresses)
    rows = (await invitation_rows(convener, cid)).values()
    assert [(r["delivery"], r["delivery_attempts"]) for r in rows] == [("sent", 1)] * len(addresses)


class Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def all(self) -> list[Any]:
        return self.rows


class StaleFirstRead:
    """A sessionmaker whose first session answers its first query with rows read earlier.

    The worker's first query is its look for due mail: this is a worker that read the
    outbox, then lost the processor while another worker sent what it had read.
    """

    def __init__(self, maker: async_sessionmaker[AsyncSession], rows: list[Any]) -> None:
        self.maker = maker
        self.rows = rows
        self.armed = True

    def __call__(self) -> AsyncSession:
        session = self.maker()
        if self.armed:
            self.armed = False
            original = session.exec

            async def stale_exec(*args: Any, **kwargs: Any) -> Any:
                session.exec = original  # type: ignore[method-assign]
                return Rows(self.rows)

            session.exec = stale_exec  # type: ignore[method-assign]
        return session


async def test_a_worker_that_saw_a_message_due_does_not_send_it_after_another_did(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
    settings: Settings,
) -> None:
    cid = convening["id"]
    [address] = await queue_invitations(convener, cid, 1)
    seen_due = [message.id for message in await outbox_rows(app)]  # the slow worker's read
    slow = OutboxWorker(StaleFirstRead(app.state.sessionmaker, seen_due), settings)  # type: ignore[arg-type]

    assert await outbox.run_once() == 1  # another worker sends it meanwhile
    assert await slow.run_once() == 0  # the slow one claims nothing
    assert [m.rcpt_tos for m in inbox.messages] == [[address]]
    [message] = await outbox_rows(app)
    assert (message.state, message.attempts) == ("sent", 1)


async def test_a_message_held_by_a_worker_that_died_is_sent_once_its_lease_runs_out(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
) -> None:
    cid = convening["id"]
    [address] = await queue_invitations(convener, cid, 1)

    async def held_until(until: Any) -> None:
        async with app.state.sessionmaker() as session:
            await session.exec(update(OutboxMessage).values(state="sending", claimed_until=until))
            await session.commit()

    await held_until(utcnow() + timedelta(minutes=1))  # another worker is sending it
    assert await outbox.run_once() == 0
    assert inbox.messages == []
    await held_until(utcnow() - timedelta(seconds=1))  # ... and died doing so
    assert await outbox.run_once() == 1
    assert [m.rcpt_tos for m in inbox.messages] == [[address]]
    [message] = await outbox_rows(app)
    assert message.state == "sent"
