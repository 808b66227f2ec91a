"""A snapshot is the state at its sequence number, even while the room keeps changing."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from app.convenings.models import Convening
from app.live import service
from tests.conftest import BACKEND
from tests.live.helpers import Room, apply_all, fresh_snapshot


@pytest.mark.skipif(
    BACKEND != "postgres",
    reason="on SQLite a snapshot's transaction holds the write lock: no write can interleave",
)
async def test_a_snapshot_read_while_the_room_changes_is_read_again_consistently(
    app: FastAPI, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, seat_a = room.participants[0], room.seats[0]
    assert (await a.post(room.url("/floor/hand"), json={})).status_code == 201
    build = service.room_state
    builds = 0

    async def interleaved(session: AsyncSession, convening: Convening) -> dict[str, Any]:
        nonlocal builds
        state = await build(session, convening)
        builds += 1
        if builds == 1:  # other requests commit between the snapshot's two reads
            assert (await room.facilitator.post(room.url("/floor/next"))).status_code == 200
            marked = await room.facilitator.put(
                room.url(f"/seats/{seat_a['id']}/attendance"), json={"attendance": "absent"}
            )
            assert marked.status_code == 200
        return state

    monkeypatch.setattr(service, "room_state", interleaved)
    async with app.state.sessionmaker() as session:
        seq, state = await service.snapshot(session, room.cid)
    monkeypatch.undo()
    assert builds == 2
    assert (seq, state) == await fresh_snapshot(app, room.cid)
    assert state["floor"]["speaker"]["seat_id"] == seat_a["id"]
    assert {s["id"]: s["attendance"] for s in state["seats"]}[seat_a["id"]] == "absent"


async def test_queue_order_change_reaches_clients(app: FastAPI, room: Room) -> None:
    """The queue order is part of the convening's state: its event must carry it."""
    seq, state = await fresh_snapshot(app, room.cid)
    changed = await room.facilitator.put(
        room.url("/floor/order"), json={"queue_order": "least_heard_group"}
    )
    assert changed.status_code == 200
    polled = await room.convener.get(room.url("/events"), params={"since": seq, "wait": 0})
    (event,) = polled.json()["events"]
    assert event["kind"] == "floor.queue_order_set"
    final_seq, final = await fresh_snapshot(app, room.cid)
    assert final["convening"]["queue_order"] == "least_heard_group"
    assert apply_all(state, [event], seq)["convening"] == final["convening"]


async def test_the_room_is_read_while_a_writer_holds_the_database(app: FastAPI, room: Room) -> None:
    """Connections authorize and read snapshots through read-only sessions: they do not wait
    for a write in progress (on SQLite, they do not take the write lock)."""
    reader = app.state.hub.reader
    async with app.state.sessionmaker() as writer:
        convening = await writer.get(Convening, room.cid)
        assert convening is not None
        convening.title = "Renamed while a seat connects"
        writer.add(convening)
        await writer.flush()  # the write lock is held until this transaction ends
        async with reader() as session:
            seq, state = await asyncio.wait_for(service.snapshot(session, room.cid), 5)
        assert state["convening"]["title"] != "Renamed while a seat connects"
        await writer.rollback()
    assert (seq, state) == await fresh_snapshot(app, room.cid)
