"""Readers of the report-back: absent seats and people added by email get their own link by
email; they acknowledge, respond to sections and take positions on outcomes; the convener
sees it live, replies, sees the reach by group, and the next version carries the answers in
its annex, named only as the attribution rule allows. The public link is off by default."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from app.db import commit
from app.notify.outbox import OutboxWorker
from app.reports.models import ImmutableVersion, ReaderAnswer
from tests.conftest import BASE_URL, Browser, SeatBrowser, make_settings
from tests.notify.smtp_inbox import HOST, free_port, make_all_due, smtp_server
from tests.reports.report_room import (
    DISSENT_KEPT,
    ReportRoom,
    assert_names_nobody,
    export_text,
    make_report_room,
)

REASON = "Smallholders were not asked about the cost of meters."
SECTION_NOTE = "Our district pumps were left out of this section."


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, smtp_port: int) -> Any:
    return make_settings(database_url, smtp_host=HOST, smtp_port=smtp_port)


@pytest.fixture
async def outbox(app: FastAPI) -> OutboxWorker:
    """The app's outbox worker with its loop stopped: the test runs each pass."""
    worker: OutboxWorker = app.state.outbox
    await worker.stop()
    return worker


async def publish(made: ReportRoom) -> dict[str, Any]:
    room = made.room
    generated = await room["rap"].post(room.url("/report/draft/generate"))
    assert generated.status_code == 200, generated.text
    published = await room.convener.post(room.url("/report/versions"))
    assert published.status_code == 201, published.text
    return dict(published.json())


async def readers(made: ReportRoom) -> list[dict[str, Any]]:
    listed = await made.room.convener.get(made.room.url("/report/readers"))
    assert listed.status_code == 200, listed.text
    return list(listed.json())


async def reader_browser(new_browser: Browser, cid: int, link: str) -> httpx.AsyncClient:
    """A browser holding a reader's link, as the reader page's cookie would."""
    browser = await new_browser()
    browser.cookies.set(f"convene_reader_{cid}", link.rsplit("/", 1)[1])
    return browser


async def test_absent_seats_become_readers_and_get_their_link_when_mail_returns(
    app: FastAPI,
    convener: httpx.AsyncClient,
    seated: SeatBrowser,
    outbox: OutboxWorker,
    smtp_port: int,
    new_browser: Browser,
) -> None:
    made = await make_report_room(convener, seated)
    room = made.room
    added = await room.convener.post(
        room.url("/report/readers"),
        json={"name": "Maria Santos", "email": "maria@basin.example.org"},
    )
    assert added.status_code == 201, added.text
    version = await publish(made)
    assert version["number"] == 1

    rows = {r["name"]: r for r in await readers(made)}
    absent = rows["Chen Wei"]  # seat c was absent; a and b were present
    assert absent["source"] == "absent_seat" and absent["email"] == "chen.wei@example.org"
    assert "Ana Lima" not in rows and "Ben Okoro" not in rows  # they were at the table
    assert rows["Olga Petrova"]["source"] == "absent_seat"  # the observer never came
    assert "Fatou Diallo" not in rows  # the facilitator is not a reader
    assert rows["Maria Santos"]["source"] == "added"
    assert {r["delivery"] for r in rows.values() if r["email"]} == {"queued"}

    # The mail server is down: the emails wait, with the reason shown to the convener.
    assert await outbox.run_once() == 3
    rows = {r["name"]: r for r in await readers(made)}
    assert rows["Chen Wei"]["delivery"] == "retrying" and rows["Chen Wei"]["delivery_error"]

    # Publishing again or sending again does not mail anyone twice for the same version.
    again = await room.convener.post(room.url("/report/readers/send"), json={})
    assert again.status_code == 202 and again.json() == {"queued": 0}

    with smtp_server(smtp_port) as inbox:  # the mail server is back
        await make_all_due(app)
        assert await outbox.run_once() == 3
        mails = {m.rcpt_tos[0]: m for m in inbox.messages}
    assert set(mails) == {
        "chen.wei@example.org",
        "olga.petrova@example.org",
        "maria@basin.example.org",
    }
    mail = mails["chen.wei@example.org"]
    assert "Report-back" in mail.subject
    link = next(word for word in mail.body.split() if "/read/" in word)
    assert link == rows["Chen Wei"]["link"]
    assert {r["delivery"] for r in await readers(made) if r["email"]} == {"sent"}

    # The link opens the report-back for that reader, and only while it is not revoked.
    reader = await reader_browser(new_browser, room.cid, link)
    mine = await reader.get(room.url("/report/mine"))
    assert mine.status_code == 200, mine.text
    assert mine.json()["role"] == "reader" and mine.json()["can_answer"] is True
    revoked = await room.convener.delete(room.url(f"/report/readers/{absent['id']}/link"))
    assert revoked.status_code == 200 and revoked.json()["link"] is None
    assert (await reader.get(room.url("/report/mine"))).status_code == 404
    reissued = await room.convener.post(room.url(f"/report/readers/{absent['id']}/link"))
    assert reissued.status_code == 200 and reissued.json()["link"] != link
    fresh = await reader_browser(new_browser, room.cid, reissued.json()["link"])
    assert (await fresh.get(room.url("/report/mine"))).status_code == 200


async def test_readers_answer_the_convener_replies_and_the_next_version_annexes_it(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, new_browser: Browser
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    version = await publish(made)
    chen = next(r for r in await readers(made) if r["name"] == "Chen Wei")
    reader = await reader_browser(new_browser, room.cid, chen["link"])
    mine = (await reader.get(room.url("/report/mine"))).json()
    assert mine["latest_version"] == 1
    assert [o["id"] for o in mine["outcomes"]] == [made.outcome_id]
    section = next(s for s in mine["sections"] if s != mine["sections"][0])

    since = (await room.convener.get(room.url("/events?since=0&wait=0"))).json()
    last_seq = since["events"][-1]["seq"] if since["events"] else 0

    # Bad answers are refused with the reason and change nothing.
    for body, field in (
        ({"version": 1, "outcome_id": made.outcome_id, "position": "disagree"}, "text"),
        ({"version": 1, "outcome_id": 999_999, "position": "agree"}, "outcome_id"),
        ({"version": 1, "section": "No such heading", "text": "x"}, "section"),
        ({"version": 7, "section": section, "text": "x"}, "version"),
        ({"version": 1, "text": "neither"}, "section"),
    ):
        refused = await reader.post(room.url("/report/answers"), json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["detail"][0]["loc"][-1] == field, refused.text
    assert (await room.convener.get(room.url("/report/answers"))).json() == []

    ack = await reader.post(room.url("/report/acknowledgement"), json={"version": 1})
    assert ack.status_code == 200 and ack.json()["acknowledged_version"] == 1
    position = await reader.post(
        room.url("/report/answers"),
        json={
            "version": 1,
            "outcome_id": made.outcome_id,
            "position": "disagree",
            "text": REASON,
        },
    )
    assert position.status_code == 201, position.text
    response = await reader.post(
        room.url("/report/answers"), json={"version": 1, "section": section, "text": SECTION_NOTE}
    )
    assert response.status_code == 201, response.text

    # The convener's console hears of it live (events carry ids, not text or names).
    events = (await room.convener.get(room.url(f"/events?since={last_seq}&wait=0"))).json()
    kinds = [e["kind"] for e in events["events"]]
    assert kinds.count("report.answered") == 2 and "report.acknowledged" in kinds
    assert REASON not in str(events) and "Chen" not in str(events)

    answers = (await room.convener.get(room.url("/report/answers"))).json()
    assert [a["text"] for a in answers] == [REASON, SECTION_NOTE]
    assert answers[0]["position"] == "disagree" and answers[0]["reader"] == "Chen Wei"
    reply = await room.convener.post(
        room.url(f"/report/answers/{answers[0]['id']}/replies"),
        json={"text": "We will add a meter subsidy to version 2."},
    )
    assert reply.status_code == 201, reply.text
    mine = (await reader.get(room.url("/report/mine"))).json()
    assert mine["answers"][0]["replies"][0]["text"].startswith("We will add a meter subsidy")

    reach = (await room.convener.get(room.url("/report/reach"))).json()
    academia = next(g for g in reach["groups"] if g["group"] == "Academia")
    assert (academia["readers"], academia["read"], academia["acknowledged"]) == (1, 1, 1)
    assert academia["answered"] == 1
    assert reach["total"]["answered"] == 1

    # Other roles may not answer; readers may not manage.
    participant = room["a"]
    refused = await participant.post(room.url("/report/acknowledgement"), json={"version": 1})
    assert refused.status_code == 403
    assert (await reader.get(room.url("/report/answers"))).status_code == 403
    assert (await reader.get(room.url("/report/readers"))).status_code == 403

    # The next version carries every answer and reply in its annex, by group only.
    second = await publish(made)
    assert second["number"] == 2 and version["number"] == 1
    assert "Annex: answers from readers" in second["markdown"]
    assert REASON in second["markdown"] and SECTION_NOTE in second["markdown"]
    assert "A reader from Academia" in second["markdown"]
    assert "meter subsidy" in second["markdown"]
    assert "Annex" in second["diff"]
    assert DISSENT_KEPT in second["markdown"]
    assert_names_nobody(second["markdown"], "version 2")
    for fmt in ("html", "md", "pdf", "docx", "json"):
        exported = await reader.get(room.url(f"/report/versions/2/export.{fmt}"))
        assert exported.status_code == 200, (fmt, exported.text)
        text = export_text(fmt, exported.content)
        assert_names_nobody(text, f"version 2 as {fmt}")
        assert " ".join(REASON.split()[:4]) in " ".join(text.split()), fmt


async def test_attributed_annex_names_the_reader_and_anonymous_names_nobody(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, new_browser: Browser
) -> None:
    for rule, expected in (("attributed", "Chen Wei (Academia)"), ("anonymous", "A reader")):
        made = await make_report_room(convener, seated, rule)
        room = made.room
        await publish(made)
        chen = next(r for r in await readers(made) if r["name"] == "Chen Wei")
        reader = await reader_browser(new_browser, room.cid, chen["link"])
        answered = await reader.post(
            room.url("/report/answers"),
            json={
                "version": 1,
                "outcome_id": made.outcome_id,
                "position": "concern",
                "text": REASON,
            },
        )
        assert answered.status_code == 201, answered.text
        second = await publish(made)
        assert f"**{expected}**" in second["markdown"], rule
        if rule == "anonymous":
            assert_names_nobody(second["markdown"], "anonymous version 2")


async def test_public_link_is_off_by_default_and_names_nobody(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, client: httpx.AsyncClient
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    state = await room.convener.get(room.url("/report/public-link"))
    assert state.json() == {"on": False, "link": None}
    await publish(made)
    switched = await room.convener.put(room.url("/report/public-link"), json={"on": True})
    assert switched.status_code == 200 and switched.json()["on"] is True
    link = switched.json()["link"]
    token = link.rsplit("/", 1)[1]
    public = await client.get(f"/api/public/report/{token}")
    assert public.status_code == 200, public.text
    assert DISSENT_KEPT in public.json()["markdown"]
    assert_names_nobody(public.text, "the public report-back")
    for fmt, url in public.json()["exports"].items():
        exported = await client.get(url)
        assert exported.status_code == 200, (fmt, exported.text)
        assert_names_nobody(export_text(fmt, exported.content), f"public {fmt}")
    # Nobody answers through the public link.
    assert (await client.post(room.url("/report/answers"), json={})).status_code == 404
    off = await room.convener.put(room.url("/report/public-link"), json={"on": False})
    assert off.json() == {"on": False, "link": None}
    assert (await client.get(f"/api/public/report/{token}")).status_code == 404
    assert (await client.get(f"/api/public/report/{'0' * 64}")).status_code == 404


async def test_adding_readers_checks_its_input(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated)
    room = made.room
    body = {"name": "Maria Santos", "email": "maria@basin.example.org"}
    assert (await room.convener.post(room.url("/report/readers"), json=body)).status_code == 201
    twice = await room.convener.post(
        room.url("/report/readers"), json={**body, "email": "MARIA@basin.example.org"}
    )
    assert twice.status_code == 409, twice.text
    for bad in (
        {"name": "", "email": "x@example.org"},
        {"name": "X", "email": "not-an-email"},
        {"name": "X", "email": "x@example.org", "group_id": 999_999},
    ):
        refused = await room.convener.post(room.url("/report/readers"), json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    assert [r["name"] for r in await readers(made)] == ["Maria Santos"]
    nothing = await room.convener.post(room.url("/report/readers/send"), json={})
    assert nothing.status_code == 409  # nothing is published yet


async def test_answers_are_never_edited_or_deleted(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, new_browser: Browser
) -> None:
    made = await make_report_room(convener, seated)
    room = made.room
    await publish(made)
    chen = next(r for r in await readers(made) if r["name"] == "Chen Wei")
    reader = await reader_browser(new_browser, room.cid, chen["link"])
    made_answer = await reader.post(
        room.url("/report/answers"),
        json={"version": 1, "outcome_id": made.outcome_id, "position": "agree"},
    )
    assert made_answer.status_code == 201
    answer_id = made_answer.json()["id"]
    for client in (reader, room.convener):
        for method in ("PUT", "PATCH", "DELETE"):
            tried = await client.request(method, room.url(f"/report/answers/{answer_id}"))
            assert tried.status_code in (404, 405), (method, tried.status_code)
    async with app.state.sessionmaker() as session:
        row = (await session.exec(select(ReaderAnswer))).one()
        row.text = "rewritten"
        session.add(row)
        with pytest.raises(ImmutableVersion):
            await commit(session)
    assert (await room.convener.get(room.url("/report/answers"))).json()[0]["text"] == ""


__all__ = ["BASE_URL"]


async def test_a_participant_list_is_published_apart_for_identification_only(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, new_browser: Browser
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    generated = await room["rap"].post(room.url("/report/draft/generate"))
    assert generated.status_code == 200, generated.text
    without = await room.convener.post(room.url("/report/versions"), json={})
    assert without.status_code == 201 and without.json()["participants"] == {}
    assert (
        await room.convener.get(room.url("/report/versions/1/participants.json"))
    ).status_code == 404

    version = await room.convener.post(
        room.url("/report/versions"), json={"participant_list": True}
    )
    assert version.status_code == 201, version.text
    links = version.json()["participants"]
    assert set(links) == {"html", "csv", "json"}
    chen = next(r for r in await readers(made) if r["name"] == "Chen Wei")
    reader = await reader_browser(new_browser, room.cid, chen["link"])
    listed = await reader.get(links["json"])
    assert listed.status_code == 200, listed.text
    names = {p["name"]: p for p in listed.json()["participants"]}
    # Those at the table, named, with their affiliation; the absent seat is not on it.
    assert names["Ana Lima"]["affiliation"] == "Ministry of Water Resources"
    assert "Ben Okoro" in names and "Chen Wei" not in names
    assert "identification only" in listed.json()["note"]
    for fmt in ("html", "csv"):
        page = await reader.get(links[fmt])
        assert page.status_code == 200 and "Ana Lima" in page.content.decode("utf-8-sig")
    # The report-back itself, and every export of it, still names nobody.
    assert_names_nobody(version.json()["markdown"], "version 2")
    for fmt, url in version.json()["exports"].items():
        exported = await reader.get(url)
        assert exported.status_code == 200, (fmt, exported.text)
        assert_names_nobody(export_text(fmt, exported.content), f"version 2 as {fmt}")


async def test_no_participant_list_under_the_anonymous_rule(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated, "anonymous")
    room = made.room
    generated = await room["rap"].post(room.url("/report/draft/generate"))
    assert generated.status_code == 200, generated.text
    refused = await room.convener.post(
        room.url("/report/versions"), json={"participant_list": True}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"][-1] == "participant_list"
    assert (await room.convener.get(room.url("/report/versions"))).json() == []
