"""The speakers' queue: hands, points of order, direct replies, speaking turns and tours."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class QueueOrder(StrEnum):
    """How waiting hands are ordered (points of order and direct replies always go first)."""

    first_come = "first_come"
    least_heard_seat = "least_heard_seat"
    least_heard_group = "least_heard_group"


class EntryKind(StrEnum):
    hand = "hand"
    point_of_order = "point_of_order"
    direct_reply = "direct_reply"
    called = "called"  # the facilitator gave the floor to a seat that had not asked
    tour = "tour"  # a turn in a tour de table


class EntryStatus(StrEnum):
    waiting = "waiting"
    speaking = "speaking"
    done = "done"
    withdrawn = "withdrawn"  # the seat lowered its hand
    passed = "passed"  # the seat passed its turn in a tour de table
    lapsed = "lapsed"  # the item ended before the seat was called


class TourOrder(StrEnum):
    seating = "seating"
    alternating_groups = "alternating_groups"


class FloorEntry(SQLModel, table=True):
    """One request for the floor, and the turn it became."""

    __tablename__ = "floor_entry"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    item_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="SET NULL")
    seat_id: int = Field(foreign_key="seat.id", index=True, ondelete="CASCADE")
    tour_id: int | None = Field(default=None, foreign_key="tour.id", ondelete="SET NULL")
    kind: str = Field(sa_type=String(16))
    status: str = Field(default=EntryStatus.waiting, sa_type=String(16), index=True)
    rank: int | None = Field(default=None)  # set when the facilitator reorders the queue
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    called_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seconds: float = Field(default=0.0)


class Tour(SQLModel, table=True):
    """A tour de table: every present participant seat gets one turn, in a set order."""

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    item_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="SET NULL")
    order: str = Field(sa_type=String(32))
    seat_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    next_index: int = Field(default=0)
    active: bool = Field(default=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
