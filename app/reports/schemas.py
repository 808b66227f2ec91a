"""Request and response shapes for the report-back."""

from datetime import datetime

from pydantic import BaseModel, EmailStr, Field

from app.convenings.schemas import MAX_ID, Id, Strict
from app.reports.models import Position, ReaderSource

MAX_MARKDOWN = 2_000_000


class DraftWrite(Strict):
    markdown: str = Field(max_length=MAX_MARKDOWN)


class DraftRead(BaseModel):
    markdown: str
    html: str  # the Markdown rendered and sanitized: the editor's preview
    saved: bool  # False: generated from the record now, not stored until generated or saved
    edited: bool
    generated_at: datetime | None
    updated_at: datetime | None


class VersionSummary(BaseModel):
    number: int
    published_at: datetime


class VersionRead(VersionSummary):
    markdown: str
    html: str
    previous: int | None  # the number of the version it is compared with
    diff: str  # unified diff of the Markdown from the previous version ("" for the first)
    exports: dict[str, str]  # format → URL
    # The participant list published with this version "for identification only", format →
    # URL; empty when none was (never under the anonymous rule).
    participants: dict[str, str] = {}


class PublishOptions(Strict):
    # Publish the list of those at the table (names, affiliations, groups) beside the
    # version, linked to no statement; refused under the anonymous rule.
    participant_list: bool = False


# Readers and their answers ----------------------------------------------------------------


class ReaderWrite(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    group_id: Id | None = None


class ReaderRead(BaseModel):
    id: int
    name: str
    email: str | None
    group_id: int | None
    source: ReaderSource
    state: str  # active, revoked or expired
    link: str | None  # while it works
    expires_at: datetime
    first_read_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_version: int | None
    answers: int
    delivery: str | None  # the latest report-back email's delivery state
    delivery_error: str


class SendLinks(Strict):
    reader_ids: list[Id] | None = Field(default=None, max_length=10_000)


class Queued(BaseModel):
    queued: int


class Added(BaseModel):
    added: int


class PublicWrite(Strict):
    on: bool


class PublicRead(BaseModel):
    on: bool
    link: str | None


class Acknowledge(Strict):
    version: int = Field(ge=1, le=MAX_ID)


class AnswerWrite(Strict):
    version: int = Field(ge=1, le=MAX_ID)
    section: str | None = Field(default=None, min_length=1, max_length=300)
    outcome_id: Id | None = None
    position: Position | None = None
    text: str = Field(default="", max_length=10_000)


class ReplyWrite(Strict):
    text: str = Field(min_length=1, max_length=10_000)


class ReplyRead(BaseModel):
    id: int
    text: str
    created_at: datetime


class AnswerRead(BaseModel):
    id: int
    version: int
    section: str | None
    outcome_id: int | None
    outcome: str | None  # the outcome's statement
    position: Position | None
    text: str
    created_at: datetime
    replies: list[ReplyRead]


class AnswerForConvener(AnswerRead):
    reader_id: int
    reader: str
    reader_email: str | None
    group_id: int | None


class MyReport(BaseModel):
    """What the report-back page needs for its caller."""

    role: str
    can_answer: bool
    latest_version: int | None
    sections: list[str]
    outcomes: list[dict[str, str | int | None]]  # id, statement, level of the latest version
    acknowledged_version: int | None
    answers: list[AnswerRead]


class ReachRow(BaseModel):
    group_id: int | None
    group: str
    readers: int
    read: int
    acknowledged: int
    answered: int


class Reach(BaseModel):
    groups: list[ReachRow]
    total: dict[str, int]
