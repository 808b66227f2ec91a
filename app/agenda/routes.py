"""JSON API for the agenda."""

from fastapi import APIRouter, status

from app.agenda import service
from app.agenda.schemas import AgendaRead, ItemCreate, ItemRead, ItemUpdate, Reorder
from app.authz import Prepare, RunFloor, Watch
from app.db import SessionDep
from app.errors import refusals

router = APIRouter(prefix="/api/convenings/{convening_id}/agenda", tags=["agenda"])


@router.get("", response_model=AgendaRead, responses=refusals(403, 404))
async def read_agenda(access: Watch, session: SessionDep) -> AgendaRead:
    """The agenda in order, with its total time against the schedule."""
    items = await service.list_items(session, access.convening.id)  # type: ignore[arg-type]
    return service.summarize(access.convening, items)


@router.post(
    "",
    response_model=ItemRead,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def add_item(data: ItemCreate, access: Prepare, session: SessionDep) -> object:
    """Append an item (draft convenings only)."""
    return await service.add_item(session, access, data)


@router.patch("/{item_id}", response_model=ItemRead, responses=refusals(403, 404, 409))
async def update_item(
    item_id: int, data: ItemUpdate, access: Prepare, session: SessionDep
) -> object:
    """Edit an item (draft convenings only)."""
    return await service.update_item(session, access, item_id, data)


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=refusals(403, 404, 409),
)
async def remove_item(item_id: int, access: Prepare, session: SessionDep) -> None:
    """Delete an item (draft convenings only)."""
    await service.remove_item(session, access, item_id)


@router.put("/order", response_model=AgendaRead, responses=refusals(403, 404, 409))
async def reorder(data: Reorder, access: Prepare, session: SessionDep) -> AgendaRead:
    """Reorder the agenda: `item_ids` names every item once, in the new order."""
    items = await service.reorder(session, access, data.item_ids)
    return service.summarize(access.convening, items)


@router.post("/{item_id}/start", response_model=ItemRead, responses=refusals(403, 404, 409))
async def start_item(item_id: int, access: RunFloor, session: SessionDep) -> object:
    """Open the item on the floor and start its timer (the open one is completed)."""
    return await service.start_item(session, access, item_id)


@router.post("/{item_id}/complete", response_model=ItemRead, responses=refusals(403, 404, 409))
async def complete_item(item_id: int, access: RunFloor, session: SessionDep) -> object:
    """Complete the open item: its timer stops, the turn ends, waiting hands lapse."""
    return await service.complete_item(session, access, item_id)


@router.post("/{item_id}/pause", response_model=ItemRead, responses=refusals(403, 404, 409))
async def pause_item(item_id: int, access: RunFloor, session: SessionDep) -> object:
    """Pause the open item's timer."""
    return await service.pause_item(session, access, item_id)


@router.post("/{item_id}/resume", response_model=ItemRead, responses=refusals(403, 404, 409))
async def resume_item(item_id: int, access: RunFloor, session: SessionDep) -> object:
    """Resume the open item's timer."""
    return await service.resume_item(session, access, item_id)
