"""Each attribution rule against every serializer and event kind that carries a person.

One scenario per rule exercises every record event: a contribution, a captured
contribution, a check tabled, answered (with reasons), an outcome recorded, dissent logged
and withdrawn, an issue parked and resolved, commitments made and progress reported. Then:

(a) the room (GET /record for several roles, GET /commitments, the owner's progress page,
    the polling snapshot and every event's data, which is what the websocket pushes too)
    names people under `attributed` and `chatham_house`; under `anonymous` it shows the
    group only for statements and nothing for answers and dissents;
(b) the outside view (GET /audit/export as the convener) names nobody under
    `chatham_house` (no participant's name, email or affiliation anywhere in the file; group
    labels instead), and nothing at all under `anonymous`;
(c) under `attributed` the export names people.
"""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.live.state import RECORD_PARTS, apply_event
from tests.commitments.record_room import (
    PEOPLE,
    Room,
    commitment_body,
    make_room,
    table_check,
)
from tests.conftest import SeatBrowser
from tests.live.helpers import recv, recv_until, serve

RULES = ("attributed", "chatham_house", "anonymous")
GROUP_NAMES = {"government": "Government", "civil_society": "Civil society", "academia": "Academia"}
GROUP_LABELS = {
    "government": "a government participant",
    "civil_society": "a civil society participant",
    "academia": "an academia participant",
}
RECORD_KINDS = {
    "record.contribution_added",
    "record.check_tabled",
    "record.check_answered",
    "record.outcome_recorded",
    "record.dissent_logged",
    "record.dissent_withdrawn",
    "record.parked",
    "record.parking_resolved",
    "record.commitment_made",
    "record.progress_reported",
}
ANSWER_KINDS = {"record.check_answered", "record.dissent_logged", "record.dissent_withdrawn"}


def identities(key: str) -> list[str]:
    """What names a person: their name, email and affiliation."""
    person = PEOPLE[key]
    return [person["holder_name"], person["email"], person["affiliation"]]


ALL_IDENTITIES = [value for key in PEOPLE for value in identities(key)]


async def run_scenario(room: Room, client: httpx.AsyncClient) -> dict[str, Any]:
    """Every record event, by the roles that make them; returns who is behind what."""
    item_id = room.item["id"]

    async def ok(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.text
        return response.json()  # type: ignore[no-any-return]

    said = await ok(
        await room["a"].post(
            room.url("/contributions"),
            json={"item_id": item_id, "kind": "proposal", "text": "Meter every large pump."},
        )
    )
    captured = await ok(
        await room["rap"].post(
            room.url("/contributions/captured"),
            json={
                "item_id": item_id,
                "seat_id": room.seat_id("b"),
                "kind": "question",
                "text": "Who pays for the meters?",
            },
        )
    )
    check_id = await table_check(room, "Meter withdrawals above 100 m3 a day.")
    for key, value, reason in (
        ("a", "agree_with_reservations", "Only with a subsidy for small farms."),
        ("b", "disagree", "The cost falls on the poor."),
        ("c", "endorse", "The data will help everyone."),
    ):
        await ok(
            await room[key].put(
                room.url(f"/checks/{check_id}/answer"), json={"answer": value, "reason": reason}
            )
        )
    outcome = await ok(await room["fac"].post(room.url(f"/checks/{check_id}/close"), json={}))
    dissent_b = await ok(
        await room["b"].post(
            room.url("/dissents"),
            json={"target": "outcome", "target_id": outcome["id"], "reason": "Small farms lose."},
        )
    )
    dissent_c = await ok(
        await room["c"].post(
            room.url("/dissents"),
            json={"target": "contribution", "target_id": said["id"], "reason": "Too narrow."},
        )
    )
    await ok(
        await room["b"].post(
            room.url(f"/dissents/{dissent_b['id']}/withdrawal"), json={"reason": "Subsidy agreed."}
        )
    )
    parked_c = await ok(
        await room["rap"].post(
            room.url("/parking"),
            json={"text": "Groundwater rights", "item_id": item_id, "seat_id": room.seat_id("c")},
        )
    )
    parked_a = await ok(
        await room["fac"].post(
            room.url("/parking"), json={"text": "Meter brands", "seat_id": room.seat_id("a")}
        )
    )
    await ok(
        await room["fac"].post(
            room.url(f"/parking/{parked_c['id']}/resolution"), json={"resolution": "Next session."}
        )
    )
    own = await ok(await room["a"].post(room.url("/commitments"), json=commitment_body()))
    for_b = await ok(
        await room["fac"].post(
            room.url("/commitments"),
            json=commitment_body(what="Train farmers to read meters", seat_id=room.seat_id("b")),
        )
    )
    await ok(
        await room["a"].post(
            room.url(f"/commitments/{own['commitment']['id']}/progress"),
            json={"status": "on_track", "text": "Half the permits are online."},
        )
    )
    links = {
        row["commitment"]["id"]: row["progress_link"]
        for row in (await room.convener.get(room.url("/commitments"))).json()
    }
    token_b = links[for_b["commitment"]["id"]].rsplit("/", 1)[1]
    await ok(
        await client.post(
            f"/api/progress/{token_b}", json={"status": "at_risk", "text": "Trainers hired late."}
        )
    )
    # Events outside the record that name a seat in their data: a hand, a call, attendance.
    await ok(await room["c"].post(room.url("/floor/hand"), json={}))
    await ok(await room["fac"].post(room.url("/floor/next")))
    await ok(
        await room["fac"].put(
            room.url(f"/seats/{room.seat_id('b')}/attendance"), json={"attendance": "absent"}
        )
    )
    return {
        "contributions": {said["id"]: "a", captured["id"]: "b"},
        "reasons": {
            "Only with a subsidy for small farms.": "a",
            "The cost falls on the poor.": "b",
            "The data will help everyone.": "c",
        },
        "dissents": {dissent_b["id"]: "b", dissent_c["id"]: "c"},
        "parking": {parked_c["id"]: "c", parked_a["id"]: "a"},
        "commitments": {own["commitment"]["id"]: "a", for_b["commitment"]["id"]: "b"},
        "tokens": [links[own["commitment"]["id"]].rsplit("/", 1)[1], token_b],
        "check_id": check_id,
    }


# What the room may see -------------------------------------------------------------------


def expected_person(room: Room, key: str, answer: bool) -> dict[str, Any] | None:
    """The `by` of a record made by seat `key`, as the room sees it under the room's rule."""
    preset = PEOPLE[key]["group"]
    grouped = {
        "group_id": room.groups[preset]["id"],
        "group": GROUP_NAMES[preset],
        "label": GROUP_LABELS[preset],
    }
    if room.rule == "anonymous":
        return None if answer else grouped
    return {
        **grouped,
        "seat_id": room.seat_id(key),
        "name": PEOPLE[key]["holder_name"],
        "affiliation": PEOPLE[key]["affiliation"],
        "label": PEOPLE[key]["holder_name"],
    }


def check_record(room: Room, who: dict[str, Any], part: str, record: dict[str, Any]) -> int:
    """Check one record of the room's state; returns how many people it checked."""
    checked = 0
    if part == "contributions":
        assert record["by"] == expected_person(room, who["contributions"][record["id"]], False)
        checked += 1
    elif part == "checks":
        for reason in record["reasons"]:
            key = who["reasons"][reason["reason"]]
            assert reason["by"] == expected_person(room, key, True), reason
            checked += 1
        if room.rule == "anonymous" and record["tally"]["answers"]:
            # One answer per group: no group may be shown apart.
            assert [row["group_id"] for row in record["tally"]["by_group"]] == [None]
    elif part == "dissents":
        assert record["by"] == expected_person(room, who["dissents"][record["id"]], True)
        checked += 1
    elif part == "parking":
        assert record["raised_by"] == expected_person(room, who["parking"][record["id"]], False)
        checked += 1
    elif part == "commitments":
        key = who["commitments"][record["id"]]
        by = expected_person(room, key, False)
        assert record["by"] == by
        if room.rule == "anonymous":
            assert by is not None
            assert record["organization"] == by["label"]
            assert record["owner"] is None
        else:
            assert record["organization"] == PEOPLE[key]["affiliation"]
            assert record["owner"] == "The permits unit"
        checked += 1
    elif part == "outcomes":
        assert set(record) >= {"statement", "level", "tally"}
        assert not set(record) & {"by", "seat_id"}
    if room.rule == "anonymous" and part in ("checks", "dissents"):
        assert not _names_in(record), (part, record)
    return checked


def check_state(room: Room, who: dict[str, Any], state: dict[str, Any]) -> int:
    return sum(
        check_record(room, who, part, record)
        for part in RECORD_PARTS
        for record in state.get(part, [])
    )


def _names_in(value: Any) -> list[str]:
    text = json.dumps(value, ensure_ascii=False)
    return [identity for identity in ALL_IDENTITIES if identity in text]


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


PEOPLE_IN_THE_RECORD = 2 + 3 + 2 + 2 + 2  # contributions, reasons, dissents, parking, commitments


async def check_the_room(scenario: tuple[Room, dict[str, Any]], client: httpx.AsyncClient) -> None:
    """(a) What the room reads over HTTP: the record, the commitments, the owners' pages."""
    room, who = scenario
    for viewer in (room.convener, room["c"], room["obs"], room["rap"]):
        record = await viewer.get(room.url("/record"))
        assert record.status_code == 200, record.text
        assert check_state(room, who, record.json()) == PEOPLE_IN_THE_RECORD
    for viewer in (room.convener, room["b"]):
        listed = (await viewer.get(room.url("/commitments"))).json()
        assert len(listed) == 2
        for row in listed:
            assert check_record(room, who, "commitments", row["commitment"]) == 1
    for token in who["tokens"]:
        page = (await client.get(f"/api/progress/{token}")).json()
        assert check_record(room, who, "commitments", page["commitment"]) == 1


async def check_the_live_room(
    scenario: tuple[Room, dict[str, Any]], pushed: list[dict[str, Any]]
) -> None:
    """(a) What the live room gets: a snapshot, and every event's data, pushed over the
    websocket and read back by the polling fallback."""
    room, who = scenario
    # A snapshot (what a client starting afresh gets, by websocket or by polling) ...
    snap = (await room["c"].get(room.url("/events"), params={"wait": 0})).json()["snapshot"]
    assert check_state(room, who, snap["state"]) == PEOPLE_IN_THE_RECORD
    # ... and every event since the start, as pushed to the room.
    polled = (await room["c"].get(room.url("/events"), params={"since": 0, "wait": 0})).json()
    events = polled["events"]
    by_seq = {event["seq"]: event for event in events}
    assert pushed and all(by_seq[p["seq"]] == p for p in pushed)  # the same, either way
    assert {p["kind"] for p in pushed} >= RECORD_KINDS
    assert {e["kind"] for e in events} >= RECORD_KINDS
    checked = 0
    for event in events:
        if not event["kind"].startswith("record."):
            continue
        upsert = event["data"].get("upsert", {})
        assert upsert, event["kind"]
        for part, records in upsert.items():
            for record in records:
                checked += check_record(room, who, part, record)
        if room.rule == "anonymous" and event["kind"] in ANSWER_KINDS:
            assert not _names_in(event), event
            assert "seat_id" not in set(_keys(event["data"])), event
    assert checked > PEOPLE_IN_THE_RECORD
    # Replaying the record events onto an empty record gives what GET /record gives.
    state: dict[str, Any] = {part: [] for part in RECORD_PARTS}
    for event in events:
        state = apply_event(state, event)
    record = (await room["c"].get(room.url("/record"))).json()
    for part in ("contributions", "checks", "outcomes", "dissents", "parking"):
        assert [r["id"] for r in state[part]] == [r["id"] for r in record[part]], part
        assert state[part] == record[part], part


# What the outside may see ----------------------------------------------------------------


async def _export(room: Room) -> tuple[str, dict[str, Any]]:
    response = await room.convener.get(room.url("/audit/export"))
    assert response.status_code == 200, response.text
    return response.text, response.json()


async def check_the_export(scenario: tuple[Room, dict[str, Any]]) -> None:
    """(b) and (c): the outside view, the convener's export."""
    room, who = scenario
    text, export = await _export(room)
    events = export["events"]
    assert {e["kind"] for e in events} >= RECORD_KINDS
    assert export["attribution"] == room.rule
    for event in events:  # the state and records live clients get are not exported
        assert not {"state", "upsert"} & set(event["data"]), event
    if room.rule == "attributed":
        for key in ("a", "b", "c", "fac", "rap"):
            assert PEOPLE[key]["holder_name"] in text, key
            assert PEOPLE[key]["affiliation"] in text, key
        answered = [e for e in events if e["kind"] == "record.check_answered"]
        assert {e["actor"]["name"] for e in answered} == {"Ana Lima", "Ben Okoro", "Chen Wei"}
        [withdrawn] = [e for e in events if e["kind"] == "record.dissent_withdrawn"]
        assert withdrawn["actor"]["name"] == "Ben Okoro"
        return
    found = [identity for identity in ALL_IDENTITIES if identity.lower() in text.lower()]
    assert not found, f"the {room.rule} export names {found}"
    seated = [e for e in events if e["kind"] in ("floor.hand_raised", "seat.attendance_changed")]
    assert len(seated) >= 2
    for event in seated:
        assert "seat_id" not in event["data"], event
        if room.rule == "chatham_house":
            assert set(event["data"]["seat"]) == {"group_id", "group", "label"}, event
    if room.rule == "chatham_house":
        [hand] = [e for e in seated if e["kind"] == "floor.hand_raised"]
        assert hand["data"]["seat"]["label"] == GROUP_LABELS["academia"]
        [absent] = [e for e in seated if e["data"].get("attendance") == "absent"]
        assert absent["data"]["seat"]["label"] == GROUP_LABELS["civil_society"]
    leaking = [e for e in events if set(_keys(e)) & {"affiliation", "email", "seat_id"}]
    assert not leaking, leaking
    for event in events:
        for person in (event["actor"], event["data"].get("seat")):
            assert person is None or "name" not in person, event
    if room.rule == "chatham_house":
        for label in GROUP_LABELS.values():
            assert label in text, label
        answered = [e for e in events if e["kind"] == "record.check_answered"]
        assert sorted(e["actor"]["label"] for e in answered) == sorted(GROUP_LABELS.values())
        said = [e for e in events if e["kind"] == "record.contribution_added"]
        assert [e["actor"]["label"] for e in said] == ["a government participant", "a participant"]
    else:  # anonymous: nothing links anything to anyone, not even to a group
        for label in GROUP_LABELS.values():
            assert label not in text, label
        for event in events:
            if event["kind"] in ANSWER_KINDS:
                assert event["actor"] is None, event
            assert "seat" not in event["data"] or event["data"]["seat"] is None, event
            actor = event["actor"]
            assert actor is None or set(actor) == {"convener"}, event


async def check_the_console_log(
    scenario: tuple[Room, dict[str, Any]],
) -> None:
    """(a) The audit log the convener reads is the room's view: names under attributed and
    chatham_house; under anonymous the group for statements and nothing for answers."""
    room, _ = scenario
    log = (await room.convener.get(room.url("/audit"), params={"kind": "record."})).json()
    said = [e for e in log if e["kind"] == "record.contribution_added"]
    answered = [e for e in log if e["kind"] in ANSWER_KINDS]
    assert len(said) == 2 and len(answered) == 6
    if room.rule == "anonymous":
        assert said[0]["actor"] == expected_person(room, "a", False)
        assert all(e["actor"] is None for e in answered)
        assert not _names_in([e for e in log if e["kind"] in ANSWER_KINDS])
    else:
        assert said[0]["actor"]["name"] == "Ana Lima"
        assert said[1]["actor"]["name"] == "Rajesh Iyer"  # captured by the rapporteur
        assert {e["actor"]["name"] for e in answered} == {"Ana Lima", "Ben Okoro", "Chen Wei"}


@pytest.mark.parametrize("rule", RULES)
async def test_every_serializer_and_event_follows_the_rule(
    app: FastAPI,
    convener: httpx.AsyncClient,
    seated: SeatBrowser,
    client: httpx.AsyncClient,
    rule: str,
) -> None:
    room = await make_room(convener, seated, rule)
    seq = (await convener.get(room.url())).json()["last_seq"]
    # An observer's websocket, open while the scenario runs, receives every event live.
    async with serve(app) as server, server.connect(room.cid, room["obs"], since=seq) as ws:
        assert (await recv(ws))["type"] == "resume"
        who = await run_scenario(room, client)
        last = (await convener.get(room.url())).json()["last_seq"]
        pushed = await recv_until(ws, last)
    scenario = (room, who)
    await check_the_room(scenario, client)
    await check_the_live_room(scenario, pushed)
    await check_the_export(scenario)
    await check_the_console_log(scenario)
