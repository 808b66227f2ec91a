"""The audit trail: the convener reads the convening's event log filtered by kind, seat and
agenda item, and exports it as a JSON attachment; nobody else may (403 for a role on the
convening, 404 for anyone who cannot see it)."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.commitments.record_room import Room, commitment_body, make_room, table_check
from tests.conftest import PASSWORD, Browser, SeatBrowser, create_convener_account


@pytest.fixture
async def room(convener: httpx.AsyncClient, seated: SeatBrowser) -> Room:
    room = await make_room(convener, seated, "attributed", items=2)
    first, second = room.items[0]["id"], room.items[1]["id"]
    ok = (200, 201)
    said = await room["a"].post(
        room.url("/contributions"), json={"item_id": first, "text": "Meter the pumps."}
    )
    assert said.status_code in ok
    captured = await room["rap"].post(
        room.url("/contributions/captured"),
        json={"item_id": first, "seat_id": room.seat_id("b"), "text": "Who pays?"},
    )
    assert captured.status_code in ok
    check_id = await table_check(room)
    answered = await room["b"].put(
        room.url(f"/checks/{check_id}/answer"), json={"answer": "block", "reason": "Cost."}
    )
    assert answered.status_code in ok
    closed = await room["fac"].post(room.url(f"/checks/{check_id}/close"), json={})
    assert closed.status_code in ok
    dissent = await room["b"].post(
        room.url("/dissents"),
        json={"target": "outcome", "target_id": closed.json()["id"], "reason": "Too costly."},
    )
    assert dissent.status_code in ok
    parked = await room["rap"].post(
        room.url("/parking"),
        json={"text": "Rights", "item_id": first, "seat_id": room.seat_id("c")},
    )
    assert parked.status_code in ok
    made = await room["a"].post(room.url("/commitments"), json=commitment_body(item_id=first))
    assert made.status_code in ok
    # On the second item: its own check, so that filtering by item tells them apart.
    started = await room["fac"].post(room.url(f"/agenda/{second}/start"))
    assert started.status_code == 200, started.text
    other = await room["fac"].post(
        room.url("/checks"), json={"item_id": second, "proposal": "Share by need."}
    )
    assert other.status_code in ok
    answered = await room["a"].put(
        room.url(f"/checks/{other.json()['id']}/answer"), json={"answer": "agree"}
    )
    assert answered.status_code in ok
    return room


async def _log(room: Room, **params: Any) -> list[dict[str, Any]]:
    response = await room.convener.get(room.url("/audit"), params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def check_the_whole_log_in_order_with_who_did_what(room: Room) -> None:
    log = await _log(room)
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert log[0]["kind"] == "convening.created"
    assert log[0]["actor"] == {"convener": "A Convener"}
    for event in log:
        assert set(event) == {"seq", "at", "kind", "actor", "data"}
        assert not {"state", "upsert"} & set(event["data"])
    blocked = next(e for e in log if e["kind"] == "record.check_answered")
    assert blocked["actor"]["name"] == "Ben Okoro"


async def check_filtered_by_kind(room: Room) -> None:
    record = await _log(room, kind="record.")
    assert record and all(str(e["kind"]).startswith("record.") for e in record)
    kinds = [e["kind"] for e in record]
    assert kinds.count("record.check_tabled") == 2
    answers = await _log(room, kind="record.check_answered")
    assert [e["kind"] for e in answers] == ["record.check_answered"] * 2
    assert await _log(room, kind="nothing.like.this") == []
    assert len(await _log(room, kind="")) == len(await _log(room))
    too_long = await room.convener.get(room.url("/audit"), params={"kind": "x" * 65})
    assert too_long.status_code == 422


async def check_filtered_by_seat(room: Room) -> None:
    a = room.seat_id("a")
    mine = await _log(room, seat_id=a)
    kinds = {e["kind"] for e in mine}
    assert {
        "record.contribution_added",
        "record.check_answered",
        "record.commitment_made",
        "invitation.redeemed",
    } <= kinds
    for event in mine:
        shown = [event["actor"], event["data"].get("seat")]
        assert any(isinstance(p, dict) and p.get("seat_id") == a for p in shown) or (
            event["kind"] in ("record.contribution_added", "record.parked")
        ), event
    # A point the rapporteur captured for b is b's: it shows under b, and under the rapporteur.
    b_log = await _log(room, seat_id=room.seat_id("b"))
    rap_log = await _log(room, seat_id=room.seat_id("rap"))
    captured = [e for e in b_log if e["kind"] == "record.contribution_added"]
    assert len(captured) == 1 and captured[0]["actor"]["name"] == "Rajesh Iyer"
    assert captured[0]["seq"] in {e["seq"] for e in rap_log}
    assert "record.dissent_logged" in {e["kind"] for e in b_log}
    # The issue parked for c shows under c.
    assert "record.parked" in {e["kind"] for e in await _log(room, seat_id=room.seat_id("c"))}
    assert await _log(room, seat_id=987_654) == []
    both = await _log(room, seat_id=a, kind="record.check_answered")  # a answered once
    assert [e["actor"]["seat_id"] for e in both] == [a]


async def check_filtered_by_item(room: Room) -> None:
    first, second = room.items[0]["id"], room.items[1]["id"]
    on_first = await _log(room, item_id=first, kind="record.")
    kinds = {e["kind"] for e in on_first}
    # Every record event about the first item, even those whose data does not name it.
    assert kinds == {
        "record.contribution_added",
        "record.check_tabled",
        "record.check_answered",
        "record.outcome_recorded",
        "record.dissent_logged",
        "record.parked",
        "record.commitment_made",
    }, kinds
    on_second = await _log(room, item_id=second)
    assert {e["kind"] for e in on_second} >= {
        "agenda.item_added",
        "agenda.item_started",
        "record.check_tabled",
        "record.check_answered",
    }
    assert not {e["seq"] for e in on_second} & {e["seq"] for e in on_first}
    assert await _log(room, item_id=987_654) == []


async def test_the_seat_filter_links_nothing_the_anonymous_rule_hides(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    room = await make_room(convener, seated, "anonymous", people=("fac", "rap", "a", "b"))
    check_id = await table_check(room)
    await room["a"].put(room.url(f"/checks/{check_id}/answer"), json={"answer": "agree"})
    await room["a"].post(
        room.url("/dissents"),
        json={"target": "proposal", "target_id": check_id, "reason": "Still no."},
    )
    await room["a"].post(
        room.url("/contributions"), json={"item_id": room.item["id"], "text": "A point."}
    )
    log = await _log(room, kind="record.")
    assert {"record.check_answered", "record.dissent_logged"} <= {e["kind"] for e in log}
    for seat in ("a", "b"):
        assert await _log(room, seat_id=room.seat_id(seat), kind="record.") == []
    said = next(e for e in log if e["kind"] == "record.contribution_added")
    assert said["actor"] == {
        "group_id": room.groups["government"]["id"],
        "group": "Government",
        "label": "a government participant",
    }


async def test_the_convener_reads_the_log_filtered_by_kind_seat_and_item(room: Room) -> None:
    await check_the_whole_log_in_order_with_who_did_what(room)
    await check_filtered_by_kind(room)
    await check_filtered_by_seat(room)
    await check_filtered_by_item(room)


async def test_only_the_convener_reads_and_exports_the_log(
    app: FastAPI, room: Room, new_browser: Browser
) -> None:
    for key in ("fac", "rap", "a", "b", "obs"):
        for path in ("/audit", "/audit/export"):
            response = await room[key].get(room.url(path))
            assert response.status_code == 403, (key, path, response.text)
            assert "may not" in response.json()["detail"]
    await check_the_export_is_a_json_attachment(room)
    # Strangers do not even learn that the convening exists.
    await create_convener_account(app, "other@example.org", "Other Convener")
    other = await new_browser()
    signed = await other.post(
        "/api/auth/sign-in", json={"email": "other@example.org", "password": PASSWORD}
    )
    assert signed.status_code == 200
    nobody = await new_browser()
    for browser in (other, nobody):
        for path in ("/audit", "/audit/export"):
            response = await browser.get(room.url(path))
            assert response.status_code == 404, (path, response.text)


async def check_the_export_is_a_json_attachment(room: Room) -> None:
    response = await room.convener.get(room.url("/audit/export"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="convening-{room.cid}-audit.json"'
    body = json.loads(response.content.decode("utf-8"))
    assert body["convening"] == "Roundtable on the river basin"
    assert body["attribution"] == "attributed"
    assert [e["seq"] for e in body["events"]] == [e["seq"] for e in await _log(room)]
