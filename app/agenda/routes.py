"""JSON API for the agenda."""

from fastapi import APIRouter, status

from app.agenda import service
from app.agenda.schemas import AgendaRead, ItemCreate, ItemRead, ItemUpdate, Reorder
from app.authz import Prepare, Watch
from app.db import SessionDep

router = APIRouter(prefix="/api/convenings/{convening_id}/agenda", tags=["agenda"])


@router.get("", response_model=AgendaRead)
async def read_agenda(access: Watch, session: SessionDep) -> AgendaRead:
    """The agenda in order, with its total time against the schedule."""
    items = await service.list_items(session, access.convening.id)  # type: ignore[arg-type]
    return service.summarize(access.convening, items)


@router.post("", response_model=ItemRead, status_code=status.HTTP_201_CREATED)
async def add_item(data: ItemCreate, access: Prepare, session: SessionDep) -> object:
    """Append an item (draft convenings only)."""
    return await service.add_item(session, access, data)


@router.patch("/{item_id}", response_model=ItemRead)
async def update_item(
    item_id: int, data: ItemUpdate, access: Prepare, session: SessionDep
) -> object:
    """Edit an item (draft convenings only)."""
    return await service.update_item(session, access, item_id, data)


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_item(item_id: int, access: Prepare, session: SessionDep) -> None:
    """Delete an item (draft convenings only)."""
    await service.remove_item(session, access, item_id)


@router.put("/order", response_model=AgendaRead)
async def reorder(data: Reorder, access: Prepare, session: SessionDep) -> AgendaRead:
    """Reorder the agenda: `item_ids` names every item once, in the new order."""
    items = await service.reorder(session, access, data.item_ids)
    return service.summarize(access.convening, items)
