"""Request and response shapes for convenings, groups, seats and invitations."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from zoneinfo import available_timezones

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.convenings.models import (
    Attendance,
    AttributionRule,
    ConveningStatus,
    PurposeType,
    Role,
)
from app.i18n import N_


class GroupPreset(StrEnum):
    government = "government"
    private_sector = "private_sector"
    civil_society = "civil_society"
    international_organization = "international_organization"
    academia = "academia"
    local_grassroots = "local_grassroots"
    indigenous_peoples = "indigenous_peoples"
    youth = "youth"


PRESET_LABELS: dict[GroupPreset, str] = {
    GroupPreset.government: N_("Government"),
    GroupPreset.private_sector: N_("Private sector"),
    GroupPreset.civil_society: N_("Civil society"),
    GroupPreset.international_organization: N_("International organization"),
    GroupPreset.academia: N_("Academia"),
    GroupPreset.local_grassroots: N_("Local and grassroots"),
    GroupPreset.indigenous_peoples: N_("Indigenous peoples"),
    GroupPreset.youth: N_("Youth"),
}

_ZONES = frozenset(available_timezones())


def _known_zone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError("unknown time zone; use an IANA name such as Europe/Zurich")
    return value


# Times are stored in UTC; a year outside this range is a typing error (and near the ends of
# what Python holds, years 1 and 9999, moving to UTC overflows).
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return value
    if value.tzinfo is None:
        raise ValueError("give a time zone offset, for example 2026-03-01T09:00:00+01:00")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
# The languages the interface and the report-back come in (app/i18n.py LANGUAGES).
Language = Literal["en", "fr", "es"]
TimeZone = Annotated[str, AfterValidator(_known_zone)]
AwareDatetime = Annotated[datetime | None, AfterValidator(_aware)]


# Ids are 32-bit integers in PostgreSQL; a larger one names nothing and must not reach a query.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]  # the same, for an id in a route's path

# Characters no text field takes: NUL (PostgreSQL refuses it), the other control characters
# but tab, line feed and carriage return (XML, and so the DOCX export, refuses them), lone
# surrogates (not UTF-8: no database stores them) and the non-characters U+FFFE and U+FFFF.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _unstorable(value: Any) -> str | None:
    """The first character of `value` (text, or text inside lists and dicts) no field takes."""
    if isinstance(value, str):
        found = UNSTORABLE.search(value)
        return found.group() if found else None
    if isinstance(value, list | tuple):
        return next((c for c in map(_unstorable, value) if c is not None), None)
    if isinstance(value, dict):
        return _unstorable(list(value.keys())) or _unstorable(list(value.values()))
    return None


class Strict(BaseModel):
    """Base for request bodies: unknown fields are refused, not ignored, and so is text with a
    character that cannot be stored or exported (a NUL, a control character)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        char = _unstorable(value)
        if char is not None:
            raise PydanticCustomError(
                "unstorable_text",
                "this text contains a character that cannot be stored (U+{code}): remove it",
                {"code": f"{ord(char):04X}"},
            )
        return value


class _Schedule(Strict):
    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        starts = getattr(self, "starts_at", None)
        ends = getattr(self, "ends_at", None)
        if starts is not None and ends is not None and ends <= starts:
            raise ValueError("ends_at must be after starts_at")
        return self


class ConveningCreate(_Schedule):
    title: Title
    purpose: LongText = ""
    purpose_type: PurposeType
    attribution: AttributionRule
    language: Language = "en"
    time_zone: TimeZone = "UTC"
    starts_at: AwareDatetime = None
    ends_at: AwareDatetime = None
    ground_rules: LongText = ""
    reporting_period_days: Annotated[int, Field(ge=1, le=730)] = 90


class ConveningUpdate(_Schedule):
    title: Title | None = None
    purpose: LongText | None = None
    purpose_type: PurposeType | None = None
    attribution: AttributionRule | None = None
    language: Language | None = None
    time_zone: TimeZone | None = None
    starts_at: AwareDatetime = None
    ends_at: AwareDatetime = None
    ground_rules: LongText | None = None
    reporting_period_days: Annotated[int, Field(ge=1, le=730)] | None = None


class ConveningRead(BaseModel):
    id: int
    title: str
    purpose: str
    purpose_type: PurposeType
    attribution: AttributionRule
    language: str
    time_zone: str
    starts_at: datetime | None
    ends_at: datetime | None
    status: ConveningStatus
    ground_rules: str
    ground_rules_text: str = Field(description="What every seat reads and accepts on joining.")
    reporting_period_days: int
    last_seq: int
    created_at: datetime
    updated_at: datetime


class GroupCreate(Strict):
    preset: GroupPreset | None = None
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    target_seats: Annotated[int, Field(ge=0, le=500)] = 0

    @model_validator(mode="after")
    def _named(self) -> Self:
        if self.preset is None and not self.name:
            raise ValueError("give a preset or a name for a custom group")
        return self


class GroupUpdate(Strict):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    target_seats: Annotated[int, Field(ge=0, le=500)] | None = None


class GroupRead(BaseModel):
    id: int
    convening_id: int
    preset: GroupPreset | None
    name: str
    target_seats: int
    position: int


class SeatCreate(Strict):
    role: Role
    group_id: Id | None = None
    holder_name: Name
    affiliation: ShortText = ""
    email: EmailStr | None = None
    speaks_for: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    attendance: Attendance = Attendance.invited


class SeatUpdate(Strict):
    role: Role | None = None
    group_id: Id | None = None
    holder_name: Name | None = None
    affiliation: ShortText | None = None
    email: EmailStr | None = None
    speaks_for: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = (
        None
    )
    attendance: Attendance | None = None


class InvitationState(StrEnum):
    none = "none"
    active = "active"
    redeemed = "redeemed"
    expired = "expired"
    revoked = "revoked"


class SeatRead(BaseModel):
    id: int
    convening_id: int
    group_id: int | None
    role: Role
    holder_name: str
    affiliation: str
    email: str | None
    speaks_for: str
    attendance: Attendance
    position: int
    ground_rules_accepted_at: datetime | None


class ImportResult(BaseModel):
    imported: int
    seats: list[SeatRead]


class InvitationRead(BaseModel):
    seat_id: int
    holder_name: str
    email: str | None
    state: InvitationState
    link: str | None = Field(description="The seat's link while it can still be redeemed.")
    expires_at: datetime | None
    redeemed_at: datetime | None
    delivery: str | None = Field(description="Email delivery state, if it was sent.")
    delivery_attempts: int = 0
    delivery_error: str = ""


class Redeem(Strict):
    token: Annotated[str, StringConstraints(min_length=16, max_length=128)]
    accept_ground_rules: bool


class SeatLanding(BaseModel):
    """What a seat holder sees on the invitation page: who they are at the table."""

    convening_id: int
    convening_title: str
    purpose: str
    starts_at: datetime | None
    time_zone: str
    ground_rules_text: str
    holder_name: str
    affiliation: str
    role: Role
    group_name: str | None
    speaks_for: str
    state: InvitationState
    bound_here: bool


class GroupGap(BaseModel):
    group_id: int
    name: str
    target_seats: int
    seated: int
    missing: int


class Inclusion(BaseModel):
    groups: list[GroupGap]
    empty_groups: list[str]
    ungrouped_seats: int
    declined: list[SeatRead]
    absent: list[SeatRead]
    missing_roles: list[Role]
    seats_by_role: dict[str, int]
