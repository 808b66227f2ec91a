"""Agenda items of a convening."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, String, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class ItemKind(StrEnum):
    opening = "opening"
    presentation = "presentation"
    discussion = "discussion"
    decision = "decision"
    report_back = "report_back"
    closing = "closing"


class ItemStatus(StrEnum):
    pending = "pending"
    active = "active"
    done = "done"


class AgendaItem(SQLModel, table=True):
    """One ordered item of the agenda, with its timebox and facilitation questions."""

    __tablename__ = "agenda_item"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    kind: str = Field(sa_type=String(16))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    timebox_minutes: int = Field(default=10)
    questions: list[str] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(default=ItemStatus.pending, sa_type=String(16))
    # The item's timer: seconds run before the current run, and when the current run began
    # (None while paused or not running). Time left = timebox - elapsed - (now - run_started_at).
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    run_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    elapsed_seconds: float = Field(default=0.0)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
