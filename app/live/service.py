"""Reading the room for a client: a consistent snapshot, or the events after a number."""

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.convenings.models import Attendance, Convening, ConveningStatus, Seat
from app.live.log import append_event, event_message, lock_convening
from app.live.models import Event
from app.live.state import room_state, seat_view

MAX_REPLAY = 1000  # a client further behind than this gets a fresh snapshot instead


async def snapshot(session: AsyncSession, convening_id: int) -> tuple[int, dict[str, Any]]:
    """The room's state and the sequence number it is at, read consistently.

    The state is read between two reads of the convening's last sequence number; if a
    write committed in between, it is read again.
    """
    for _ in range(20):
        before = await _last_seq(session, convening_id)
        convening = await session.get(Convening, convening_id, populate_existing=True)
        assert convening is not None
        state = await room_state(session, convening)
        if await _last_seq(session, convening_id) == before:
            return before, state
    raise RuntimeError("the room kept changing while its snapshot was read")


async def _last_seq(session: AsyncSession, convening_id: int) -> int:
    value = (
        await session.exec(select(Convening.last_seq).where(Convening.id == convening_id))
    ).one()
    return int(value)


async def events_after(
    session: AsyncSession, convening_id: int, since: int, limit: int = MAX_REPLAY
) -> list[dict[str, Any]]:
    """The events after `since`, in order, as clients receive them."""
    rows = await session.exec(
        select(Event)
        .where(Event.convening_id == convening_id, Event.seq > since)
        .order_by(col(Event.seq))
        .limit(limit)
    )
    return [event_message(event) for event in rows.all()]


async def needs_snapshot(session: AsyncSession, convening_id: int, since: int | None) -> bool:
    """Whether a client at `since` should start again from a snapshot."""
    if since is None or since < 0:
        return True
    last = await _last_seq(session, convening_id)
    return since > last or last - since > MAX_REPLAY


async def mark_present(session: AsyncSession, convening_id: int, seat_id: int) -> bool:
    """Mark a seat present when it connects to a live convening; True if it changed."""
    seat = await session.get(Seat, seat_id)
    convening = await session.get(Convening, convening_id)
    if (
        seat is None
        or convening is None
        or convening.status != ConveningStatus.live
        or seat.attendance == Attendance.present
    ):
        return False
    await lock_convening(session, convening)
    await session.refresh(seat)
    if seat.attendance == Attendance.present:
        return False
    seat.attendance = Attendance.present
    session.add(seat)
    await append_event(
        session,
        convening,
        "seat.attendance_changed",
        {"seat_id": seat.id, "attendance": Attendance.present, "by": "connection"},
        actor_seat_id=seat.id,
        upsert={"seats": [seat_view(seat)]},
    )
    return True
