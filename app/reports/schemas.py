"""Request and response shapes for the report-back."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.convenings.schemas import Strict

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
