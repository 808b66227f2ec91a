"""Convenings, the stakeholder groups at the table, seats, and the invitations that fill them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class PurposeType(StrEnum):
    problem_solving = "problem_solving"
    advocacy = "advocacy"
    policy_development = "policy_development"
    consensus_building = "consensus_building"


class AttributionRule(StrEnum):
    attributed = "attributed"
    chatham_house = "chatham_house"
    anonymous = "anonymous"


class ConveningStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    live = "live"
    closed = "closed"
    reported = "reported"


class Role(StrEnum):
    convener = "convener"
    facilitator = "facilitator"
    rapporteur = "rapporteur"
    participant = "participant"
    observer = "observer"


class Attendance(StrEnum):
    invited = "invited"
    confirmed = "confirmed"
    present = "present"
    absent = "absent"
    declined = "declined"


class Convening(SQLModel, table=True):
    """One facilitated roundtable."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="convener.id", index=True)
    title: str = Field(max_length=200)
    purpose: str = Field(default="", sa_type=Text)
    purpose_type: str = Field(sa_type=String(32))
    attribution: str = Field(sa_type=String(32))
    language: str = Field(default="en", max_length=16)
    time_zone: str = Field(default="UTC", max_length=64)
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=ConveningStatus.draft, sa_type=String(16))
    ground_rules: str = Field(default="", sa_type=Text)
    queue_order: str = Field(default="first_come", sa_type=String(32))
    reporting_period_days: int = Field(default=90)  # commitments' traffic-light period
    last_seq: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StakeholderGroup(SQLModel, table=True):
    """A sector at the table, with the number of seats the convener aims for."""

    __tablename__ = "stakeholder_group"
    __table_args__ = (UniqueConstraint("convening_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    preset: str | None = Field(default=None, sa_type=String(32))
    name: str = Field(max_length=100)
    target_seats: int = Field(default=0)
    position: int = Field(default=0)


class Seat(SQLModel, table=True):
    """A place at the table: a role, a stakeholder group and the person who holds it."""

    __table_args__ = (UniqueConstraint("convening_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    group_id: int | None = Field(
        default=None, foreign_key="stakeholder_group.id", index=True, ondelete="RESTRICT"
    )
    role: str = Field(sa_type=String(16))
    holder_name: str = Field(max_length=200)
    affiliation: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    speaks_for: str = Field(default="", max_length=500)
    attendance: str = Field(default=Attendance.invited, sa_type=String(16))
    position: int = Field(default=0)
    ground_rules_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """A single-use link that binds one browser to a seat.

    The link's token is HMAC(SECRET_KEY, nonce); only its SHA-256 hash and the nonce are
    stored, so the database alone never yields a working link.
    """

    id: int | None = Field(default=None, primary_key=True)
    seat_id: int = Field(foreign_key="seat.id", index=True, ondelete="CASCADE")
    nonce: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SeatCredential(SQLModel, table=True):
    """A browser bound to a seat by redeeming its invitation (the cookie holds the token)."""

    __tablename__ = "seat_credential"

    id: int | None = Field(default=None, primary_key=True)
    seat_id: int = Field(foreign_key="seat.id", index=True, ondelete="CASCADE")
    invitation_id: int = Field(foreign_key="invitation.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
