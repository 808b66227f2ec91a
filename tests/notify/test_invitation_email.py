"""Invitations by email, end to end, through a real SMTP server on 127.0.0.1.

The app is built with `smtp_host`/`smtp_port` pointing at the test server; its outbox
worker's background loop is stopped so that each test decides when the worker runs.
"""

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.config import Settings
from app.models import metadata
from app.notify.outbox import OutboxWorker
from tests.conftest import BASE_URL, Browser, SeatBrowser, make_settings
from tests.notify.smtp_inbox import (
    HOST,
    Inbox,
    add_seat,
    invitation_rows,
    outbox_rows,
    send,
)


@pytest.fixture
def settings(database_url: str, inbox: Inbox) -> Settings:
    return make_settings(database_url, smtp_host=HOST, smtp_port=inbox.port)


@pytest.fixture
async def outbox(app: FastAPI) -> OutboxWorker:
    """The app's own outbox worker, its background loop stopped: the test runs each pass."""
    worker: OutboxWorker = app.state.outbox
    await worker.stop()
    return worker


async def redeem(browser: httpx.AsyncClient, token: str) -> httpx.Response:
    return await browser.post(
        "/api/invitations/redeem", json={"token": token, "accept_ground_rules": True}
    )


async def test_an_emailed_invitation_arrives_and_its_link_seats_the_browser(
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
    new_browser: Browser,
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Amina Wanjiru", "amina@example.org")

    queued = await send(convener, cid, seat["id"])
    assert queued["delivery"] == "queued"
    assert queued["delivery_attempts"] == 0
    assert inbox.messages == []  # queued, not sent in the request

    assert await outbox.run_once() == 1
    [mail] = inbox.messages
    assert mail.rcpt_tos == ["amina@example.org"]
    assert mail.email["To"] == "amina@example.org"
    assert convening["title"] in mail.subject
    assert "Dear Amina Wanjiru" in mail.body
    assert "Chatham House" in mail.body  # the ground rules travel with the invitation
    assert mail.link.startswith(f"{BASE_URL}/join/")
    assert mail.link == queued["link"]  # the link mailed is the one the convener sees

    row = (await invitation_rows(convener, cid))[seat["id"]]
    assert row["delivery"] == "sent"
    assert row["delivery_attempts"] == 1
    assert row["delivery_error"] == ""

    assert await outbox.run_once() == 0  # sent once, never again
    assert len(inbox.messages) == 1

    browser = await new_browser()
    page = await browser.get(urlsplit(mail.link).path)  # the invitee opens the link
    assert page.status_code == 200, page.text
    assert "Amina Wanjiru" in page.text
    landing = await browser.get(f"/api/invitations/{mail.token}")
    assert landing.status_code == 200, landing.text
    assert landing.json()["holder_name"] == "Amina Wanjiru"
    assert landing.json()["convening_title"] == convening["title"]
    redeemed = await redeem(browser, mail.token)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["bound_here"] is True
    assert (await browser.get(f"/api/convenings/{cid}")).status_code == 200  # seated
    assert (await invitation_rows(convener, cid))[seat["id"]]["state"] == "redeemed"


async def test_the_email_reads_well_in_any_language(
    convener: httpx.AsyncClient, outbox: OutboxWorker, inbox: Inbox, new_browser: Browser
) -> None:
    title = "Table ronde sur le bassin du fleuve Sénégal — saison sèche"
    created = await convener.post(
        "/api/convenings",
        json={
            "title": title,
            "purpose": "Partager l'eau.",
            "purpose_type": "problem_solving",
            "attribution": "attributed",
            "language": "fr",
        },
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    seat = await add_seat(convener, cid, "Aïssatou Ndiaye-Sørensen", "aissatou@example.org")
    await send(convener, cid, seat["id"])
    assert await outbox.run_once() == 1
    [mail] = inbox.messages
    # A French convening's invitation comes in French, names and title exactly as written.
    assert mail.subject == f"Votre siège à « {title} »"
    assert "Aïssatou Ndiaye-Sørensen" in mail.body.splitlines()[0]
    assert "Ouvrez votre lien personnel" in mail.body
    assert "Cette réunion est publique" in mail.body  # the attribution rule, in French
    assert "Dear" not in mail.body and "Ground rules" not in mail.body
    redeemed = await redeem(await new_browser(), mail.token)
    assert redeemed.status_code == 200, redeemed.text


async def test_a_reissued_link_cancels_the_email_carrying_the_old_one(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
    new_browser: Browser,
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Tomas Varga", "tomas@example.org")
    old_link = (await send(convener, cid, seat["id"]))["link"]
    reissued = await convener.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation")
    assert reissued.status_code == 201, reissued.text
    assert reissued.json()["link"] != old_link

    assert await outbox.run_once() == 1
    assert inbox.messages == []  # no dead link goes out
    [message] = await outbox_rows(app)
    assert message.state == "cancelled"
    assert message.attempts == 0
    assert message.last_error  # says why

    # Sending again mails the new link, which works; the old one does not.
    await send(convener, cid, seat["id"])
    assert await outbox.run_once() == 1
    [mail] = inbox.messages
    assert mail.link == reissued.json()["link"]
    browser = await new_browser()
    assert (await redeem(browser, old_link.rsplit("/", 1)[1])).status_code == 410
    assert (await redeem(browser, mail.token)).status_code == 200


async def test_send_all_mails_each_seat_with_an_address_and_no_working_link_out(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
    seated: SeatBrowser,
) -> None:
    cid = convening["id"]
    fresh = await add_seat(convener, cid, "Fresh Seat", "fresh@example.org")
    no_email = await add_seat(convener, cid, "No Email", None)
    already_sent = await add_seat(convener, cid, "Already Sent", "sent@example.org")
    await send(convener, cid, already_sent["id"])
    cancelled = await add_seat(convener, cid, "Link Replaced", "replaced@example.org")
    await send(convener, cid, cancelled["id"])
    await convener.post(f"/api/convenings/{cid}/seats/{cancelled['id']}/invitation")
    _, seated_seat = await seated(cid, "participant", email="seated@example.org")
    assert await outbox.run_once() == 2  # one sent, one cancelled
    assert [m.rcpt_tos for m in inbox.messages] == [["sent@example.org"]]

    response = await convener.post(f"/api/convenings/{cid}/invitations/send")
    assert response.status_code == 202, response.text
    rows = {row["seat_id"]: row for row in response.json()}
    assert rows[fresh["id"]]["delivery"] == "queued"
    assert rows[cancelled["id"]]["delivery"] == "queued"
    assert rows[no_email["id"]]["delivery"] is None
    assert rows[already_sent["id"]]["delivery"] == "sent"
    assert rows[seated_seat["id"]]["state"] == "redeemed"
    assert rows[seated_seat["id"]]["delivery"] is None

    # Asking twice queues nothing more.
    again = await convener.post(f"/api/convenings/{cid}/invitations/send")
    assert again.status_code == 202, again.text
    assert len([m for m in await outbox_rows(app) if m.state == "queued"]) == 2

    assert await outbox.run_once() == 2
    assert sorted(a for m in inbox.messages[1:] for a in m.rcpt_tos) == [
        "fresh@example.org",
        "replaced@example.org",
    ]
    rows = await invitation_rows(convener, cid)
    for seat_id in (fresh["id"], cancelled["id"], already_sent["id"]):
        assert rows[seat_id]["delivery"] == "sent"
        assert rows[seat_id]["delivery_attempts"] == 1
    assert len(inbox.to("sent@example.org")) == 1  # not mailed twice


async def test_a_seat_without_an_email_address_cannot_be_mailed(
    app: FastAPI, convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Walk-in Guest", None)
    response = await convener.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation/send")
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "email"]
    assert await outbox_rows(app) == []
    assert (await invitation_rows(convener, cid))[seat["id"]]["state"] == "none"


async def test_resending_a_pending_invitation_mails_it_once(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Impatient Convener's Guest", "guest@example.org")
    await send(convener, cid, seat["id"])
    await send(convener, cid, seat["id"])  # a second click before the first went out
    await outbox.run_once()
    assert len(inbox.to("guest@example.org")) == 1
    await send(convener, cid, seat["id"])  # after it went out: an explicit resend
    await outbox.run_once()
    [first, second] = inbox.to("guest@example.org")
    assert first.link == second.link


async def test_an_address_corrected_before_sending_is_the_one_mailed(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Jon Typo", "jon@exmaple.org")
    gone = await add_seat(convener, cid, "Left Org", "left@example.org")
    await send(convener, cid, seat["id"])
    await send(convener, cid, gone["id"])
    for seat_id, email in ((seat["id"], "jon@example.org"), (gone["id"], None)):
        fixed = await convener.patch(
            f"/api/convenings/{cid}/seats/{seat_id}", json={"email": email}
        )
        assert fixed.status_code == 200, fixed.text
    assert await outbox.run_once() == 2
    assert [m.rcpt_tos for m in inbox.messages] == [["jon@example.org"]]
    rows = await invitation_rows(convener, cid)
    assert rows[seat["id"]]["delivery"] == "sent"
    assert rows[gone["id"]]["delivery"] == "cancelled"


async def test_the_link_token_is_not_stored_at_rest(
    app: FastAPI,
    convener: httpx.AsyncClient,
    convening: dict[str, Any],
    outbox: OutboxWorker,
    inbox: Inbox,
) -> None:
    cid = convening["id"]
    seat = await add_seat(convener, cid, "Kwame Mensah", "kwame@example.org")
    await send(convener, cid, seat["id"])
    token = (await invitation_rows(convener, cid))[seat["id"]]["link"].rsplit("/", 1)[1]

    async def rows_mentioning_token() -> list[str]:
        found = []
        async with app.state.engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in (await connection.execute(select(table))).all():
                    if token in str(tuple(row)):
                        found.append(f"{table.name}: {tuple(row)}")
        return found

    scanned = {table.name for table in metadata.sorted_tables}
    assert {"outbox_message", "invitation"} <= scanned
    assert await rows_mentioning_token() == []  # queued
    assert await outbox.run_once() == 1
    [mail] = inbox.messages
    assert mail.token == token
    assert await rows_mentioning_token() == []  # sent
    assert urlsplit(mail.link).path == f"/join/{token}"
