"""Request shapes for the floor."""

from typing import Annotated, Literal

from pydantic import Field

from app.convenings.models import Attendance
from app.convenings.schemas import Id, Strict
from app.floor.models import QueueOrder, TourOrder


class RaiseHand(Strict):
    kind: Literal["hand", "point_of_order", "direct_reply"] = "hand"


class CallSeat(Strict):
    seat_id: Id


class ReorderQueue(Strict):
    entry_ids: Annotated[list[Id], Field(max_length=1000)]


class SetQueueOrder(Strict):
    queue_order: QueueOrder


class StartTour(Strict):
    order: TourOrder = TourOrder.seating


class PassFor(Strict):
    seat_id: Id


class MarkAttendance(Strict):
    attendance: Literal[Attendance.present, Attendance.absent]


class FloorChange(Strict):
    """What a floor action answers: the event number it produced."""

    seq: int
