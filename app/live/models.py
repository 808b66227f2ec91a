"""The per-convening event log: the audit trail and the source of every live update."""

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Event(SQLModel, table=True):
    """One change to a convening, numbered without gaps within the convening."""

    __table_args__ = (UniqueConstraint("convening_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    seq: int
    kind: str = Field(sa_type=String(64))
    actor_seat_id: int | None = Field(default=None)
    actor_convener_id: int | None = Field(default=None)
    data: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
