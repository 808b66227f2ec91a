"""The deliberation record: contributions, consensus checks and their answers, outcomes,
dissent (append-only) and the parking lot."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class ContributionKind(StrEnum):
    statement = "statement"
    question = "question"
    proposal = "proposal"
    clarification = "clarification"


class Answer(StrEnum):
    """The consensus gradient, from strongest support to a block."""

    endorse = "endorse"
    agree = "agree"
    agree_with_reservations = "agree_with_reservations"
    stand_aside = "stand_aside"
    disagree = "disagree"
    block = "block"


REASON_REQUIRED = frozenset(
    {Answer.agree_with_reservations, Answer.stand_aside, Answer.disagree, Answer.block}
)


class CheckStatus(StrEnum):
    open = "open"
    closed = "closed"


class ConsensusLevel(StrEnum):
    consensus = "consensus"
    consensus_with_reservations = "consensus_with_reservations"
    no_consensus = "no_consensus"
    majority_decision = "majority_decision"


class DissentTarget(StrEnum):
    proposal = "proposal"  # a consensus check's proposal
    outcome = "outcome"
    item = "item"
    contribution = "contribution"


class ParkingStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class Contribution(SQLModel, table=True):
    """A point made on an agenda item, by a seat or captured for it."""

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="agenda_item.id", index=True, ondelete="CASCADE")
    seat_id: int = Field(foreign_key="seat.id", index=True, ondelete="CASCADE")
    group_id: int | None = Field(default=None)  # the seat's group when it was made
    kind: str = Field(sa_type=String(16))
    text: str = Field(sa_type=Text)
    captured_by_seat_id: int | None = Field(default=None)
    captured_by_convener_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsensusCheck(SQLModel, table=True):
    """A proposal put to the room."""

    __tablename__ = "consensus_check"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="agenda_item.id", index=True, ondelete="CASCADE")
    proposal: str = Field(sa_type=Text)
    contribution_id: int | None = Field(default=None, foreign_key="contribution.id")
    status: str = Field(default=CheckStatus.open, sa_type=String(16))
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CheckResponse(SQLModel, table=True):
    """One seat's answer to a check.

    `voter_key` is HMAC(SECRET_KEY, check:seat): unique per check, so a seat answers once,
    and under the anonymous rule it is the only trace of who answered: `seat_id` and the
    time stay empty, so the row alone cannot be linked to a seat.
    """

    __tablename__ = "check_response"
    __table_args__ = (UniqueConstraint("check_id", "voter_key"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="consensus_check.id", index=True, ondelete="CASCADE")
    voter_key: str = Field(max_length=64)
    seat_id: int | None = Field(default=None, foreign_key="seat.id", ondelete="CASCADE")
    group_id: int | None = Field(default=None)
    answer: str = Field(sa_type=String(32))
    reason: str = Field(default="", sa_type=Text)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Outcome(SQLModel, table=True):
    """What closing a check recorded: the statement, the tally and the consensus level."""

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    check_id: int = Field(foreign_key="consensus_check.id", unique=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="agenda_item.id", index=True, ondelete="CASCADE")
    statement: str = Field(sa_type=Text)
    level: str = Field(sa_type=String(32))
    tally: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Dissent(SQLModel, table=True):
    """A recorded disagreement. Append-only: never edited or deleted.

    `author_key` is HMAC(SECRET_KEY, dissent nonce:seat) so the author can withdraw it; under
    the anonymous rule `seat_id` and `group_id` stay empty.
    """

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    target: str = Field(sa_type=String(16))
    target_id: int
    item_id: int | None = Field(default=None)
    reason: str = Field(sa_type=Text)
    nonce: str = Field(max_length=32)
    author_key: str = Field(max_length=64)
    seat_id: int | None = Field(default=None, foreign_key="seat.id", ondelete="CASCADE")
    group_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DissentWithdrawal(SQLModel, table=True):
    """The author's withdrawal of a dissent: a new record beside the original."""

    __tablename__ = "dissent_withdrawal"

    id: int | None = Field(default=None, primary_key=True)
    dissent_id: int = Field(foreign_key="dissent.id", unique=True, ondelete="CASCADE")
    reason: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ParkingLotItem(SQLModel, table=True):
    """An issue raised but deferred: resolved in the room, or carried into the report-back."""

    __tablename__ = "parking_lot_item"

    id: int | None = Field(default=None, primary_key=True)
    convening_id: int = Field(foreign_key="convening.id", index=True, ondelete="CASCADE")
    item_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="SET NULL")
    seat_id: int | None = Field(default=None, foreign_key="seat.id", ondelete="SET NULL")
    group_id: int | None = Field(default=None)
    text: str = Field(sa_type=Text)
    status: str = Field(default=ParkingStatus.open, sa_type=String(16))
    resolution: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
