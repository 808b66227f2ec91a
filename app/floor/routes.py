"""JSON API for the floor: asking for it, giving it, tours de table, attendance in the room."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.authz import RunFloor, TakePart
from app.convenings.schemas import SeatRead
from app.db import SessionDep
from app.errors import refusals
from app.floor import service
from app.floor.schemas import (
    CallSeat,
    FloorChange,
    MarkAttendance,
    PassFor,
    RaiseHand,
    ReorderQueue,
    SetQueueOrder,
    StartTour,
)

router = APIRouter(prefix="/api/convenings/{convening_id}", tags=["floor"])


def _seq(access: object) -> FloorChange:
    return FloorChange(seq=access.convening.last_seq)  # type: ignore[attr-defined]


@router.post(
    "/floor/hand",
    response_model=FloorChange,
    status_code=201,
    responses=refusals(403, 404, 409),
)
async def raise_hand(data: RaiseHand, access: TakePart, session: SessionDep) -> FloorChange:
    """Ask for the floor: `hand`, `point_of_order` (goes first) or `direct_reply`."""
    await service.raise_hand(session, access, data.kind)
    return _seq(access)


@router.delete("/floor/hand", response_model=FloorChange, responses=refusals(403, 404, 409))
async def lower_hand(
    access: TakePart,
    session: SessionDep,
    kind: Annotated[str | None, Query(pattern="^(hand|point_of_order|direct_reply)$")] = None,
) -> FloorChange:
    """Withdraw your own request(s) for the floor."""
    await service.lower_hand(session, access, kind)
    return _seq(access)


@router.post("/floor/next", response_model=FloorChange, responses=refusals(403, 404, 409))
async def call_next(access: RunFloor, session: SessionDep) -> FloorChange:
    """End the current turn and call the next speaker."""
    await service.call_next(session, access)
    return _seq(access)


@router.post("/floor/call", response_model=FloorChange, responses=refusals(403, 404, 409))
async def call_seat(data: CallSeat, access: RunFloor, session: SessionDep) -> FloorChange:
    """Give the floor to a specific seat."""
    await service.call_seat(session, access, data.seat_id)
    return _seq(access)


@router.post("/floor/end-turn", response_model=FloorChange, responses=refusals(403, 404, 409))
async def end_turn(access: RunFloor, session: SessionDep) -> FloorChange:
    """End the current turn."""
    await service.end_turn(session, access)
    return _seq(access)


@router.put("/floor/queue", response_model=FloorChange, responses=refusals(403, 404, 409))
async def reorder_queue(data: ReorderQueue, access: RunFloor, session: SessionDep) -> FloorChange:
    """Reorder the waiting hands."""
    await service.reorder_queue(session, access, data.entry_ids)
    return _seq(access)


@router.put("/floor/order", response_model=FloorChange, responses=refusals(403, 404, 409))
async def set_queue_order(
    data: SetQueueOrder, access: RunFloor, session: SessionDep
) -> FloorChange:
    """Choose the queue order: first_come, least_heard_seat or least_heard_group."""
    await service.set_queue_order(session, access, data.queue_order)
    return _seq(access)


@router.post(
    "/floor/tour",
    response_model=FloorChange,
    status_code=201,
    responses=refusals(403, 404, 409),
)
async def start_tour(data: StartTour, access: RunFloor, session: SessionDep) -> FloorChange:
    """Start a tour de table over the present participant seats."""
    await service.start_tour(session, access, data.order)
    return _seq(access)


@router.delete("/floor/tour", response_model=FloorChange, responses=refusals(403, 404, 409))
async def end_tour(access: RunFloor, session: SessionDep) -> FloorChange:
    """Stop the tour de table."""
    await service.end_tour(session, access)
    return _seq(access)


@router.post("/floor/tour/pass", response_model=FloorChange, responses=refusals(403, 404, 409))
async def pass_own_turn(access: TakePart, session: SessionDep) -> FloorChange:
    """Pass your turn in the tour de table."""
    await service.pass_turn(session, access, access.seat.id)  # type: ignore[union-attr, arg-type]
    return _seq(access)


@router.post("/floor/tour/pass-for", response_model=FloorChange, responses=refusals(403, 404, 409))
async def pass_for(data: PassFor, access: RunFloor, session: SessionDep) -> FloorChange:
    """Record that a seat passes its turn in the tour de table."""
    await service.pass_turn(session, access, data.seat_id)
    return _seq(access)


@router.put(
    "/seats/{seat_id}/attendance",
    response_model=SeatRead,
    responses=refusals(403, 404, 409),
)
async def mark_attendance(
    seat_id: int, data: MarkAttendance, access: RunFloor, session: SessionDep
) -> object:
    """Mark a seat present in the room, or absent."""
    return await service.mark_attendance(session, access, seat_id, data.attendance)
