"""A real SMTP server for the notify tests, and the API steps those tests share.

`Inbox` is an aiosmtpd handler served by aiosmtpd's `Controller` on 127.0.0.1: the app's
outbox worker talks real SMTP to it over a real socket, and the tests read what arrived.
"""

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select

from app.db import utcnow
from app.notify.models import OutboxMessage

HOST = "127.0.0.1"
WAIT_SECONDS = 10.0
LINK = re.compile(r"(https?://\S+/join/([0-9A-Za-z_-]+))")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    email: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.email["Subject"])

    @property
    def body(self) -> str:
        part = self.email.get_body(preferencelist=("plain",))
        assert part is not None, self.email
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def link(self) -> str:
        found = LINK.search(self.body)
        assert found, self.body
        return found.group(1)

    @property
    def token(self) -> str:
        """The last path segment of the link, as the join page would send it."""
        return self.link.rstrip("/").rsplit("/", 1)[1]


class Inbox:
    """aiosmtpd handler that keeps every message it accepts (thread-safe)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._arrived = threading.Condition()
        self._messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        email = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(email, EmailMessage)
        with self._arrived:
            self._messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), email))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[Received]:
        with self._arrived:
            return list(self._messages)

    def to(self, address: str) -> list[Received]:
        """The messages delivered to this address."""
        return [m for m in self.messages if address in m.rcpt_tos]

    def _wait(self, count: int, within: float) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._messages) >= count, within)

    async def wait_for(self, count: int, within: float = WAIT_SECONDS) -> list[Received]:
        """Wait (at most `within` seconds) until at least `count` messages have arrived."""
        arrived = await asyncio.to_thread(self._wait, count, within)
        assert arrived, f"{len(self.messages)} of {count} messages arrived in {within} s"
        return self.messages


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[Inbox]:
    """Serve an Inbox over SMTP on 127.0.0.1 (a free port unless one is given)."""
    inbox = Inbox(port or free_port())
    controller = Controller(inbox, hostname=HOST, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


# API steps ------------------------------------------------------------------------------


async def add_seat(
    convener: httpx.AsyncClient, convening_id: int, holder_name: str, email: str | None
) -> dict[str, Any]:
    """The convener adds a participant seat (with or without an email address)."""
    body: dict[str, Any] = {"role": "participant", "holder_name": holder_name}
    if email is not None:
        body["email"] = email
    response = await convener.post(f"/api/convenings/{convening_id}/seats", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def send(convener: httpx.AsyncClient, convening_id: int, seat_id: int) -> dict[str, Any]:
    """The convener emails a seat its invitation."""
    response = await convener.post(
        f"/api/convenings/{convening_id}/seats/{seat_id}/invitation/send"
    )
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


async def invitation_rows(convener: httpx.AsyncClient, convening_id: int) -> dict[int, Any]:
    """The convener's invitations list, by seat id."""
    response = await convener.get(f"/api/convenings/{convening_id}/invitations")
    assert response.status_code == 200, response.text
    return {row["seat_id"]: row for row in response.json()}


async def outbox_rows(app: FastAPI) -> list[OutboxMessage]:
    """Every outbox message as stored, oldest first."""
    async with app.state.sessionmaker() as session:
        result = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        return list(result.all())


async def make_all_due(app: FastAPI) -> None:
    """Bring every pending retry forward, as if its backoff had elapsed."""
    async with app.state.sessionmaker() as session:
        await session.exec(
            update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
