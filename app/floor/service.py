"""The floor: hands, points of order, direct replies, turns, airtime and tours de table.

Every action locks the convening (one writer at a time per convening), checks the rules,
changes rows and appends one event that carries the new floor. Never commits.
"""

from datetime import datetime
from itertools import zip_longest

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agenda.service import active_item
from app.authz import Access
from app.convenings.models import Attendance, Convening, ConveningStatus, Role, Seat
from app.convenings.service import emit, get_seat
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.floor.models import EntryKind, EntryStatus, FloorEntry, QueueOrder, Tour, TourOrder
from app.live.log import lock_convening
from app.live.state import airtime, order_queue, seat_view

SPEAKING_ROLES = (Role.participant, Role.facilitator, Role.rapporteur, Role.convener)


async def _open_floor(session: AsyncSession, access: Access) -> tuple[Convening, int]:
    """Lock the convening; it must be live with an item open. Returns it and the item id."""
    convening = await lock_convening(session, access.convening)
    if convening.status != ConveningStatus.live:
        raise Conflict(f"the convening is not live (it is {convening.status})")
    item = await active_item(session, convening.id)  # type: ignore[arg-type]
    if item is None:
        raise Conflict("no agenda item is open on the floor")
    return convening, item.id  # type: ignore[return-value]


async def _entries(session: AsyncSession, convening_id: int, *statuses: str) -> list[FloorEntry]:
    result = await session.exec(
        select(FloorEntry).where(
            FloorEntry.convening_id == convening_id, col(FloorEntry.status).in_(statuses)
        )
    )
    return list(result.all())


async def _speaker(session: AsyncSession, convening_id: int) -> FloorEntry | None:
    speaking = await _entries(session, convening_id, EntryStatus.speaking)
    return speaking[0] if speaking else None


def _end(entry: FloorEntry, now: datetime, status: str = EntryStatus.done) -> None:
    entry.status = status
    entry.ended_at = now
    if entry.called_at is not None and status == EntryStatus.done:
        entry.seconds = max((now - entry.called_at).total_seconds(), 0.0)


async def _end_turn(session: AsyncSession, convening_id: int, now: datetime) -> FloorEntry | None:
    speaker = await _speaker(session, convening_id)
    if speaker is not None:
        _end(speaker, now)
        session.add(speaker)
    return speaker


async def close_floor(session: AsyncSession, convening_id: int, now: datetime) -> None:
    """When an item ends: the turn in progress ends, waiting requests lapse, the tour stops."""
    await _end_turn(session, convening_id, now)
    for entry in await _entries(session, convening_id, EntryStatus.waiting):
        _end(entry, now, EntryStatus.lapsed)
        session.add(entry)
    for tour in await _active_tours(session, convening_id):
        tour.active = False
        tour.ended_at = now
        session.add(tour)


async def raise_hand(session: AsyncSession, access: Access, kind: str) -> FloorEntry:
    """Ask for the floor: a hand, a point of order (goes first) or a direct reply."""
    convening, item_id = await _open_floor(session, access)
    seat = access.seat
    assert seat is not None
    if seat.attendance == Attendance.declined:
        raise Conflict("a declined seat cannot ask for the floor")
    mine = [
        e
        for e in await _entries(session, convening.id, EntryStatus.waiting, EntryStatus.speaking)  # type: ignore[arg-type]
        if e.seat_id == seat.id
    ]
    if any(e.status == EntryStatus.waiting and e.kind == kind for e in mine):
        raise Conflict("you are already waiting for the floor")
    if kind == EntryKind.direct_reply:
        speaker = await _speaker(session, convening.id)  # type: ignore[arg-type]
        if speaker is None:
            raise Conflict("nobody is speaking, so there is nothing to reply to")
        if speaker.seat_id == seat.id:
            raise Conflict("you cannot reply to yourself")
    entry = FloorEntry(
        convening_id=convening.id,  # type: ignore[arg-type]
        item_id=item_id,
        seat_id=seat.id,  # type: ignore[arg-type]
        kind=kind,
    )
    session.add(entry)
    await session.flush()
    await emit(session, access, f"floor.{kind}_raised", {"entry_id": entry.id, "seat_id": seat.id})
    return entry


async def lower_hand(session: AsyncSession, access: Access, kind: str | None) -> int:
    """Withdraw the caller's waiting requests (of one kind, or all); returns how many."""
    convening = await lock_convening(session, access.convening)
    seat = access.seat
    assert seat is not None
    now = utcnow()
    withdrawn = [
        e
        for e in await _entries(session, convening.id, EntryStatus.waiting)  # type: ignore[arg-type]
        if e.seat_id == seat.id and e.kind != EntryKind.tour and (kind is None or e.kind == kind)
    ]
    if not withdrawn:
        raise Conflict("you are not waiting for the floor")
    for entry in withdrawn:
        _end(entry, now, EntryStatus.withdrawn)
        session.add(entry)
    await emit(
        session,
        access,
        "floor.hand_lowered",
        {"seat_id": seat.id, "entry_ids": [e.id for e in withdrawn]},
    )
    return len(withdrawn)


async def _queue(session: AsyncSession, convening: Convening) -> list[FloorEntry]:
    waiting = [
        e
        for e in await _entries(session, convening.id, EntryStatus.waiting)  # type: ignore[arg-type]
        if e.kind != EntryKind.tour
    ]
    per_seat, per_group, seat_group = await airtime(session, convening.id)  # type: ignore[arg-type]
    return order_queue(waiting, convening.queue_order, per_seat, per_group, seat_group)


def _give_floor(entry: FloorEntry, now: datetime) -> None:
    entry.status = EntryStatus.speaking
    entry.called_at = now


async def call_next(session: AsyncSession, access: Access) -> FloorEntry:
    """End the turn in progress and give the floor to the next: the tour's, else the queue's."""
    convening, item_id = await _open_floor(session, access)
    now = utcnow()
    ended = await _end_turn(session, convening.id, now)  # type: ignore[arg-type]
    tour = await _current_tour(session, convening.id)  # type: ignore[arg-type]
    entry = None
    if tour is not None:
        entry = await _next_tour_turn(session, tour, item_id, now)
    if entry is None:
        queue = await _queue(session, convening)
        if not queue:
            if ended is None:
                raise Conflict("nobody is waiting for the floor")
            await emit(session, access, "floor.turn_ended", {"entry_id": ended.id})
            return ended
        entry = queue[0]
        _give_floor(entry, now)
    session.add(entry)
    await session.flush()
    await emit(
        session, access, "floor.speaker_called", {"entry_id": entry.id, "seat_id": entry.seat_id}
    )
    return entry


async def call_seat(session: AsyncSession, access: Access, seat_id: int) -> FloorEntry:
    """Give the floor to a specific seat, whether or not it asked."""
    convening, item_id = await _open_floor(session, access)
    try:
        seat = await get_seat(session, convening.id, seat_id)  # type: ignore[arg-type]
    except NotFound:
        raise Invalid("no such seat in this convening", field="seat_id") from None
    if seat.role not in SPEAKING_ROLES:
        raise Conflict(f"a {seat.role} seat does not take the floor")
    now = utcnow()
    await _end_turn(session, convening.id, now)  # type: ignore[arg-type]
    waiting = [e for e in await _queue(session, convening) if e.seat_id == seat_id]
    entry = (
        waiting[0]
        if waiting
        else FloorEntry(
            convening_id=convening.id,  # type: ignore[arg-type]
            item_id=item_id,
            seat_id=seat_id,
            kind=EntryKind.called,
            raised_at=now,
        )
    )
    _give_floor(entry, now)
    session.add(entry)
    await session.flush()
    await emit(session, access, "floor.speaker_called", {"entry_id": entry.id, "seat_id": seat_id})
    return entry


async def end_turn(session: AsyncSession, access: Access) -> FloorEntry:
    """End the turn in progress; its speaking time is added to the seat's airtime."""
    convening, _ = await _open_floor(session, access)
    ended = await _end_turn(session, convening.id, utcnow())  # type: ignore[arg-type]
    if ended is None:
        raise Conflict("nobody has the floor")
    await emit(
        session, access, "floor.turn_ended", {"entry_id": ended.id, "seat_id": ended.seat_id}
    )
    return ended


async def reorder_queue(session: AsyncSession, access: Access, entry_ids: list[int]) -> None:
    """Put the waiting hands in the facilitator's order (points of order stay first)."""
    convening, _ = await _open_floor(session, access)
    hands = {
        e.id: e
        for e in await _entries(session, convening.id, EntryStatus.waiting)  # type: ignore[arg-type]
        if e.kind == EntryKind.hand
    }
    if len(entry_ids) != len(set(entry_ids)) or set(entry_ids) != set(hands):
        raise Invalid("entry_ids must list every waiting hand exactly once", field="entry_ids")
    for rank, entry_id in enumerate(entry_ids):
        hands[entry_id].rank = rank
        session.add(hands[entry_id])
    await emit(session, access, "floor.queue_reordered", {"entry_ids": entry_ids})


async def set_queue_order(session: AsyncSession, access: Access, order: QueueOrder) -> None:
    """Choose how waiting hands are ordered; the facilitator's manual order is cleared."""
    convening = await lock_convening(session, access.convening)
    convening.queue_order = order
    session.add(convening)
    for entry in await _entries(session, convening.id, EntryStatus.waiting):  # type: ignore[arg-type]
        if entry.rank is not None:
            entry.rank = None
            session.add(entry)
    await emit(session, access, "floor.queue_order_set", {"queue_order": order})


# Tour de table ------------------------------------------------------------------------


async def _active_tours(session: AsyncSession, convening_id: int) -> list[Tour]:
    result = await session.exec(
        select(Tour).where(Tour.convening_id == convening_id, col(Tour.active).is_(True))
    )
    return list(result.all())


async def _current_tour(session: AsyncSession, convening_id: int) -> Tour | None:
    tours = await _active_tours(session, convening_id)
    return tours[0] if tours else None


async def _tour_order(session: AsyncSession, convening_id: int, order: TourOrder) -> list[int]:
    seats = (
        await session.exec(
            select(Seat)
            .where(
                Seat.convening_id == convening_id,
                Seat.role == Role.participant,
                Seat.attendance == Attendance.present,
            )
            .order_by(col(Seat.position), col(Seat.id))
        )
    ).all()
    if order == TourOrder.seating:
        return [s.id for s in seats]  # type: ignore[misc]
    # Alternate stakeholder groups: one seat from each group in turn, groups in the order
    # their first seat sits, seats within a group in seating order.
    by_group: dict[int | None, list[int]] = {}
    for seat in seats:
        by_group.setdefault(seat.group_id, []).append(seat.id)  # type: ignore[arg-type]
    rounds = zip_longest(*by_group.values())
    return [seat_id for round_ in rounds for seat_id in round_ if seat_id is not None]


async def start_tour(session: AsyncSession, access: Access, order: TourOrder) -> Tour:
    """Start a tour de table: every present participant seat gets one turn, in this order."""
    convening, item_id = await _open_floor(session, access)
    if await _current_tour(session, convening.id):  # type: ignore[arg-type]
        raise Conflict("a tour de table is already under way")
    seat_ids = await _tour_order(session, convening.id, order)  # type: ignore[arg-type]
    if not seat_ids:
        raise Conflict("no participant seat is present for a tour de table")
    await _end_turn(session, convening.id, utcnow())  # type: ignore[arg-type]
    tour = Tour(convening_id=convening.id, item_id=item_id, order=order, seat_ids=seat_ids)  # type: ignore[arg-type]
    session.add(tour)
    await session.flush()
    await emit(session, access, "tour.started", {"tour_id": tour.id, "order": order})
    return tour


async def _next_tour_turn(
    session: AsyncSession, tour: Tour, item_id: int, now: datetime
) -> FloorEntry | None:
    """The next turn of the tour (seats that passed ahead are skipped); None when it is over."""
    passed_ahead = {
        e.seat_id
        for e in (
            await session.exec(
                select(FloorEntry).where(
                    FloorEntry.tour_id == tour.id, FloorEntry.status == EntryStatus.passed
                )
            )
        ).all()
    }
    while tour.next_index < len(tour.seat_ids):
        seat_id = tour.seat_ids[tour.next_index]
        tour.next_index += 1
        session.add(tour)
        if seat_id in passed_ahead:
            continue
        entry = FloorEntry(
            convening_id=tour.convening_id,
            item_id=item_id,
            seat_id=seat_id,
            tour_id=tour.id,
            kind=EntryKind.tour,
            raised_at=now,
        )
        _give_floor(entry, now)
        return entry
    tour.active = False
    tour.ended_at = now
    session.add(tour)
    return None


async def pass_turn(session: AsyncSession, access: Access, seat_id: int) -> None:
    """Record that a seat passes its turn in the tour (now, if speaking, or ahead of it)."""
    convening, item_id = await _open_floor(session, access)
    tour = await _current_tour(session, convening.id)  # type: ignore[arg-type]
    if tour is None:
        raise Conflict("no tour de table is under way")
    if seat_id not in tour.seat_ids:
        raise Conflict("this seat has no turn in the tour")
    turns = (
        await session.exec(
            select(FloorEntry).where(FloorEntry.tour_id == tour.id, FloorEntry.seat_id == seat_id)
        )
    ).all()
    now = utcnow()
    speaking = next((t for t in turns if t.status == EntryStatus.speaking), None)
    if speaking is not None:
        _end(speaking, now, EntryStatus.passed)
        session.add(speaking)
    elif turns:
        raise Conflict("this seat has already had its turn")
    else:
        session.add(
            FloorEntry(
                convening_id=convening.id,  # type: ignore[arg-type]
                item_id=item_id,
                seat_id=seat_id,
                tour_id=tour.id,
                kind=EntryKind.tour,
                status=EntryStatus.passed,
                raised_at=now,
                ended_at=now,
            )
        )
    await emit(session, access, "tour.passed", {"tour_id": tour.id, "seat_id": seat_id})


async def end_tour(session: AsyncSession, access: Access) -> None:
    """Stop the tour de table (the turn in progress ends)."""
    convening, _ = await _open_floor(session, access)
    tour = await _current_tour(session, convening.id)  # type: ignore[arg-type]
    if tour is None:
        raise Conflict("no tour de table is under way")
    now = utcnow()
    speaker = await _speaker(session, convening.id)  # type: ignore[arg-type]
    if speaker is not None and speaker.tour_id == tour.id:
        _end(speaker, now)
        session.add(speaker)
    tour.active = False
    tour.ended_at = now
    session.add(tour)
    await emit(session, access, "tour.ended", {"tour_id": tour.id})


# Attendance in the room ----------------------------------------------------------------


async def mark_attendance(
    session: AsyncSession, access: Access, seat_id: int, attendance: Attendance
) -> Seat:
    """The facilitator marks a seat present (in the room) or absent."""
    convening = await lock_convening(session, access.convening)
    seat = await get_seat(session, convening.id, seat_id)  # type: ignore[arg-type]
    if seat.attendance != attendance:
        seat.attendance = attendance
        session.add(seat)
        await emit(
            session,
            access,
            "seat.attendance_changed",
            {"seat_id": seat.id, "attendance": attendance, "by": "facilitator"},
            upsert={"seats": [seat_view(seat)]},
        )
    return seat
