"""The report-back's working draft (one per convening), its published versions, its readers
and what they answer.

A published version is immutable: no route edits or deletes one, and the ORM refuses to
update or delete a loaded row (`_immutable` below), so a bug elsewhere cannot either.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint, event
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


class ReaderSource(StrEnum):
    absent_seat = "absent_seat"  # a seat that was not at the table: a reader automatically
    added = "added"  # added by the convener by email


class Reader(SQLModel, table=True):
    """Someone the report-back goes to, with their own link.

    As for invitations, the link's token is HMAC(SECRET_KEY, nonce) and only its SHA-256 hash
    is stored; reissuing replaces the nonce, so the old link stops working.
    """

    __tablename__ = "report_reader"
    __table_args__ = (
        UniqueConstraint("convening_id", "email"),
        UniqueConstraint("convening_id", "seat_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    seat_id: int | None = Field(default=None, foreign_key="seat.id", ondelete="SET NULL")
    group_id: int | None = Field(
        default=None, foreign_key="stakeholder_group.id", ondelete="SET NULL"
    )
    source: str = Field(default=ReaderSource.added, sa_type=String(16))
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    nonce: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_version: int | None = Field(default=None)


class PublicLink(SQLModel, table=True):
    """The report-back's public link, off by default: on while a row is not revoked."""

    __tablename__ = "report_public_link"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    nonce: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Position(StrEnum):
    agree = "agree"
    concern = "concern"
    disagree = "disagree"


class ReaderAnswer(SQLModel, table=True):
    """A reader's answer to a published version: a response to one of its sections, or a
    position on one of its outcomes. Never edited or deleted: a changed mind is a new row."""

    __tablename__ = "report_answer"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    reader_id: int = Field(foreign_key="report_reader.id", index=True, ondelete="CASCADE")
    version_number: int
    section: str | None = Field(default=None, max_length=300)
    outcome_id: int | None = Field(default=None)
    position: str | None = Field(default=None, sa_type=String(16))
    text: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnswerReply(SQLModel, table=True):
    """The convener's reply to a reader's answer."""

    __tablename__ = "report_answer_reply"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    answer_id: int = Field(foreign_key="report_answer.id", index=True, ondelete="CASCADE")
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    by_convener_id: int | None = Field(default=None)


@event.listens_for(ReaderAnswer, "before_update")
@event.listens_for(ReaderAnswer, "before_delete")
def _answer_kept(_mapper: Any, _connection: Any, target: ReaderAnswer) -> None:
    raise ImmutableVersion(f"reader answer {target.id} is part of the record and never changes")
