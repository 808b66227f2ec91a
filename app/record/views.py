"""Room views of the record (what every seat sees live), with attribution applied."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.attribution import Audience, Kind, People, group_label, person
from app.commitments.models import Commitment, ProgressReport
from app.convenings.models import AttributionRule
from app.record.models import (
    Answer,
    CheckResponse,
    ConsensusCheck,
    Contribution,
    Dissent,
    DissentWithdrawal,
    Outcome,
    ParkingLotItem,
)

# Under the anonymous rule a group's answers are shown apart only when at least this many
# answered; smaller groups are counted together, so a lone voice is not exposed by its group.
# The "other groups" row obeys the same minimum (it is the overall tally less the rows shown,
# so a single small group alone in it would be exposed): while it holds fewer answers, the
# smallest group shown apart joins it.
ANONYMOUS_GROUP_MINIMUM = 3


def _at(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def tally(responses: list[CheckResponse], people: People) -> dict[str, Any]:
    """Counts overall and by stakeholder group."""
    overall = Counter(r.answer for r in responses)
    by_group: dict[int | None, Counter[str]] = defaultdict(Counter)
    for response in responses:
        by_group[response.group_id][response.answer] += 1
    rows = []
    other: Counter[str] = Counter()
    shown = dict(sorted(by_group.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
    if people.rule == AttributionRule.anonymous:
        for group_id, counts in list(shown.items()):
            if counts.total() < ANONYMOUS_GROUP_MINIMUM:
                other.update(shown.pop(group_id))
        while other and other.total() < ANONYMOUS_GROUP_MINIMUM and shown:
            smallest = min(shown, key=lambda g: (shown[g].total(), g is None, g or 0))
            other.update(shown.pop(smallest))
    for group_id, counts in shown.items():
        group = people.groups.get(group_id) if group_id is not None else None
        rows.append(
            {
                "group_id": group_id,
                "group": group.name if group else "No group",
                "counts": {a.value: counts.get(a, 0) for a in Answer},
            }
        )
    if other:
        rows.append(
            {
                "group_id": None,
                "group": "Other groups (too few answers to show apart)",
                "counts": {a.value: other.get(a, 0) for a in Answer},
            }
        )
    return {
        "answers": len(responses),
        "overall": {a.value: overall.get(a, 0) for a in Answer},
        "by_group": rows,
    }


def contribution_view(c: Contribution, people: People, audience: Audience) -> dict[str, Any]:
    """A contribution as this audience sees it."""
    return {
        "id": c.id,
        "item_id": c.item_id,
        "kind": c.kind,
        "text": c.text,
        "by": person(people, c.seat_id, c.group_id, audience, Kind.statement),
        "captured": c.captured_by_seat_id is not None or c.captured_by_convener_id is not None,
        "at": _at(c.created_at),
    }


def check_view(
    check: ConsensusCheck, responses: list[CheckResponse], people: People, audience: Audience
) -> dict[str, Any]:
    """A consensus check with its live tally and the reasons given."""
    return {
        "id": check.id,
        "item_id": check.item_id,
        "proposal": check.proposal,
        "contribution_id": check.contribution_id,
        "status": check.status,
        "opened_at": _at(check.opened_at),
        "closed_at": _at(check.closed_at),
        "tally": tally(responses, people),
        "reasons": [
            {
                "answer": r.answer,
                "reason": r.reason,
                "by": person(people, r.seat_id, r.group_id, audience, Kind.answer),
            }
            for r in sorted(responses, key=lambda r: (r.answer, r.id or 0))
            if r.reason
        ],
    }


def outcome_view(outcome: Outcome) -> dict[str, Any]:
    """An outcome: statement, level and tally (already aggregated; names nobody)."""
    return {
        "id": outcome.id,
        "check_id": outcome.check_id,
        "item_id": outcome.item_id,
        "statement": outcome.statement,
        "level": outcome.level,
        "tally": outcome.tally,
        "recorded_at": _at(outcome.recorded_at),
    }


def dissent_view(
    d: Dissent, withdrawal: DissentWithdrawal | None, people: People, audience: Audience
) -> dict[str, Any]:
    """A dissent, with its withdrawal beside it if its author withdrew it."""
    return {
        "id": d.id,
        "target": d.target,
        "target_id": d.target_id,
        "item_id": d.item_id,
        "reason": d.reason,
        "by": person(people, d.seat_id, d.group_id, audience, Kind.answer),
        "at": _at(d.created_at),
        "withdrawn": None
        if withdrawal is None
        else {"at": _at(withdrawal.created_at), "reason": withdrawal.reason},
    }


def parking_view(p: ParkingLotItem, people: People, audience: Audience) -> dict[str, Any]:
    """A parking-lot item."""
    return {
        "id": p.id,
        "item_id": p.item_id,
        "text": p.text,
        "raised_by": person(people, p.seat_id, p.group_id, audience, Kind.statement)
        if p.seat_id or p.group_id
        else None,
        "status": p.status,
        "resolution": p.resolution,
        "at": _at(p.created_at),
        "resolved_at": _at(p.resolved_at),
    }


def commitment_view(
    c: Commitment, last_report: ProgressReport | None, people: People, audience: Audience
) -> dict[str, Any]:
    """A commitment; its light is computed from `since` by whoever shows it."""
    by = person(people, c.seat_id, None, audience, Kind.statement)
    named = by is not None and "name" in by
    return {
        "id": c.id,
        "item_id": c.item_id,
        "by": by,
        "organization": c.organization if named else (by or {}).get("label", "a participant"),
        "owner": c.owner if named else None,
        "what": c.what,
        "due_date": c.due_date.isoformat(),
        "indicator": c.indicator,
        "resources": c.resources,
        "created_at": _at(c.created_at),
        "last_report": None
        if last_report is None
        else {
            "status": last_report.status,
            "text": last_report.text,
            "at": _at(last_report.reported_at),
        },
        "since": _at(last_report.reported_at if last_report else c.created_at),
    }


async def latest_reports(
    session: AsyncSession, commitments: Sequence[Commitment]
) -> dict[int, ProgressReport]:
    """Each commitment's latest progress report (by the time it was reported), in one query."""
    latest: dict[int, ProgressReport] = {}
    if commitments:
        for report in (
            await session.exec(
                select(ProgressReport)
                .where(col(ProgressReport.commitment_id).in_([c.id for c in commitments]))
                .order_by(col(ProgressReport.reported_at), col(ProgressReport.id))
            )
        ).all():
            latest[report.commitment_id] = report
    return latest


async def record_parts(
    session: AsyncSession, convening_id: int, people: People, audience: Audience
) -> dict[str, list[dict[str, Any]]]:
    """The whole record of a convening as this audience sees it, each list in id order."""
    contributions = (
        await session.exec(
            select(Contribution)
            .where(Contribution.convening_id == convening_id)
            .order_by(col(Contribution.id))
        )
    ).all()
    checks = (
        await session.exec(
            select(ConsensusCheck)
            .where(ConsensusCheck.convening_id == convening_id)
            .order_by(col(ConsensusCheck.id))
        )
    ).all()
    responses: dict[int, list[CheckResponse]] = defaultdict(list)
    if checks:
        for r in (
            await session.exec(
                select(CheckResponse).where(col(CheckResponse.check_id).in_([c.id for c in checks]))
            )
        ).all():
            responses[r.check_id].append(r)
    outcomes = (
        await session.exec(
            select(Outcome).where(Outcome.convening_id == convening_id).order_by(col(Outcome.id))
        )
    ).all()
    dissents = (
        await session.exec(
            select(Dissent).where(Dissent.convening_id == convening_id).order_by(col(Dissent.id))
        )
    ).all()
    withdrawals = {
        w.dissent_id: w
        for w in (
            await session.exec(
                select(DissentWithdrawal)
                .join(Dissent, col(Dissent.id) == col(DissentWithdrawal.dissent_id))
                .where(Dissent.convening_id == convening_id)
            )
        ).all()
    }
    parking = (
        await session.exec(
            select(ParkingLotItem)
            .where(ParkingLotItem.convening_id == convening_id)
            .order_by(col(ParkingLotItem.id))
        )
    ).all()
    commitments = (
        await session.exec(
            select(Commitment)
            .where(Commitment.convening_id == convening_id)
            .order_by(col(Commitment.id))
        )
    ).all()
    latest = await latest_reports(session, commitments)
    return {
        "contributions": [contribution_view(c, people, audience) for c in contributions],
        "checks": [
            check_view(c, responses[c.id], people, audience)  # type: ignore[index]
            for c in checks
        ],
        "outcomes": [outcome_view(o) for o in outcomes],
        "dissents": [
            dissent_view(d, withdrawals.get(d.id), people, audience)  # type: ignore[arg-type]
            for d in dissents
        ],
        "parking": [parking_view(p, people, audience) for p in parking],
        "commitments": [
            commitment_view(c, latest.get(c.id), people, audience)  # type: ignore[arg-type]
            for c in commitments
        ],
    }


__all__ = ["group_label", "record_parts", "tally"]
