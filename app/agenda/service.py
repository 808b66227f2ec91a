"""Agenda rules: ordered items, edited only while the convening is a draft. Never commits."""

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agenda.models import AgendaItem
from app.agenda.schemas import AgendaRead, ItemCreate, ItemRead, ItemUpdate
from app.authz import Access
from app.convenings.models import Convening, ConveningStatus
from app.convenings.service import emit
from app.errors import Conflict, Invalid, NotFound


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
