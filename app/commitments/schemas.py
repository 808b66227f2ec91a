"""Request and response shapes for commitments and progress reports."""

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from app.commitments.models import Light, ProgressStatus
from app.convenings.schemas import Id, Strict

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class CommitmentCreate(Strict):
    what: Long
    owner: Short
    due_date: date
    indicator: Long
    resources: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)] = ""
    seat_id: Id | None = None
    item_id: Id | None = None


class ProgressCreate(Strict):
    status: ProgressStatus
    text: Long


class CommitmentRead(BaseModel):
    commitment: dict[str, Any]
    light: Light
    progress_link: str | None = None
