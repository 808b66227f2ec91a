"""Under the anonymous rule what is stored cannot link an answer or a dissent to a seat
(the rows themselves are checked), while each seat still answers a check only once; and a
tally by group never shows apart a group with too few answers."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.attribution import People
from app.convenings.models import StakeholderGroup
from app.record.models import CheckResponse
from app.record.views import ANONYMOUS_GROUP_MINIMUM, tally
from tests.commitments.record_room import PEOPLE, Room, db_rows, make_room, table_check
from tests.conftest import SeatBrowser


@pytest.fixture
async def room(convener: httpx.AsyncClient, seated: SeatBrowser) -> Room:
    return await make_room(convener, seated, "anonymous")


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for inner in value.values() for k in _keys(inner)}
    if isinstance(value, list):
        return {k for inner in value for k in _keys(inner)}
    return set()


async def test_answers_and_dissents_leave_no_seat_in_their_rows(app: FastAPI, room: Room) -> None:
    check_id = await table_check(room)
    for key, value, reason in (("a", "agree", ""), ("b", "block", "It ruins us.")):
        answered = await room[key].put(
            room.url(f"/checks/{check_id}/answer"), json={"answer": value, "reason": reason}
        )
        assert answered.status_code == 200, answered.text
    dissents = []
    for key, target, target_id in (("a", "proposal", check_id), ("b", "item", room.item["id"])):
        made = await room[key].post(
            room.url("/dissents"),
            json={"target": target, "target_id": target_id, "reason": f"Dissent of {key}"},
        )
        assert made.status_code == 201, made.text
        dissents.append(made.json()["id"])
    withdrawn = await room["b"].post(room.url(f"/dissents/{dissents[1]}/withdrawal"), json={})
    assert withdrawn.status_code == 201, withdrawn.text

    responses = await db_rows(
        app,
        "SELECT seat_id, answered_at, group_id, voter_key, answer FROM check_response ORDER BY id",
    )
    assert [(r[0], r[1]) for r in responses] == [(None, None), (None, None)]
    assert [r[4] for r in responses] == ["agree", "block"]
    assert len({r[3] for r in responses}) == 2  # one mark per seat, naming neither
    for seat_key in ("a", "b"):
        assert all(str(room.seat_id(seat_key)) != r[3] for r in responses)
    rows = await db_rows(
        app, "SELECT seat_id, group_id, author_key, nonce FROM dissent ORDER BY id"
    )
    assert [(r[0], r[1]) for r in rows] == [(None, None), (None, None)]
    assert len({r[2] for r in rows}) == 2 and len({r[3] for r in rows}) == 2
    assert await db_rows(app, "SELECT dissent_id FROM dissent_withdrawal") == [(dissents[1],)]

    kinds = ("record.check_answered", "record.dissent_logged", "record.dissent_withdrawn")
    events = await db_rows(
        app,
        "SELECT kind, actor_seat_id, actor_convener_id, data FROM event "
        "WHERE convening_id = :cid ORDER BY seq",
        cid=room.cid,
    )
    answer_events = [e for e in events if e[0] in kinds]
    assert sorted(e[0] for e in answer_events) == sorted(
        ["record.check_answered"] * 2 + ["record.dissent_logged"] * 2 + ["record.dissent_withdrawn"]
    )
    identities = [v for key in PEOPLE for v in (PEOPLE[key]["holder_name"], PEOPLE[key]["email"])]
    for kind, actor_seat, actor_convener, raw in answer_events:
        data = raw if isinstance(raw, dict) else json.loads(raw)
        assert actor_seat is None and actor_convener is None, kind
        assert "seat_id" not in _keys(data), (kind, data)
        text = json.dumps(data)
        assert not [i for i in identities if i in text], (kind, data)
        for key in ("a", "b"):
            assert f'"by": {room.seat_id(key)}' not in text
    # Events of statements are still attributed to their seat (the rows keep it).
    said = await room["a"].post(
        room.url("/contributions"), json={"item_id": room.item["id"], "text": "A point."}
    )
    assert said.status_code == 201
    [(actor,)] = await db_rows(
        app,
        "SELECT actor_seat_id FROM event WHERE kind = 'record.contribution_added' "
        "AND convening_id = :cid",
        cid=room.cid,
    )
    assert actor == room.seat_id("a")


async def test_a_seat_answers_once_and_two_seats_once_each(app: FastAPI, room: Room) -> None:
    check_id = await table_check(room)
    first = await room["a"].put(room.url(f"/checks/{check_id}/answer"), json={"answer": "endorse"})
    assert first.status_code == 200
    for value, reason in (("block", "Changed my mind."), ("endorse", "")):
        twice = await room["a"].put(
            room.url(f"/checks/{check_id}/answer"), json={"answer": value, "reason": reason}
        )
        assert twice.status_code == 409, twice.text
    assert await db_rows(app, "SELECT answer, reason FROM check_response") == [("endorse", "")]
    mine = (await room["a"].get(room.url(f"/checks/{check_id}/answer"))).json()
    assert mine["answer"] == "endorse"
    other = await room["b"].put(
        room.url(f"/checks/{check_id}/answer"),
        json={"answer": "stand_aside", "reason": "Not ours."},
    )
    assert other.status_code == 200, other.text
    assert (await room["b"].get(room.url(f"/checks/{check_id}/answer"))).json()["answer"] == (
        "stand_aside"
    )
    rows = await db_rows(app, "SELECT answer FROM check_response ORDER BY id")
    assert rows == [("endorse",), ("stand_aside",)]
    # The same seat on another check answers afresh: the mark is per check.
    second = await table_check(room, "Another proposal.")
    again = await room["a"].put(room.url(f"/checks/{second}/answer"), json={"answer": "agree"})
    assert again.status_code == 200
    record = (await room["c"].get(room.url("/record"))).json()
    [live] = [c for c in record["checks"] if c["id"] == check_id]
    assert live["tally"]["answers"] == 2
    assert [r["by"] for r in live["reasons"]] == [None]


async def test_the_outcome_tally_of_an_anonymous_check_shows_no_small_group(
    app: FastAPI, room: Room
) -> None:
    check_id = await table_check(room)
    await room["a"].put(room.url(f"/checks/{check_id}/answer"), json={"answer": "agree"})
    await room["b"].put(
        room.url(f"/checks/{check_id}/answer"), json={"answer": "block", "reason": "No."}
    )
    closed = await room["fac"].post(room.url(f"/checks/{check_id}/close"), json={})
    assert closed.status_code == 200
    [(stored,)] = await db_rows(app, "SELECT tally FROM outcome WHERE check_id = :id", id=check_id)
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    assert stored == closed.json()["tally"]
    assert [row["group_id"] for row in stored["by_group"]] == [None]
    assert stored["by_group"][0]["counts"] == stored["overall"]


# The small-group rule of views.tally, table-driven ---------------------------------------

GROUPS = {1: "Government", 2: "Civil society", 3: "Academia"}
OTHER = "other"


def _people(rule: str) -> People:
    groups = {
        gid: StakeholderGroup(id=gid, convening_id=1, name=name, preset=None)
        for gid, name in GROUPS.items()
    }
    return People(rule, {}, groups)  # type: ignore[arg-type]


def _responses(per_group: dict[int | None, list[str]]) -> list[CheckResponse]:
    rows: list[CheckResponse] = []
    for group_id, answers in per_group.items():
        for value in answers:
            rows.append(
                CheckResponse(id=len(rows) + 1, check_id=1, voter_key=str(len(rows)), answer=value)
            )
            rows[-1].group_id = group_id
    return rows


# (rule, answers per group, the rows expected: group id or OTHER → how many answers)
SMALL_GROUPS: dict[str, tuple[str, dict[int | None, list[str]], dict[Any, int]]] = {
    "attributed: every group apart": (
        "attributed",
        {1: ["agree"], 2: ["block"], 3: ["agree", "agree"]},
        {1: 1, 2: 1, 3: 2},
    ),
    "chatham house: every group apart": (
        "chatham_house",
        {1: ["agree"], 2: ["block"]},
        {1: 1, 2: 1},
    ),
    "anonymous: groups of three shown apart": (
        "anonymous",
        {1: ["agree"] * 3, 2: ["block", "agree", "endorse"]},
        {1: 3, 2: 3},
    ),
    "anonymous: small groups merged": (
        "anonymous",
        {1: ["agree"] * 3, 2: ["block", "agree"], 3: ["endorse"]},
        {1: 3, OTHER: 3},
    ),
    "anonymous: two small groups, each alone would show": (
        "anonymous",
        {1: ["agree"] * 3, 2: ["block", "agree"], 3: ["endorse", "disagree"]},
        {1: 3, OTHER: 4},
    ),
    "anonymous: one small group is not hidden alone": (
        "anonymous",
        {1: ["agree"] * 4, 2: ["block"]},
        {OTHER: 5},
    ),
    "anonymous: the smallest group shown joins a too-small rest": (
        "anonymous",
        {1: ["agree"] * 3, 2: ["agree"] * 4, 3: ["block"]},
        {2: 4, OTHER: 4},
    ),
    "anonymous: seats without a group count as a group": (
        "anonymous",
        {None: ["block"], 1: ["agree"] * 3, 2: ["agree"] * 3},
        {2: 3, OTHER: 4},
    ),
    "anonymous: all small": (
        "anonymous",
        {1: ["agree"], 2: ["agree"], 3: ["block"]},
        {OTHER: 3},
    ),
    "anonymous: nobody answered": ("anonymous", {}, {}),
}


@pytest.mark.parametrize(("rule", "per_group", "rows"), SMALL_GROUPS.values(), ids=SMALL_GROUPS)
def test_the_small_group_rule(
    rule: str, per_group: dict[int | None, list[str]], rows: dict[Any, int]
) -> None:
    counted = tally(_responses(per_group), _people(rule))
    got: dict[Any, int] = {}
    for row in counted["by_group"]:
        key: Any = OTHER if row["group"].startswith("Other groups") else row["group_id"]
        assert key not in got
        got[key] = sum(row["counts"].values())
        if key not in (OTHER, None):
            assert row["group"] == GROUPS[key]
    assert got == rows
    # The rows always add up to the overall tally.
    overall = counted["overall"]
    assert counted["answers"] == sum(overall.values()) == sum(len(a) for a in per_group.values())
    for answer_value in overall:
        assert sum(r["counts"][answer_value] for r in counted["by_group"]) == overall[answer_value]
    if rule == "anonymous":  # no row, "other" included, holds fewer than the minimum
        assert all(n >= ANONYMOUS_GROUP_MINIMUM for n in got.values()) or len(got) == 1
