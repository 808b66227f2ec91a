"""The consensus rule (app/record/rules.py), table-driven: each row is a tally, the level it
reaches and whether a decision by majority may be recorded for it. The same table is then
played through the API: closing a check records the level the table gives, and
`by_majority` is refused (409) when the room reached consensus or when there is no majority.
"""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.record.models import Answer, ConsensusLevel
from app.record.rules import consensus_level, majority_allowed
from tests.commitments.record_room import Room, answer, db_rows, make_room, table_check
from tests.conftest import SeatBrowser

C, CR, NC = (
    ConsensusLevel.consensus,
    ConsensusLevel.consensus_with_reservations,
    ConsensusLevel.no_consensus,
)
E, AG, R, SA, D, B = (
    "endorse",
    "agree",
    "agree_with_reservations",
    "stand_aside",
    "disagree",
    "block",
)

# name: (tally, level, majority allowed)
TABLE: dict[str, tuple[dict[str, int], ConsensusLevel, bool]] = {
    "no answers": ({}, NC, False),
    "all endorse": ({E: 3}, C, True),
    "endorse and agree": ({E: 2, AG: 2}, C, True),
    "a lone agree": ({AG: 1}, C, True),
    "one reservation": ({E: 2, AG: 1, R: 1}, CR, True),
    "only reservations": ({R: 2}, CR, True),
    "one stand aside": ({E: 3, SA: 1}, CR, True),
    "stand asides exactly half": ({E: 2, SA: 2}, CR, False),
    "reservation and stand aside, half each": ({R: 1, SA: 1}, CR, False),
    "stand asides above half": ({E: 1, SA: 2}, NC, False),
    "only a stand aside": ({SA: 1}, NC, False),
    "one disagree": ({E: 3, D: 1}, NC, True),
    "one disagree among reservations": ({R: 2, D: 1}, NC, True),
    "one block with many endorse": ({E: 5, B: 1}, NC, False),
    "a block and nothing else": ({B: 1}, NC, False),
    "majority: more than half support": ({AG: 3, D: 2}, NC, True),
    "majority: exactly half support": ({AG: 2, D: 2}, NC, False),
    "majority: half support once stand asides count": ({AG: 2, SA: 1, D: 1}, NC, False),
    "majority: reservations count as support": ({R: 2, D: 1}, NC, True),
    "majority: a block stops it": ({E: 4, D: 1, B: 1}, NC, False),
    "majority: no support at all": ({D: 2}, NC, False),
}


@pytest.mark.parametrize(("tally", "level", "majority"), TABLE.values(), ids=TABLE.keys())
def test_consensus_level_from_the_table(
    tally: dict[str, int], level: ConsensusLevel, majority: bool
) -> None:
    assert consensus_level(tally) == level
    assert majority_allowed(tally) is majority


@pytest.mark.parametrize(("tally", "level", "majority"), TABLE.values(), ids=TABLE.keys())
def test_the_rule_ignores_zero_counts_and_the_order_of_answers(
    tally: dict[str, int], level: ConsensusLevel, majority: bool
) -> None:
    full = {a.value: tally.get(a.value, 0) for a in reversed(Answer)}  # how views.tally gives it
    assert consensus_level(full) == level
    assert majority_allowed(full) is majority


def test_the_table_covers_every_level_but_the_majority_decision() -> None:
    assert {level for _, level, _ in TABLE.values()} == set(ConsensusLevel) - {
        ConsensusLevel.majority_decision
    }
    assert all(
        consensus_level(tally) != ConsensusLevel.majority_decision for tally, _, _ in TABLE.values()
    )


# Through the API -------------------------------------------------------------------------

SEATS_NEEDED = max(sum(tally.values()) for tally, _, _ in TABLE.values())


@pytest.fixture
async def room(convener: httpx.AsyncClient, seated: SeatBrowser) -> Room:
    return await make_room(
        convener,
        seated,
        "attributed",
        extra_participants=SEATS_NEEDED,
        people=("fac", "rap"),
    )


async def _answer_tally(room: Room, check_id: int, tally: dict[str, int]) -> None:
    voters = iter(room.extra)
    for value, count in tally.items():
        for _ in range(count):
            await answer(room, next(voters), check_id, value)


async def _check_row(app: FastAPI, check_id: int) -> tuple[Any, ...]:
    [row] = await db_rows(
        app, "SELECT status, closed_at FROM consensus_check WHERE id = :id", id=check_id
    )
    return row


async def test_closing_a_check_records_the_level_the_table_gives(app: FastAPI, room: Room) -> None:
    for name, (tally, level, _) in TABLE.items():
        check_id = await table_check(room, f"Proposal: {name}")
        await _answer_tally(room, check_id, tally)
        closed = await room["fac"].post(room.url(f"/checks/{check_id}/close"), json={})
        assert closed.status_code == 200, (name, closed.text)
        outcome = closed.json()
        assert outcome["level"] == level, name
        assert outcome["statement"] == f"Proposal: {name}"
        assert outcome["tally"]["answers"] == sum(tally.values())
        assert {k: v for k, v in outcome["tally"]["overall"].items() if v} == tally, name
        [(stored,)] = await db_rows(
            app, "SELECT level FROM outcome WHERE check_id = :id", id=check_id
        )
        assert stored == level, name
        assert (await _check_row(app, check_id))[0] == "closed"
    record = (await room["rap"].get(room.url("/record"))).json()
    assert [o["level"] for o in record["outcomes"]] == [level for _, level, _ in TABLE.values()]


async def test_a_decision_by_majority_only_without_consensus_and_with_a_majority(
    app: FastAPI, room: Room
) -> None:
    for name, (tally, level, majority) in TABLE.items():
        check_id = await table_check(room, f"Vote: {name}")
        await _answer_tally(room, check_id, tally)
        before = await db_rows(app, "SELECT COUNT(*) FROM outcome")
        closed = await room["fac"].post(
            room.url(f"/checks/{check_id}/close"),
            json={"by_majority": True, "statement": f"Decided by vote: {name}"},
        )
        if level == NC and majority:
            assert closed.status_code == 200, (name, closed.text)
            assert closed.json()["level"] == ConsensusLevel.majority_decision
            assert closed.json()["statement"] == f"Decided by vote: {name}"
            assert {k: v for k, v in closed.json()["tally"]["overall"].items() if v} == tally
            [(stored,)] = await db_rows(
                app, "SELECT level FROM outcome WHERE check_id = :id", id=check_id
            )
            assert stored == ConsensusLevel.majority_decision
        else:
            assert closed.status_code == 409, (name, closed.text)
            # Refused: nothing recorded, the check still open (it can be closed normally).
            assert await db_rows(app, "SELECT COUNT(*) FROM outcome") == before, name
            assert await _check_row(app, check_id) == ("open", None), name
            plain = await room["fac"].post(room.url(f"/checks/{check_id}/close"), json={})
            assert plain.status_code == 200 and plain.json()["level"] == level, name


async def test_a_changed_answer_counts_once_with_its_latest_value(room: Room) -> None:
    check_id = await table_check(room)
    await answer(room, "p1", check_id, "block")
    await answer(room, "p2", check_id, "endorse")
    await answer(room, "p1", check_id, "agree")  # p1 lifts the block while the check is open
    closed = await room["fac"].post(room.url(f"/checks/{check_id}/close"), json={})
    assert closed.json()["level"] == ConsensusLevel.consensus
    assert closed.json()["tally"]["answers"] == 2
