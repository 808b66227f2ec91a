"""When the mail server is down, an invitation email waits in the outbox and goes out later.

The app's SMTP settings point at a port on 127.0.0.1 where nothing listens; the test then
starts a real SMTP server on that very port and the retry gets through.
"""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import utcnow
from app.notify.outbox import OutboxWorker, backoff_seconds
from tests.conftest import Browser, make_settings
from tests.notify.smtp_inbox import (
    HOST,
    add_seat,
    free_port,
    invitation_rows,
    make_all_due,
    outbox_rows,
    send,
    smtp_server,
)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Settings:
    return make_settings(database_url, smtp_host=HOST, smtp_port=smtp_port)


@pytest.fixture
async def outbox(app: FastAPI) -> OutboxWorker:
    """The app's own outbox worker, its background loop stopped: the test runs each pass."""
    worker: OutboxWorker = app.state.outbox
    await worker.stop()
    return worker


async def test_a_failed_send_is_kept_and_retried_until_it_arrives(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    smtp_port: int,
    new_browser: Browser,
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Nadia Haddad", "nadia@example.org")
    await send(convener, cid, seat["id"])

    failed_at = utcnow()
    assert await outbox.run_once() == 1
    row = (await invitation_rows(convener, cid))[seat["id"]]
    assert row["delivery"] == "retrying"
    assert row["delivery_attempts"] == 1
    assert row["delivery_error"]  # the convener can see why
    [message] = await outbox_rows(app)
    assert message.next_attempt_at >= failed_at + timedelta(seconds=5)  # backs off

    with smtp_server(smtp_port) as inbox:  # the mail server is back
        await make_all_due(app)  # as if the backoff had elapsed
        assert await outbox.run_once() == 1
        [mail] = inbox.messages
    assert mail.rcpt_tos == ["nadia@example.org"]
    assert convening["title"] in mail.subject

    row = (await invitation_rows(convener, cid))[seat["id"]]
    assert row["delivery"] == "sent"
    assert row["delivery_attempts"] == 2
    assert row["delivery_error"] == ""
    redeemed = await new_browser()
    response = await redeemed.post(
        "/api/invitations/redeem", json={"token": mail.token, "accept_ground_rules": True}
    )
    assert response.status_code == 200, response.text


async def test_retries_back_off_and_never_give_up(
    app: FastAPI, convener: httpx.AsyncClient, convening: dict[str, Any], outbox: OutboxWorker
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Li Wei", "li.wei@example.org")
    await send(convener, cid, seat["id"])
    delays = []
    for _ in range(4):
        await make_all_due(app)
        failed_at = utcnow()
        assert await outbox.run_once() == 1
        [message] = await outbox_rows(app)
        delays.append((message.next_attempt_at - failed_at).total_seconds())
    for delay, backoff in zip(delays, [5, 10, 20, 40], strict=True):
        assert delay >= backoff
    assert backoff_seconds(30, outbox.settings) == outbox.settings.outbox_max_backoff_seconds
    row = (await invitation_rows(convener, cid))[seat["id"]]
    assert row["delivery"] == "retrying"
    assert row["delivery_attempts"] == 4


async def test_a_resend_while_retrying_goes_out_now_and_only_once(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    smtp_port: int,
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Olu Adeyemi", "olu@example.org")
    await send(convener, cid, seat["id"])
    assert await outbox.run_once() == 1  # fails: the server is down
    with smtp_server(smtp_port) as inbox:
        resent = await send(convener, cid, seat["id"])  # the convener tries again
        assert resent["delivery"] == "retrying"
        assert await outbox.run_once() == 1  # due at once, no need to wait for the backoff
        await make_all_due(app)
        assert await outbox.run_once() == 0  # nothing else was queued
        assert len(inbox.messages) == 1
    row = (await invitation_rows(convener, cid))[seat["id"]]
    assert row["delivery"] == "sent"
    assert row["delivery_attempts"] == 2
