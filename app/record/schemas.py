"""Request shapes for the deliberation record."""

from typing import Annotated

from pydantic import Field, StringConstraints

from app.convenings.schemas import Id, Strict
from app.record.models import Answer, ContributionKind, DissentTarget

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000)]


class Contribute(Strict):
    item_id: Id
    kind: ContributionKind = ContributionKind.statement
    text: Text


class Capture(Contribute):
    seat_id: Id


class TableCheck(Strict):
    item_id: Id
    proposal: Text
    contribution_id: Id | None = None


class AnswerCheck(Strict):
    answer: Answer
    reason: Reason = ""


class CloseCheck(Strict):
    statement: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)]
        | None
    ) = Field(default=None, description="The outcome's wording (default: the proposal).")
    by_majority: bool = Field(
        default=False, description="Record a decision by majority when there is no consensus."
    )


class LogDissent(Strict):
    target: DissentTarget
    target_id: Id
    reason: Text


class WithdrawDissent(Strict):
    reason: Reason = ""


class Park(Strict):
    text: Text
    item_id: Id | None = None
    seat_id: Id | None = None


class Resolve(Strict):
    resolution: Text
