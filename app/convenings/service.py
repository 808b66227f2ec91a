"""Preparing a convening: details, lifecycle, groups, seats and inclusion. Never commits."""

from collections import Counter
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Convener
from app.authz import Access
from app.convenings.models import (
    Attendance,
    AttributionRule,
    Convening,
    ConveningStatus,
    Role,
    Seat,
    StakeholderGroup,
)
from app.convenings.schemas import (
    PRESET_LABELS,
    ConveningCreate,
    ConveningUpdate,
    GroupCreate,
    GroupGap,
    GroupUpdate,
    Inclusion,
    SeatCreate,
    SeatRead,
    SeatUpdate,
)
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_, _, use_language
from app.live.log import append_event

# The attribution rule in plain words (translated where used, in the reader's language).
ATTRIBUTION_STATEMENTS: dict[str, str] = {
    AttributionRule.attributed: N_(
        "This convening is on the record: what you say may be reported with your name, "
        "affiliation and stakeholder group."
    ),
    AttributionRule.chatham_house: N_(
        "This convening is held under the Chatham House Rule: what is said may be used, but "
        "neither the identity nor the affiliation of the speaker may be revealed. Outside the "
        "room, statements are attributed to a stakeholder group only."
    ),
    AttributionRule.anonymous: N_(
        "This convening is anonymous: nothing recorded links what you say, how you answer a "
        "consensus check, or a dissent you log to you or your seat."
    ),
}

# Which lifecycle moves exist; the route that performs each one carries its permission.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    ConveningStatus.draft: (ConveningStatus.scheduled,),
    ConveningStatus.scheduled: (ConveningStatus.draft, ConveningStatus.live),
    ConveningStatus.live: (ConveningStatus.closed,),
    ConveningStatus.closed: (ConveningStatus.reported,),
    ConveningStatus.reported: (),
}

PREPARING = (ConveningStatus.draft, ConveningStatus.scheduled)


def ground_rules_text(convening: Convening, language: str | None = None) -> str:
    """The ground rules every seat accepts: the attribution rule in plain words (in `language`,
    by default the convening's), then the convener's own rules as written."""
    with use_language(language or convening.language):
        statement = _(ATTRIBUTION_STATEMENTS[convening.attribution])
    extra = convening.ground_rules.strip()
    return f"{statement}\n\n{extra}" if extra else statement


def _actor_ids(access: Access | None) -> dict[str, Any]:
    if access is None:
        return {}
    return {
        "actor_seat_id": access.seat.id if access.seat else None,
        "actor_convener_id": access.convener.id if access.convener else None,
    }


async def emit(
    session: AsyncSession,
    access: Access,
    kind: str,
    data: dict[str, Any] | None = None,
    *,
    upsert: dict[str, list[dict[str, Any]]] | None = None,
    anonymous: bool = False,
) -> None:
    """Append an event on the accessed convening, attributed to the caller (to nobody when
    `anonymous`: the event must not link what it records to a seat)."""
    actor = {} if anonymous else _actor_ids(access)
    await append_event(session, access.convening, kind, data, upsert=upsert, **actor)


async def list_convenings(session: AsyncSession, owner: Convener) -> list[Convening]:
    """The convenings this convener owns, soonest first, undated last."""
    result = await session.exec(
        select(Convening)
        .where(Convening.owner_id == owner.id)
        .order_by(col(Convening.starts_at).is_(None), col(Convening.starts_at), col(Convening.id))
    )
    return list(result.all())


async def create_convening(
    session: AsyncSession, owner: Convener, data: ConveningCreate
) -> Convening:
    """Create a draft convening owned by this convener."""
    convening = Convening(owner_id=owner.id, **data.model_dump())  # type: ignore[arg-type]
    session.add(convening)
    await session.flush()
    await append_event(
        session,
        convening,
        "convening.created",
        {"title": convening.title},
        actor_convener_id=owner.id,
    )
    return convening


async def update_convening(
    session: AsyncSession, access: Access, data: ConveningUpdate
) -> Convening:
    """Change a convening's details; the schedule must stay in order."""
    convening = access.convening
    changes = data.model_dump(exclude_unset=True)
    starts = changes.get("starts_at", convening.starts_at)
    ends = changes.get("ends_at", convening.ends_at)
    if starts is not None and ends is not None and ends <= starts:
        raise Invalid("ends_at must be after starts_at", field="ends_at")
    if "attribution" in changes and convening.status not in PREPARING:
        raise Conflict("the attribution rule cannot change once the convening has gone live")
    for key, value in changes.items():
        if value is None and key not in ("starts_at", "ends_at"):
            raise Invalid(f"{key} cannot be empty", field=key)
    for key, value in changes.items():
        setattr(convening, key, value)
    convening.updated_at = utcnow()
    session.add(convening)
    await emit(session, access, "convening.updated", {"fields": sorted(changes)})
    return convening


async def transition(session: AsyncSession, access: Access, to: ConveningStatus) -> Convening:
    """Move the convening along its lifecycle; raises Conflict for a move that does not exist."""
    convening = access.convening
    if to not in TRANSITIONS[convening.status]:
        raise Conflict(f"a {convening.status} convening cannot become {to}")
    previous = convening.status
    convening.status = to
    convening.updated_at = utcnow()
    session.add(convening)
    await emit(session, access, "convening.status_changed", {"from": previous, "to": to})
    return convening


# Stakeholder groups ---------------------------------------------------------------------


async def list_groups(session: AsyncSession, convening_id: int) -> list[StakeholderGroup]:
    """The convening's stakeholder groups in their order."""
    result = await session.exec(
        select(StakeholderGroup)
        .where(StakeholderGroup.convening_id == convening_id)
        .order_by(col(StakeholderGroup.position), col(StakeholderGroup.id))
    )
    return list(result.all())


async def _group_name_taken(
    session: AsyncSession, convening_id: int, name: str, except_id: int | None = None
) -> bool:
    query = select(StakeholderGroup.id).where(
        StakeholderGroup.convening_id == convening_id,
        func.lower(StakeholderGroup.name) == name.lower(),
    )
    if except_id is not None:
        query = query.where(StakeholderGroup.id != except_id)
    return (await session.exec(query)).first() is not None


async def add_group(session: AsyncSession, access: Access, data: GroupCreate) -> StakeholderGroup:
    """Add a stakeholder group, from a preset or custom; names are unique per convening."""
    convening_id = access.convening.id
    assert convening_id is not None
    # A preset group is named in the convening's language (set by the permission check).
    name = data.name or _(PRESET_LABELS[data.preset])  # type: ignore[index]
    if await _group_name_taken(session, convening_id, name):
        raise Invalid(f"a group named {name!r} is already at this table", field="name")
    count = await session.scalar(
        select(func.count()).where(StakeholderGroup.convening_id == convening_id)
    )
    group = StakeholderGroup(
        convening_id=convening_id,
        preset=data.preset,
        name=name,
        target_seats=data.target_seats,
        position=int(count or 0),
    )
    session.add(group)
    await session.flush()
    await emit(session, access, "group.added", {"group_id": group.id, "name": group.name})
    return group


async def get_group(session: AsyncSession, convening_id: int, group_id: int) -> StakeholderGroup:
    """A group of this convening; NotFound otherwise."""
    group = await session.get(StakeholderGroup, group_id)
    if group is None or group.convening_id != convening_id:
        raise NotFound("stakeholder group not found")
    return group


async def update_group(
    session: AsyncSession, access: Access, group_id: int, data: GroupUpdate
) -> StakeholderGroup:
    """Rename a group or change its target."""
    group = await get_group(session, access.convening.id, group_id)  # type: ignore[arg-type]
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes and await _group_name_taken(
        session, group.convening_id, changes["name"], except_id=group.id
    ):
        raise Invalid(f"a group named {changes['name']!r} is already at this table", field="name")
    for key, value in changes.items():
        setattr(group, key, value)
    session.add(group)
    await emit(session, access, "group.updated", {"group_id": group.id, "fields": sorted(changes)})
    return group


async def remove_group(session: AsyncSession, access: Access, group_id: int) -> None:
    """Remove a group that nobody sits in; Conflict if seats still belong to it."""
    group = await get_group(session, access.convening.id, group_id)  # type: ignore[arg-type]
    seated = await session.scalar(select(func.count()).where(Seat.group_id == group.id))
    if seated:
        raise Conflict(f"{seated} seat(s) still belong to {group.name}; move them first")
    await session.delete(group)
    await emit(session, access, "group.removed", {"group_id": group_id})


# Seats ----------------------------------------------------------------------------------


async def list_seats(session: AsyncSession, convening_id: int) -> list[Seat]:
    """The convening's seats in seating order."""
    result = await session.exec(
        select(Seat)
        .where(Seat.convening_id == convening_id)
        .order_by(col(Seat.position), col(Seat.id))
    )
    return list(result.all())


async def get_seat(session: AsyncSession, convening_id: int, seat_id: int) -> Seat:
    """A seat of this convening; NotFound otherwise."""
    seat = await session.get(Seat, seat_id)
    if seat is None or seat.convening_id != convening_id:
        raise NotFound("seat not found")
    return seat


async def _check_group(session: AsyncSession, convening_id: int, group_id: int | None) -> None:
    if group_id is None:
        return
    group = await session.get(StakeholderGroup, group_id)
    if group is None or group.convening_id != convening_id:
        raise Invalid("this stakeholder group is not part of the convening", field="group_id")


async def _check_email(
    session: AsyncSession, convening_id: int, email: str | None, except_id: int | None = None
) -> str | None:
    if not email:
        return None
    email = email.strip().lower()
    query = select(Seat.id).where(Seat.convening_id == convening_id, Seat.email == email)
    if except_id is not None:
        query = query.where(Seat.id != except_id)
    if (await session.exec(query)).first() is not None:
        raise Invalid(f"another seat in this convening already uses {email}", field="email")
    return email


async def _next_seat_position(session: AsyncSession, convening_id: int) -> int:
    highest = await session.scalar(
        select(func.max(Seat.position)).where(Seat.convening_id == convening_id)
    )
    return int(highest) + 1 if highest is not None else 0


async def add_seat(session: AsyncSession, access: Access, data: SeatCreate) -> Seat:
    """Seat someone at the table; the group must be this convening's and the email unique."""
    convening_id = access.convening.id
    assert convening_id is not None
    await _check_group(session, convening_id, data.group_id)
    email = await _check_email(session, convening_id, data.email)
    seat = Seat(
        convening_id=convening_id,
        **data.model_dump(exclude={"email"}),
        email=email,
        position=await _next_seat_position(session, convening_id),
    )
    session.add(seat)
    await session.flush()
    await emit(session, access, "seat.added", {"seat_id": seat.id, "role": seat.role})
    return seat


async def update_seat(
    session: AsyncSession, access: Access, seat_id: int, data: SeatUpdate
) -> Seat:
    """Change a seat's holder, role, group or attendance."""
    convening_id = access.convening.id
    assert convening_id is not None
    seat = await get_seat(session, convening_id, seat_id)
    changes = data.model_dump(exclude_unset=True)
    if "group_id" in changes:
        await _check_group(session, convening_id, changes["group_id"])
    if "email" in changes:
        changes["email"] = await _check_email(session, convening_id, changes["email"], seat.id)
    for required in ("role", "holder_name", "attendance"):
        if required in changes and changes[required] is None:
            raise Invalid(f"{required} cannot be empty", field=required)
    for key, value in changes.items():
        setattr(seat, key, value)
    session.add(seat)
    await emit(session, access, "seat.updated", {"seat_id": seat.id, "fields": sorted(changes)})
    return seat


async def remove_seat(session: AsyncSession, access: Access, seat_id: int) -> None:
    """Remove a seat before the convening goes live; afterwards the record refers to it."""
    if access.convening.status not in PREPARING:
        raise Conflict("seats cannot be removed once the convening has gone live; mark it absent")
    seat = await get_seat(session, access.convening.id, seat_id)  # type: ignore[arg-type]
    await session.delete(seat)
    await emit(session, access, "seat.removed", {"seat_id": seat_id})


async def add_seats(session: AsyncSession, access: Access, rows: list[SeatCreate]) -> list[Seat]:
    """Seat several people at once (rows already validated together), one event for all."""
    convening_id = access.convening.id
    assert convening_id is not None
    position = await _next_seat_position(session, convening_id)
    seats = []
    for offset, row in enumerate(rows):
        seat = Seat(
            convening_id=convening_id,
            **row.model_dump(exclude={"email"}),
            email=row.email.lower() if row.email else None,
            position=position + offset,
        )
        session.add(seat)
        seats.append(seat)
    await session.flush()
    await emit(session, access, "seats.imported", {"seat_ids": [s.id for s in seats]})
    return seats


# Inclusion ------------------------------------------------------------------------------

REQUIRED_ROLES = (Role.facilitator, Role.rapporteur)


async def inclusion(session: AsyncSession, convening_id: int) -> Inclusion:
    """Who is and is not at the table: seats per group against target, gaps, missing roles."""
    groups = await list_groups(session, convening_id)
    seats = await list_seats(session, convening_id)
    taking_part = [s for s in seats if s.attendance != Attendance.declined]
    seated = Counter(s.group_id for s in taking_part)
    gaps = [
        GroupGap(
            group_id=g.id,  # type: ignore[arg-type]
            name=g.name,
            target_seats=g.target_seats,
            seated=seated[g.id],
            missing=max(g.target_seats - seated[g.id], 0),
        )
        for g in groups
    ]
    roles = Counter(s.role for s in taking_part)
    return Inclusion(
        groups=gaps,
        empty_groups=[gap.name for gap in gaps if gap.seated == 0],
        ungrouped_seats=seated[None],
        declined=[
            SeatRead.model_validate(s, from_attributes=True)
            for s in seats
            if s.attendance == Attendance.declined
        ],
        absent=[
            SeatRead.model_validate(s, from_attributes=True)
            for s in seats
            if s.attendance == Attendance.absent
        ],
        missing_roles=[role for role in REQUIRED_ROLES if roles[role] == 0],
        seats_by_role={role.value: roles[role] for role in Role},
    )
