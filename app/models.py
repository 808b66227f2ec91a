"""Every table, imported in one place so metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from app.accounts.models import AccountSession, ApiToken, Convener
from app.agenda.models import AgendaItem
from app.commitments.models import Commitment, ProgressReport
from app.convenings.models import (
    Convening,
    Invitation,
    Seat,
    SeatCredential,
    StakeholderGroup,
)
from app.floor.models import FloorEntry, Tour
from app.live.models import Event
from app.notify.models import OutboxMessage
from app.record.models import (
    CheckResponse,
    ConsensusCheck,
    Contribution,
    Dissent,
    DissentWithdrawal,
    Outcome,
    ParkingLotItem,
)
from app.reports.models import (
    AnswerReply,
    PublicLink,
    Reader,
    ReaderAnswer,
    ReportDraft,
    ReportVersion,
)

metadata = SQLModel.metadata

__all__ = [
    "CheckResponse",
    "Commitment",
    "ConsensusCheck",
    "Contribution",
    "Dissent",
    "DissentWithdrawal",
    "Outcome",
    "ParkingLotItem",
    "ProgressReport",
    "AnswerReply",
    "PublicLink",
    "Reader",
    "ReaderAnswer",
    "ReportDraft",
    "ReportVersion",
    "AccountSession",
    "AgendaItem",
    "ApiToken",
    "Convener",
    "Convening",
    "Event",
    "FloorEntry",
    "Invitation",
    "OutboxMessage",
    "Seat",
    "SeatCredential",
    "StakeholderGroup",
    "Tour",
    "metadata",
]
