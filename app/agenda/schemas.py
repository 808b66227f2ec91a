"""Request and response shapes for the agenda."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.agenda.models import ItemKind, ItemStatus
from app.convenings.schemas import Id, Strict

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Questions = Annotated[list[Question], Field(max_length=20)]
ItemTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Timebox = Annotated[int, Field(ge=1, le=600, description="Minutes")]


class ItemCreate(Strict):
    kind: ItemKind
    title: ItemTitle
    description: Annotated[str, StringConstraints(max_length=5_000)] = ""
    timebox_minutes: Timebox = 10
    questions: Questions = []


class ItemUpdate(Strict):
    kind: ItemKind | None = None
    title: ItemTitle | None = None
    description: Annotated[str, StringConstraints(max_length=5_000)] | None = None
    timebox_minutes: Timebox | None = None
    questions: Questions | None = None


class ItemRead(BaseModel):
    id: int
    convening_id: int
    position: int
    kind: ItemKind
    title: str
    description: str
    timebox_minutes: int
    questions: list[str]
    status: ItemStatus
    started_at: datetime | None = None
    run_started_at: datetime | None = None
    elapsed_seconds: float = 0.0
    completed_at: datetime | None = None


class Reorder(Strict):
    item_ids: Annotated[list[Id], Field(max_length=200)]


class AgendaRead(BaseModel):
    items: list[ItemRead]
    total_minutes: int
    scheduled_minutes: int | None = Field(
        description="Minutes between the scheduled start and end."
    )
    spare_minutes: int | None = Field(
        description="Scheduled minutes left over; negative when over."
    )
