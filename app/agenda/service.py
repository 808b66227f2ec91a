"""Agenda rules: ordered items, edited only while the convening is a draft. Never commits."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agenda.models import AgendaItem, ItemStatus
from app.agenda.schemas import AgendaRead, ItemCreate, ItemRead, ItemUpdate
from app.authz import Access
from app.convenings.models import Convening, ConveningStatus
from app.convenings.service import emit
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.live.log import lock_convening


def _require_draft(convening: Convening) -> None:
    if convening.status != ConveningStatus.draft:
        raise Conflict(
            "the agenda can only be changed while the convening is a draft "
            f"(it is {convening.status})"
        )


async def list_items(session: AsyncSession, convening_id: int) -> list[AgendaItem]:
    """The agenda in order."""
    result = await session.exec(
        select(AgendaItem)
        .where(AgendaItem.convening_id == convening_id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    )
    return list(result.all())


def summarize(convening: Convening, items: list[AgendaItem]) -> AgendaRead:
    """The agenda with the sum of its timeboxes against the scheduled duration."""
    total = sum(item.timebox_minutes for item in items)
    scheduled = None
    if convening.starts_at and convening.ends_at:
        scheduled = int((convening.ends_at - convening.starts_at).total_seconds() // 60)
    return AgendaRead(
        items=[ItemRead.model_validate(item, from_attributes=True) for item in items],
        total_minutes=total,
        scheduled_minutes=scheduled,
        spare_minutes=None if scheduled is None else scheduled - total,
    )


async def get_item(session: AsyncSession, convening_id: int, item_id: int) -> AgendaItem:
    """An item of this convening's agenda; NotFound otherwise."""
    item = await session.get(AgendaItem, item_id)
    if item is None or item.convening_id != convening_id:
        raise NotFound("agenda item not found")
    return item


async def add_item(session: AsyncSession, access: Access, data: ItemCreate) -> AgendaItem:
    """Append an item to the agenda."""
    _require_draft(access.convening)
    convening_id = access.convening.id
    highest = await session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.convening_id == convening_id)
    )
    item = AgendaItem(
        convening_id=convening_id,  # type: ignore[arg-type]
        position=int(highest) + 1 if highest is not None else 0,
        **data.model_dump(),
    )
    session.add(item)
    await session.flush()
    await emit(session, access, "agenda.item_added", {"item_id": item.id})
    return item


async def update_item(
    session: AsyncSession, access: Access, item_id: int, data: ItemUpdate
) -> AgendaItem:
    """Edit an item's kind, title, description, timebox or questions."""
    _require_draft(access.convening)
    item = await get_item(session, access.convening.id, item_id)  # type: ignore[arg-type]
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None:
            raise Invalid(f"{key} cannot be empty", field=key)
        setattr(item, key, value)
    session.add(item)
    await emit(
        session, access, "agenda.item_updated", {"item_id": item.id, "fields": sorted(changes)}
    )
    return item


async def remove_item(session: AsyncSession, access: Access, item_id: int) -> None:
    """Delete an item from the agenda."""
    _require_draft(access.convening)
    item = await get_item(session, access.convening.id, item_id)  # type: ignore[arg-type]
    await session.delete(item)
    await emit(session, access, "agenda.item_removed", {"item_id": item_id})


async def reorder(session: AsyncSession, access: Access, item_ids: list[int]) -> list[AgendaItem]:
    """Put the agenda in the given order; the list must name every item exactly once."""
    _require_draft(access.convening)
    items = await list_items(session, access.convening.id)  # type: ignore[arg-type]
    by_id = {item.id: item for item in items}
    if len(item_ids) != len(set(item_ids)) or set(item_ids) != set(by_id):
        raise Invalid("item_ids must list every agenda item exactly once", field="item_ids")
    for position, item_id in enumerate(item_ids):
        by_id[item_id].position = position
        session.add(by_id[item_id])
    await emit(session, access, "agenda.reordered", {"item_ids": item_ids})
    return [by_id[i] for i in item_ids]


# Running the agenda live -----------------------------------------------------------------


def _require_live(convening: Convening) -> None:
    if convening.status != ConveningStatus.live:
        raise Conflict(f"the convening is not live (it is {convening.status})")


def elapsed(item: AgendaItem, now: datetime) -> float:
    """Seconds the item's timer has run, the current run included."""
    running = (now - item.run_started_at).total_seconds() if item.run_started_at else 0.0
    return item.elapsed_seconds + max(running, 0.0)


async def active_item(session: AsyncSession, convening_id: int) -> AgendaItem | None:
    """The item open on the floor, if any."""
    result = await session.exec(
        select(AgendaItem).where(
            AgendaItem.convening_id == convening_id, AgendaItem.status == ItemStatus.active
        )
    )
    return result.first()


async def _finish(session: AsyncSession, item: AgendaItem, now: datetime) -> None:
    from app.floor.service import close_floor

    item.elapsed_seconds = elapsed(item, now)
    item.run_started_at = None
    item.status = ItemStatus.done
    item.completed_at = now
    session.add(item)
    await close_floor(session, item.convening_id, now)


async def start_item(session: AsyncSession, access: Access, item_id: int) -> AgendaItem:
    """Open an item on the floor and start its timer; the item open before it is completed."""
    convening = await lock_convening(session, access.convening)
    _require_live(convening)
    item = await get_item(session, convening.id, item_id)  # type: ignore[arg-type]
    if item.status == ItemStatus.active:
        raise Conflict("this item is already open")
    now = utcnow()
    current = await active_item(session, convening.id)  # type: ignore[arg-type]
    if current is not None:
        await _finish(session, current, now)
        await emit(session, access, "agenda.item_completed", {"item_id": current.id})
    item.status = ItemStatus.active
    item.started_at = item.started_at or now
    item.run_started_at = now
    item.completed_at = None
    session.add(item)
    await emit(session, access, "agenda.item_started", {"item_id": item.id})
    return item


async def _require_active(session: AsyncSession, access: Access, item_id: int) -> AgendaItem:
    convening = await lock_convening(session, access.convening)
    _require_live(convening)
    item = await get_item(session, convening.id, item_id)  # type: ignore[arg-type]
    if item.status != ItemStatus.active:
        raise Conflict("this item is not open")
    return item


async def complete_item(session: AsyncSession, access: Access, item_id: int) -> AgendaItem:
    """Close an item: stop its timer, end the turn in progress, let waiting hands lapse."""
    item = await _require_active(session, access, item_id)
    await _finish(session, item, utcnow())
    await emit(session, access, "agenda.item_completed", {"item_id": item.id})
    return item


async def pause_item(session: AsyncSession, access: Access, item_id: int) -> AgendaItem:
    """Pause the open item's timer."""
    item = await _require_active(session, access, item_id)
    if item.run_started_at is None:
        raise Conflict("the timer is already paused")
    item.elapsed_seconds = elapsed(item, utcnow())
    item.run_started_at = None
    session.add(item)
    await emit(session, access, "agenda.timer_paused", {"item_id": item.id})
    return item


async def resume_item(session: AsyncSession, access: Access, item_id: int) -> AgendaItem:
    """Resume the open item's timer."""
    item = await _require_active(session, access, item_id)
    if item.run_started_at is not None:
        raise Conflict("the timer is already running")
    item.run_started_at = utcnow()
    session.add(item)
    await emit(session, access, "agenda.timer_resumed", {"item_id": item.id})
    return item


async def finish_active_item(session: AsyncSession, access: Access) -> None:
    """Complete the open item, if any (when the convening closes)."""
    item = await active_item(session, access.convening.id)  # type: ignore[arg-type]
    if item is not None:
        await _finish(session, item, utcnow())
        await emit(session, access, "agenda.item_completed", {"item_id": item.id})
