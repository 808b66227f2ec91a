"""The outbox: every outgoing email is a row first, sent in the background, retried until sent."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, String, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class DeliveryState(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    retrying = "retrying"
    cancelled = "cancelled"  # the link it carried was revoked or replaced before it went out


class OutboxMessage(SQLModel, table=True):
    """One email to send. The body is rendered at send time so no secret link rests here."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int | None = Field(
        default=None, foreign_key="convening.id", index=True, ondelete="CASCADE"
    )
    invitation_id: int | None = Field(
        default=None, foreign_key="invitation.id", index=True, ondelete="CASCADE"
    )
    kind: str = Field(sa_type=String(32))
    to_address: str = Field(max_length=254)
    payload: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    state: str = Field(default=DeliveryState.queued, sa_type=String(16), index=True)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", sa_type=Text)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
