"""Bad input to the record and commitments: a clear 4xx, and nothing changed (every record
table, the event log and the convening row are compared before and after)."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.commitments.record_room import (
    Room,
    commitment_body,
    make_room,
    table_check,
    table_dump,
)
from tests.conftest import SeatBrowser

LONG = "x" * 5_001  # over every free-text limit of the record (5,000)


@pytest.fixture
async def room(convener: httpx.AsyncClient, seated: SeatBrowser) -> Room:
    return await make_room(convener, seated, "attributed")


async def refused(
    app: FastAPI,
    room: Room,
    key: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str | None = None,
) -> None:
    """The request is refused with `status` (naming `field` on a 422) and changes nothing."""
    before = await table_dump(app, room.cid)
    browser = room.convener if key == "convener" else room[key]
    response = await browser.request(method, room.url(path), json=body)
    assert response.status_code == status, (method, path, body, response.text)
    detail = response.json()["detail"]
    assert detail, response.text
    if field is not None:
        assert any(error["loc"][-1] == field for error in detail), (path, body, detail)
    elif status != 422:
        assert isinstance(detail, str) and len(detail) > 10, detail  # said in plain words
    assert await table_dump(app, room.cid) == before, (method, path, body)


async def test_answering_a_closed_check(app: FastAPI, room: Room) -> None:
    check_id = await table_check(room)
    await room["a"].put(room.url(f"/checks/{check_id}/answer"), json={"answer": "agree"})
    closed = await room["fac"].post(room.url(f"/checks/{check_id}/close"), json={})
    assert closed.status_code == 200
    path = f"/checks/{check_id}/answer"
    await refused(app, room, "a", "PUT", path, {"answer": "block", "reason": "Late."}, 409)
    await refused(app, room, "b", "PUT", path, {"answer": "agree"}, 409)
    await refused(app, room, "fac", "POST", f"/checks/{check_id}/close", {}, 409)
    await refused(app, room, "a", "PUT", "/checks/999999/answer", {"answer": "agree"}, 404)


async def test_answering_twice_under_anonymous(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    room = await make_room(convener, seated, "anonymous", people=("fac", "rap", "a"))
    check_id = await table_check(room)
    path = f"/checks/{check_id}/answer"
    first = await room["a"].put(room.url(path), json={"answer": "agree"})
    assert first.status_code == 200
    await refused(app, room, "a", "PUT", path, {"answer": "agree"}, 409)
    await refused(app, room, "a", "PUT", path, {"answer": "block", "reason": "No."}, 409)


REASON_REQUIRED = ("agree_with_reservations", "stand_aside", "disagree", "block")


async def test_answers_that_need_a_reason_and_answers_that_do_not_exist(
    app: FastAPI, room: Room
) -> None:
    check_id = await table_check(room)
    path = f"/checks/{check_id}/answer"
    for value in REASON_REQUIRED:
        for body in (
            {"answer": value},
            {"answer": value, "reason": ""},
            {"answer": value, "reason": "  \n "},
        ):
            await refused(app, room, "a", "PUT", path, body, 422, "reason")
    for unknown in ("maybe", "", "ENDORSE", "consensus", None, 3):
        await refused(app, room, "a", "PUT", path, {"answer": unknown}, 422, "answer")
    await refused(app, room, "a", "PUT", path, {}, 422, "answer")
    await refused(app, room, "a", "PUT", path, {"answer": "agree", "seat_id": 1}, 422, "seat_id")
    await refused(app, room, "a", "PUT", path, {"answer": "block", "reason": LONG}, 422, "reason")
    # The reason alone is enough where it is needed; none is needed for plain agreement.
    for value in ("endorse", "agree"):
        ok = await room["a"].put(room.url(path), json={"answer": value})
        assert ok.status_code == 200, ok.text
    for value in REASON_REQUIRED:
        ok = await room["a"].put(room.url(path), json={"answer": value, "reason": "Because."})
        assert ok.status_code == 200, ok.text


async def test_dissent_needs_a_reason_and_a_target_in_this_convening(
    app: FastAPI, room: Room, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    # A second live convening, with one of every kind of target.
    there = await make_room(convener, seated, "attributed", people=("fac", "rap", "a"))
    said = await there["a"].post(
        there.url("/contributions"), json={"item_id": there.item["id"], "text": "Elsewhere."}
    )
    check_there = await table_check(there)
    outcome_there = await there["fac"].post(there.url(f"/checks/{check_there}/close"), json={})
    foreign = {
        "item": there.item["id"],
        "contribution": said.json()["id"],
        "proposal": check_there,
        "outcome": outcome_there.json()["id"],
    }
    # ... and the same kinds here, so that each id refused is a real row, just not ours.
    check_here = await table_check(room)
    target = {"target": "proposal", "target_id": check_here}
    for body in (
        target,
        {**target, "reason": ""},
        {**target, "reason": "   "},
        {**target, "reason": LONG},
    ):
        await refused(app, room, "b", "POST", "/dissents", body, 422, "reason")
    for kind, target_id in foreign.items():
        body = {"target": kind, "target_id": target_id, "reason": "Not ours to judge."}
        await refused(app, room, "b", "POST", "/dissents", body, 422, "target_id")
        body = {"target": kind, "target_id": 987_654, "reason": "Nothing there."}
        await refused(app, room, "b", "POST", "/dissents", body, 422, "target_id")
    body = {"target": "seat", "target_id": room.seat_id("a"), "reason": "Against a person."}
    await refused(app, room, "b", "POST", "/dissents", body, 422, "target")
    body = {"target": "item", "target_id": room.item["id"], "reason": "x", "seat_id": 1}
    await refused(app, room, "b", "POST", "/dissents", body, 422, "seat_id")
    # Withdrawing: an unknown dissent, or one of another convening.
    theirs = await there["a"].post(
        there.url("/dissents"),
        json={"target": "item", "target_id": there.item["id"], "reason": "Theirs."},
    )
    assert theirs.status_code == 201
    for dissent_id in (theirs.json()["id"], 987_654):
        path = f"/dissents/{dissent_id}/withdrawal"
        await refused(app, room, "b", "POST", path, {}, 404)
    mine = await room["b"].post(room.url("/dissents"), json={**target, "reason": "Mine."})
    path = f"/dissents/{mine.json()['id']}/withdrawal"
    await refused(app, room, "b", "POST", path, {"reason": LONG}, 422, "reason")
    await refused(app, room, "b", "POST", path, {"withdrawn": True}, 422, "withdrawn")


async def test_commitments_due_in_the_past_or_too_long(app: FastAPI, room: Room) -> None:
    past = (date.today() - timedelta(days=2)).isoformat()
    for key, seat in (("a", {}), ("fac", {"seat_id": room.seat_id("b")})):
        for due in (past, "2020-01-01"):
            body = commitment_body(due_date=due, **seat)
            await refused(app, room, key, "POST", "/commitments", body, 422, "due_date")
    for field, value in (
        ("what", "x" * 2_001),
        ("indicator", "x" * 2_001),
        ("owner", "x" * 201),
        ("resources", "x" * 2_001),
        ("what", " "),
        ("due_date", "next spring"),
    ):
        body = commitment_body(**{field: value})
        await refused(app, room, "a", "POST", "/commitments", body, 422, field)
    await refused(
        app, room, "a", "POST", "/commitments", commitment_body(item_id=987_654), 422, "item_id"
    )
    body = commitment_body(seat_id=987_654)
    await refused(app, room, "fac", "POST", "/commitments", body, 422, "seat_id")
    await refused(app, room, "fac", "POST", "/commitments", commitment_body(), 422, "seat_id")
    body = commitment_body(seat_id=room.seat_id("obs"))
    await refused(app, room, "fac", "POST", "/commitments", body, 422, "seat_id")
    # A participant commits only for its own organization.
    body = commitment_body(seat_id=room.seat_id("b"))
    await refused(app, room, "a", "POST", "/commitments", body, 403)
    made = await room["a"].post(room.url("/commitments"), json=commitment_body())
    assert made.status_code == 201
    path = f"/commitments/{made.json()['commitment']['id']}/progress"
    await refused(app, room, "a", "POST", path, {"status": "sideways", "text": "x"}, 422, "status")
    await refused(
        app, room, "a", "POST", path, {"status": "done", "text": "x" * 2_001}, 422, "text"
    )
    await refused(app, room, "b", "POST", path, {"status": "done", "text": "Not mine."}, 403)


async def test_oversized_or_empty_text_anywhere_in_the_record(app: FastAPI, room: Room) -> None:
    item_id = room.item["id"]
    check_id = await table_check(room)
    parked = await room["rap"].post(room.url("/parking"), json={"text": "Later."})
    cases: list[tuple[str, str, str, dict[str, Any], str]] = [
        ("a", "POST", "/contributions", {"item_id": item_id, "text": LONG}, "text"),
        ("a", "POST", "/contributions", {"item_id": item_id, "text": "  "}, "text"),
        ("a", "POST", "/contributions", {"item_id": item_id, "text": "x", "kind": "rant"}, "kind"),
        ("a", "POST", "/contributions", {"item_id": 987_654, "text": "Elsewhere."}, "item_id"),
        (
            "rap",
            "POST",
            "/contributions/captured",
            {"item_id": item_id, "seat_id": room.seat_id("a"), "text": LONG},
            "text",
        ),
        (
            "rap",
            "POST",
            "/contributions/captured",
            {"item_id": item_id, "seat_id": room.seat_id("obs"), "text": "Observers do not speak."},
            "seat_id",
        ),
        (
            "rap",
            "POST",
            "/contributions/captured",
            {"item_id": item_id, "seat_id": 987_654, "text": "Nobody."},
            "seat_id",
        ),
        ("fac", "POST", "/checks", {"item_id": item_id, "proposal": LONG}, "proposal"),
        ("fac", "POST", "/checks", {"item_id": item_id, "proposal": ""}, "proposal"),
        (
            "fac",
            "POST",
            "/checks",
            {"item_id": item_id, "proposal": "P", "contribution_id": 987_654},
            "contribution_id",
        ),
        ("fac", "POST", f"/checks/{check_id}/close", {"statement": LONG}, "statement"),
        ("fac", "POST", f"/checks/{check_id}/close", {"level": "consensus"}, "level"),
        ("rap", "POST", "/parking", {"text": LONG}, "text"),
        ("rap", "POST", "/parking", {"text": "x", "seat_id": 987_654}, "seat_id"),
        ("rap", "POST", "/parking", {"text": "x", "item_id": 987_654}, "item_id"),
        (
            "fac",
            "POST",
            f"/parking/{parked.json()['id']}/resolution",
            {"resolution": LONG},
            "resolution",
        ),
    ]
    for key, method, path, body, field in cases:
        await refused(app, room, key, method, path, body, 422, field)
