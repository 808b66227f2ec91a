"""The report-back's working draft (one per convening) and its published versions.

A published version is immutable: no route edits or deletes one, and the ORM refuses to
update or delete a loaded row (`_immutable` below), so a bug elsewhere cannot either.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class ReportDraft(SQLModel, table=True):
    """The rapporteur's working Markdown, generated from the record and edited by hand."""

    __tablename__ = "report_draft"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(
        foreign_key="convening.id", unique=True, index=True, ondelete="CASCADE"
    )
    markdown: str = Field(default="", sa_type=Text)
    generated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited: bool = Field(default=False)  # changed by hand since it was last generated


class ReportVersion(SQLModel, table=True):
    """A published version: its Markdown and the snapshot every export is made from."""

    __tablename__ = "report_version"
    __table_args__ = (UniqueConstraint("convening_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    number: int
    markdown: str = Field(sa_type=Text)
    # The record as the outside audience saw it at publication, the agenda schedule and the
    # participation figures: exports of a version never change with the live record.
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_by_convener_id: int | None = Field(default=None)
    published_by_seat_id: int | None = Field(default=None)


class ImmutableVersion(RuntimeError):
    """Raised when anything tries to change or delete a published version."""


@event.listens_for(ReportVersion, "before_update")
@event.listens_for(ReportVersion, "before_delete")
def _immutable(_mapper: Any, _connection: Any, target: ReportVersion) -> None:
    raise ImmutableVersion(f"report version {target.number} is published and never changes")
