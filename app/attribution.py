"""Who may be named, to whom: the attribution rule applied in one place.

Every serializer that shows a person goes through `person()`:

| rule          | room (live, and the convener)   | outside (report-back, exports, audit) |
|---------------|---------------------------------|---------------------------------------|
| attributed    | name, affiliation, group        | name, affiliation, group              |
| chatham_house | name, affiliation, group        | stakeholder group only                |
| anonymous     | statements: group only;         | nothing                               |
|               | answers and dissents: nothing   |                                       |

"Statements" are contributions, parking-lot items and commitments; "answers" are consensus
check responses and dissents (their rows do not even store the seat under `anonymous`).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.convenings.models import AttributionRule, Seat, StakeholderGroup
from app.i18n import _


class Audience(StrEnum):
    room = "room"
    outside = "outside"


class Kind(StrEnum):
    statement = "statement"
    answer = "answer"


@dataclass(frozen=True)
class People:
    """The seats and groups of a convening, and its rule: what `person()` needs."""

    rule: str
    seats: dict[int, Seat]
    groups: dict[int, StakeholderGroup]


async def load_people(session: AsyncSession, convening_id: int, rule: str) -> People:
    """Read a convening's seats and groups once for a batch of serializations."""
    seats = (await session.exec(select(Seat).where(Seat.convening_id == convening_id))).all()
    groups = (
        await session.exec(
            select(StakeholderGroup).where(StakeholderGroup.convening_id == convening_id)
        )
    ).all()
    return People(
        rule,
        {s.id: s for s in seats if s.id is not None},
        {g.id: g for g in groups if g.id is not None},
    )


def group_label(group: StakeholderGroup | None) -> str:
    """How a person is described when only their group may be named."""
    if group is None:
        return _("a participant")
    name = group.name.lower() if group.preset else group.name
    if name[:1].lower() in "aeiou":
        return _("an {group} participant").format(group=name)
    return _("a {group} participant").format(group=name)


def reader_label(rule: str, name: str, group: StakeholderGroup | None) -> str:
    """How a report-back reader's answer is signed wherever other people can read it (the
    annex of the next version): by name only on the record, by stakeholder group under the
    Chatham House Rule, by nobody under anonymity."""
    if rule == AttributionRule.attributed:
        return f"{name} ({group.name})" if group else name
    if rule == AttributionRule.chatham_house and group is not None:
        return _("A reader from {group}").format(group=group.name)
    return _("A reader")


def person(
    people: People,
    seat_id: int | None,
    group_id: int | None,
    audience: Audience,
    kind: Kind = Kind.statement,
) -> dict[str, Any] | None:
    """The person behind a record, as this audience may see them (None: nobody)."""
    rule = people.rule
    if rule == AttributionRule.anonymous and (kind == Kind.answer or audience == Audience.outside):
        return None
    seat = people.seats.get(seat_id) if seat_id is not None else None
    if group_id is None and seat is not None:
        group_id = seat.group_id
    group = people.groups.get(group_id) if group_id is not None else None
    grouped = {
        "group_id": group.id if group else None,
        "group": group.name if group else None,
        "label": group_label(group),
    }
    if rule == AttributionRule.anonymous or (
        rule == AttributionRule.chatham_house and audience == Audience.outside
    ):
        return grouped
    if seat is None:
        return grouped
    return {
        **grouped,
        "seat_id": seat.id,
        "name": seat.holder_name,
        "affiliation": seat.affiliation,
        "label": seat.holder_name,
    }
