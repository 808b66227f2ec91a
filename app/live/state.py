"""The room's state: what every seat sees, built fresh from the database.

The state is a dict of parts (`convening`, `groups`, `seats`, `agenda`, `floor`). Every
event carries, in `data["state"]`, the new value of each part it changed, so a client
applies an event by replacing those parts: replaying the log from any sequence number onto
the state at that number gives the state a fresh build gives (tests/live prove it).
Times are instants (ISO 8601, UTC), never "seconds left", so the state does not age.
"""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agenda.models import AgendaItem, ItemStatus
from app.convenings.models import Convening, Seat, StakeholderGroup
from app.floor.models import EntryKind, EntryStatus, FloorEntry, QueueOrder, Tour

State = dict[str, Any]
RECORD_PARTS = ("contributions", "checks", "outcomes", "dissents", "parking", "commitments")
PARTS = ("convening", "groups", "seats", "agenda", "floor", *RECORD_PARTS)

# Which parts of the state an event kind can change, by the kind's prefix.
TOUCHES: dict[str, tuple[str, ...]] = {
    "convening.": ("convening",),
    "group.": ("groups",),
    "seat.": ("seats",),
    # A renamed seat or group changes how the record names people: resend it all (rare).
    "seat.updated": ("seats", *RECORD_PARTS),
    "group.updated": ("groups", *RECORD_PARTS),
    "seats.": ("seats",),
    # One seat's attendance: the event upserts that seat alone (a join wave in a room of
    # thousands must not resend every seat to every client).
    "seat.attendance_changed": (),
    "invitation.redeemed": (),
    "invitation.": (),
    "agenda.": ("agenda", "floor"),
    "floor.": ("floor",),
    "floor.queue_order_set": ("convening", "floor"),
    "tour.": ("floor",),
    # Record events carry the records they add or change in `data["upsert"]` instead.
    "record.": (),
}


def touched_parts(kind: str) -> tuple[str, ...]:
    """The state parts an event of this kind carries."""
    best = max((p for p in TOUCHES if kind.startswith(p)), key=len, default=None)
    return TOUCHES[best] if best is not None else ()


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def convening_part(session: AsyncSession, convening: Convening) -> dict[str, Any]:
    """The convening as the room shows it."""
    return {
        "id": convening.id,
        "title": convening.title,
        "purpose": convening.purpose,
        "status": convening.status,
        "attribution": convening.attribution,
        "language": convening.language,
        "time_zone": convening.time_zone,
        "starts_at": _at(convening.starts_at),
        "ends_at": _at(convening.ends_at),
        "queue_order": convening.queue_order,
    }


async def groups_part(session: AsyncSession, convening: Convening) -> list[dict[str, Any]]:
    """The stakeholder groups at the table."""
    rows = await session.exec(
        select(StakeholderGroup)
        .where(StakeholderGroup.convening_id == convening.id)
        .order_by(col(StakeholderGroup.position), col(StakeholderGroup.id))
    )
    return [{"id": g.id, "name": g.name, "preset": g.preset} for g in rows.all()]


def seat_view(seat: Seat) -> dict[str, Any]:
    """One seat as the room sees it (no contact details)."""
    return {
        "id": seat.id,
        "name": seat.holder_name,
        "affiliation": seat.affiliation,
        "role": seat.role,
        "group_id": seat.group_id,
        "position": seat.position,
        "attendance": seat.attendance,
    }


async def seats_part(session: AsyncSession, convening: Convening) -> list[dict[str, Any]]:
    """The seats as the room sees them, in id order (upserts keep that order; `position`
    gives the seating order)."""
    rows = await session.exec(
        select(Seat).where(Seat.convening_id == convening.id).order_by(col(Seat.id))
    )
    return [seat_view(s) for s in rows.all()]


async def agenda_part(session: AsyncSession, convening: Convening) -> list[dict[str, Any]]:
    """The agenda with each item's timer."""
    rows = await session.exec(
        select(AgendaItem)
        .where(AgendaItem.convening_id == convening.id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    )
    return [
        {
            "id": i.id,
            "position": i.position,
            "kind": i.kind,
            "title": i.title,
            "description": i.description,
            "questions": list(i.questions),
            "timebox_seconds": i.timebox_minutes * 60,
            "status": i.status,
            "started_at": _at(i.started_at),
            "run_started_at": _at(i.run_started_at),
            "elapsed_seconds": round(i.elapsed_seconds, 3),
            "completed_at": _at(i.completed_at),
        }
        for i in rows.all()
    ]


def order_queue(
    waiting: list[FloorEntry],
    policy: str,
    seat_airtime: dict[int, float],
    group_airtime: dict[int | None, float],
    seat_group: dict[int, int | None],
) -> list[FloorEntry]:
    """The queue in speaking order: points of order, then direct replies, then hands.

    Hands the facilitator placed by hand (rank) come first in that order; the rest follow
    the convening's policy: first come first served, least heard seat, or least heard group.
    Ties fall back to who asked first.
    """

    def hand_key(entry: FloorEntry) -> tuple[Any, ...]:
        if entry.rank is not None:
            return (0, entry.rank, 0.0, entry.raised_at, entry.id)
        if policy == QueueOrder.least_heard_seat:
            heard = seat_airtime.get(entry.seat_id, 0.0)
        elif policy == QueueOrder.least_heard_group:
            heard = group_airtime.get(seat_group.get(entry.seat_id), 0.0)
        else:
            heard = 0.0
        return (1, 0, heard, entry.raised_at, entry.id)

    points = sorted(
        (e for e in waiting if e.kind == EntryKind.point_of_order),
        key=lambda e: (e.raised_at, e.id),
    )
    replies = sorted(
        (e for e in waiting if e.kind == EntryKind.direct_reply), key=lambda e: (e.raised_at, e.id)
    )
    hands = sorted((e for e in waiting if e.kind == EntryKind.hand), key=hand_key)
    return [*points, *replies, *hands]


async def airtime(
    session: AsyncSession, convening_id: int
) -> tuple[dict[int, float], dict[int | None, float], dict[int, int | None]]:
    """Seconds spoken per seat and per group over the whole convening, and each seat's group."""
    seat_group: dict[int, int | None] = {
        seat_id: group_id  # type: ignore[misc]
        for seat_id, group_id in (
            await session.exec(
                select(Seat.id, Seat.group_id).where(Seat.convening_id == convening_id)
            )
        ).all()
    }
    per_seat: dict[int, float] = defaultdict(float)
    for seat_id, seconds in (
        await session.exec(
            select(FloorEntry.seat_id, FloorEntry.seconds).where(
                FloorEntry.convening_id == convening_id,
                FloorEntry.status == EntryStatus.done,
            )
        )
    ).all():
        per_seat[seat_id] += seconds
    per_group: dict[int | None, float] = defaultdict(float)
    for seat_id, seconds in per_seat.items():
        per_group[seat_group.get(seat_id)] += seconds
    return dict(per_seat), dict(per_group), seat_group


def _entry(entry: FloorEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "seat_id": entry.seat_id,
        "kind": entry.kind,
        "raised_at": _at(entry.raised_at),
        "called_at": _at(entry.called_at),
    }


async def floor_part(session: AsyncSession, convening: Convening) -> dict[str, Any]:
    """Who speaks, who waits in what order, airtime per seat and group, the tour if any."""
    convening_id = convening.id
    assert convening_id is not None
    live = (
        await session.exec(
            select(FloorEntry).where(
                FloorEntry.convening_id == convening_id,
                col(FloorEntry.status).in_([EntryStatus.waiting, EntryStatus.speaking]),
            )
        )
    ).all()
    per_seat, per_group, seat_group = await airtime(session, convening_id)
    waiting = [e for e in live if e.status == EntryStatus.waiting and e.kind != EntryKind.tour]
    speaking = next((e for e in live if e.status == EntryStatus.speaking), None)
    tour = (
        await session.exec(
            select(Tour).where(Tour.convening_id == convening_id, col(Tour.active).is_(True))
        )
    ).first()
    tour_part = None
    if tour is not None:
        turns = (
            await session.exec(
                select(FloorEntry.seat_id, FloorEntry.status)
                .where(FloorEntry.tour_id == tour.id)
                .order_by(col(FloorEntry.id))
            )
        ).all()
        tour_part = {
            "id": tour.id,
            "order": tour.order,
            "seat_ids": list(tour.seat_ids),
            "next_index": tour.next_index,
            "spoken": [s for s, status in turns if status == EntryStatus.done],
            "passed": [s for s, status in turns if status == EntryStatus.passed],
        }
    queue = order_queue(waiting, convening.queue_order, per_seat, per_group, seat_group)
    active = (
        await session.exec(
            select(AgendaItem.id).where(
                AgendaItem.convening_id == convening_id, AgendaItem.status == ItemStatus.active
            )
        )
    ).first()
    return {
        "item_id": active,
        "speaker": _entry(speaking) if speaking else None,
        "queue": [_entry(e) for e in queue],
        "airtime": {
            "seats": {str(k): round(v, 3) for k, v in sorted(per_seat.items())},
            "groups": {
                ("none" if k is None else str(k)): round(v, 3)
                for k, v in sorted(per_group.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
            },
        },
        "tour": tour_part,
    }


BUILDERS: dict[str, Callable[[AsyncSession, Convening], Awaitable[Any]]] = {
    "convening": convening_part,
    "groups": groups_part,
    "seats": seats_part,
    "agenda": agenda_part,
    "floor": floor_part,
}


async def build_parts(session: AsyncSession, convening: Convening, parts: Iterable[str]) -> State:
    """The named parts of the state, fresh (the room's view: attribution for the room)."""
    wanted = list(parts)
    state: State = {
        part: await BUILDERS[part](session, convening) for part in wanted if part in BUILDERS
    }
    if any(part in RECORD_PARTS for part in wanted):
        from app.attribution import Audience, load_people
        from app.record.views import record_parts

        people = await load_people(session, convening.id, convening.attribution)  # type: ignore[arg-type]
        record = await record_parts(session, convening.id, people, Audience.room)  # type: ignore[arg-type]
        state.update({part: record[part] for part in wanted if part in RECORD_PARTS})
    return state


async def room_state(session: AsyncSession, convening: Convening) -> State:
    """The whole state of the room, fresh."""
    return await build_parts(session, convening, PARTS)


def apply_event(state: State, event: dict[str, Any]) -> State:
    """The state after an event: the parts it carries replace the old ones, and the records
    it upserts replace those with the same id in their list (or join it, in id order)."""
    data = event.get("data", {})
    new = {**state, **data.get("state", {})}
    for part, records in data.get("upsert", {}).items():
        by_id = {r["id"]: r for r in new.get(part, [])}
        by_id.update({r["id"]: r for r in records})
        new[part] = [by_id[key] for key in sorted(by_id)]
    return new
