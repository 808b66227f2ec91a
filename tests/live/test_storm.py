"""Two hundred seats raise their hands at once: every hand is queued, numbered without gap,
and a websocket client watching the storm receives every event in order."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from app.accounts.models import Convener
from app.authz import Access, Actor, seat_cookie_name
from app.convenings.invitations import invitation_token, issue_invitation, redeem
from app.convenings.models import Convening, Role
from app.convenings.schemas import SeatCreate
from app.convenings.service import add_seats
from app.db import commit
from app.live.models import Event
from tests.conftest import BACKEND, BASE_URL
from tests.live.helpers import LiveServer, Room, apply_all, fresh_snapshot, recv, recv_until

SEATS = 200

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(BACKEND != "postgres", reason="the storm runs on PostgreSQL"),
]


async def seat_many(app: FastAPI, room: Room, count: int) -> list[tuple[int, str]]:
    """Seat `count` participants through the services; returns (seat id, seat cookie)."""
    settings = app.state.settings
    async with app.state.sessionmaker() as session:
        convening = await session.get(Convening, room.cid)
        assert convening is not None
        owner = await session.get(Convener, convening.owner_id)
        access = Access(convening, Actor.convener, owner, None)
        rows = [
            SeatCreate(role=Role.participant, holder_name=f"Storm {n}", group_id=None)
            for n in range(count)
        ]
        seats = await add_seats(session, access, rows)
        seated = []
        for seat in seats:
            invitation = await issue_invitation(session, access, seat.id, settings)  # type: ignore[arg-type]
            _, cookie = await redeem(session, invitation_token(settings, invitation), True, None)
            assert cookie is not None
            seated.append((seat.id, cookie))
        await commit(session)
    return seated  # type: ignore[return-value]


async def test_two_hundred_hands_at_once(app: FastAPI, room: Room, live_server: LiveServer) -> None:
    seated = await seat_many(app, room, SEATS)
    cookie = seat_cookie_name(room.cid)
    async with (
        live_server.connect(room.cid, room.observer) as ws,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http,
    ):
        snapshot = await recv(ws)
        assert snapshot["type"] == "snapshot"
        start = snapshot["seq"]

        async def raise_hand(token: str) -> httpx.Response:
            return await http.post(
                room.url("/floor/hand"), json={}, headers={"Cookie": f"{cookie}={token}"}
            )

        receiving = asyncio.create_task(recv_until(ws, start + SEATS, within=90))
        async with asyncio.timeout(90):
            responses = await asyncio.gather(*(raise_hand(token) for _, token in seated))
        assert [r.status_code for r in responses] == [201] * SEATS, {
            r.status_code: r.text for r in responses if r.status_code != 201
        }
        # Each answer names the event its hand made: every number once, no gap.
        assert sorted(r.json()["seq"] for r in responses) == list(
            range(start + 1, start + SEATS + 1)
        )
        received = await receiving

    assert [e["seq"] for e in received] == list(range(start + 1, start + SEATS + 1))
    final_seq, final = await fresh_snapshot(app, room.cid)
    assert final_seq == start + SEATS
    queue = final["floor"]["queue"]
    assert len(queue) == SEATS
    assert {e["seat_id"] for e in queue} == {seat_id for seat_id, _ in seated}
    assert apply_all(snapshot["state"], received, start) == final
    # First come, first served: the queue is in the order the events were numbered.
    order = [e["data"]["seat_id"] for e in received]
    assert [e["seat_id"] for e in queue] == order

    async with app.state.sessionmaker() as session:
        rows = (
            await session.exec(
                select(Event.seq, Event.kind)
                .where(Event.convening_id == room.cid)
                .order_by(col(Event.seq))
            )
        ).all()
    seqs = [seq for seq, _ in rows]
    assert seqs == list(range(1, final_seq + 1))  # the whole log: unique, contiguous
    storm: list[Any] = [(seq, kind) for seq, kind in rows if seq > start]
    assert [kind for _, kind in storm] == ["floor.hand_raised"] * SEATS
