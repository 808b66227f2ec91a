"""Commitments made in the room, and the progress reported on them afterwards."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Light(StrEnum):
    green = "green"  # reported within the reporting period
    yellow = "yellow"  # one period without a report
    red = "red"  # two periods without a report


class ProgressStatus(StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"
    off_track = "off_track"
    done = "done"


class Commitment(SQLModel, table=True):
    """An undertaking by a seat's organization: what, who owns it, by when, how it is measured."""

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    item_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="SET NULL")
    seat_id: int = Field(foreign_key="seat.id", index=True, ondelete="CASCADE")
    organization: str = Field(max_length=200)
    what: str = Field(sa_type=Text)
    owner: str = Field(max_length=200)
    due_date: date
    indicator: str = Field(sa_type=Text)
    resources: str = Field(default="", sa_type=Text)
    report_nonce: str = Field(max_length=64)
    report_token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProgressReport(SQLModel, table=True):
    """A report on a commitment's progress, by its owner (through the link) or the convener."""

    __tablename__ = "progress_report"

    id: int | None = Field(default=None, primary_key=True)
    commitment_id: int = Field(foreign_key="commitment.id", index=True, ondelete="CASCADE")
    status: str = Field(sa_type=String(16))
    text: str = Field(sa_type=Text)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
