"""Rules of the deliberation record. Never commits.

Each change locks the convening, checks the rules, writes rows and appends one event that
upserts the changed records (as the room sees them) into the room's state.
"""

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agenda.models import AgendaItem
from app.attribution import Audience, People, load_people
from app.authz import Access
from app.convenings.models import AttributionRule, Convening, ConveningStatus, Role, Seat
from app.convenings.service import emit, get_seat
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.live.log import lock_convening
from app.record.models import (
    REASON_REQUIRED,
    Answer,
    CheckResponse,
    CheckStatus,
    ConsensusCheck,
    ConsensusLevel,
    Contribution,
    Dissent,
    DissentTarget,
    DissentWithdrawal,
    Outcome,
    ParkingLotItem,
    ParkingStatus,
)
from app.record.rules import consensus_level, majority_allowed
from app.record.views import (
    check_view,
    contribution_view,
    dissent_view,
    outcome_view,
    parking_view,
    tally,
)
from app.security import derive_token, new_nonce

SPEAKING_ROLES = (Role.participant, Role.facilitator, Role.rapporteur, Role.convener)


def _anonymous(convening: Convening) -> bool:
    return convening.attribution == AttributionRule.anonymous


async def _locked(session: AsyncSession, access: Access, *statuses: str) -> Convening:
    convening = await lock_convening(session, access.convening)
    if convening.status not in statuses:
        allowed = " or ".join(statuses)
        raise Conflict(f"the convening must be {allowed} for this (it is {convening.status})")
    return convening


async def _people(session: AsyncSession, convening: Convening) -> People:
    return await load_people(session, convening.id, convening.attribution)  # type: ignore[arg-type]


async def _item(
    session: AsyncSession, convening_id: int, item_id: int, field: str = "item_id"
) -> AgendaItem:
    item = await session.get(AgendaItem, item_id)
    if item is None or item.convening_id != convening_id:
        raise Invalid("no such agenda item in this convening", field=field)
    return item


# Contributions -----------------------------------------------------------------------------


async def _add_contribution(
    session: AsyncSession, access: Access, seat: Seat, item_id: int, kind: str, text: str
) -> Contribution:
    convening = await _locked(session, access, ConveningStatus.live)
    await _item(session, convening.id, item_id)  # type: ignore[arg-type]
    captured = access.seat is None or access.seat.id != seat.id
    contribution = Contribution(
        convening_id=convening.id,  # type: ignore[arg-type]
        item_id=item_id,
        seat_id=seat.id,  # type: ignore[arg-type]
        group_id=seat.group_id,
        kind=kind,
        text=text,
        captured_by_seat_id=access.seat.id if captured and access.seat else None,
        captured_by_convener_id=access.convener.id if captured and access.convener else None,
    )
    session.add(contribution)
    await session.flush()
    view = contribution_view(contribution, await _people(session, convening), Audience.room)
    await emit(
        session,
        access,
        "record.contribution_added",
        {"contribution_id": contribution.id, "item_id": item_id},
        upsert={"contributions": [view]},
    )
    return contribution


async def contribute(
    session: AsyncSession, access: Access, item_id: int, kind: str, text: str
) -> Contribution:
    """A participant makes a point on an agenda item."""
    assert access.seat is not None
    return await _add_contribution(session, access, access.seat, item_id, kind, text)


async def capture(
    session: AsyncSession, access: Access, seat_id: int, item_id: int, kind: str, text: str
) -> Contribution:
    """The rapporteur or facilitator captures a point made by a seat."""
    try:
        seat = await get_seat(session, access.convening.id, seat_id)  # type: ignore[arg-type]
    except NotFound:
        raise Invalid("no such seat in this convening", field="seat_id") from None
    if seat.role not in SPEAKING_ROLES:
        raise Invalid(f"a {seat.role} seat does not speak in the room", field="seat_id")
    return await _add_contribution(session, access, seat, item_id, kind, text)


# Consensus checks --------------------------------------------------------------------------


async def _check(session: AsyncSession, convening_id: int, check_id: int) -> ConsensusCheck:
    check = await session.get(ConsensusCheck, check_id)
    if check is None or check.convening_id != convening_id:
        raise NotFound("consensus check not found")
    return check


async def _responses(session: AsyncSession, check_id: int) -> list[CheckResponse]:
    return list(
        (await session.exec(select(CheckResponse).where(CheckResponse.check_id == check_id))).all()
    )


async def _check_upsert(
    session: AsyncSession, convening: Convening, check: ConsensusCheck
) -> dict[str, list[dict[str, Any]]]:
    people = await _people(session, convening)
    view = check_view(check, await _responses(session, check.id), people, Audience.room)  # type: ignore[arg-type]
    return {"checks": [view]}


async def table_check(
    session: AsyncSession, access: Access, item_id: int, proposal: str, contribution_id: int | None
) -> ConsensusCheck:
    """Put a proposal to the room."""
    convening = await _locked(session, access, ConveningStatus.live)
    await _item(session, convening.id, item_id)  # type: ignore[arg-type]
    if contribution_id is not None:
        contribution = await session.get(Contribution, contribution_id)
        if contribution is None or contribution.convening_id != convening.id:
            raise Invalid("no such contribution in this convening", field="contribution_id")
    check = ConsensusCheck(
        convening_id=convening.id,  # type: ignore[arg-type]
        item_id=item_id,
        proposal=proposal,
        contribution_id=contribution_id,
    )
    session.add(check)
    await session.flush()
    await emit(
        session,
        access,
        "record.check_tabled",
        {"check_id": check.id, "item_id": item_id},
        upsert=await _check_upsert(session, convening, check),
    )
    return check


def voter_key(secret_key: str, check_id: int, seat_id: int) -> str:
    """The mark that lets a seat answer a check once without the row naming the seat."""
    return derive_token(secret_key, "check", f"{check_id}:{seat_id}")


async def _response_of(session: AsyncSession, check_id: int, key: str) -> CheckResponse | None:
    """The answer a voter key gave to a check, if any."""
    return (
        await session.exec(
            select(CheckResponse).where(
                CheckResponse.check_id == check_id, CheckResponse.voter_key == key
            )
        )
    ).first()


async def answer_check(
    session: AsyncSession,
    access: Access,
    check_id: int,
    answer: Answer,
    reason: str,
    secret_key: str,
) -> None:
    """Answer a check; the answer may change while it is open (not under the anonymous rule)."""
    convening = await _locked(session, access, ConveningStatus.live)
    check = await _check(session, convening.id, check_id)  # type: ignore[arg-type]
    if check.status != CheckStatus.open:
        raise Conflict("this consensus check is closed")
    if answer in REASON_REQUIRED and not reason:
        raise Invalid(
            f"give a reason when you answer {answer.value.replace('_', ' ')}", field="reason"
        )
    seat = access.seat
    assert seat is not None and seat.id is not None
    anonymous = _anonymous(convening)
    key = voter_key(secret_key, check_id, seat.id)
    existing = await _response_of(session, check_id, key)
    if existing is not None and anonymous:
        raise Conflict("you have already answered; under the anonymous rule an answer is final")
    response = existing or CheckResponse(check_id=check_id, voter_key=key, answer=answer)
    response.answer = answer
    response.reason = reason
    response.group_id = seat.group_id
    if not anonymous:
        response.seat_id = seat.id
        response.answered_at = utcnow()
    session.add(response)
    await session.flush()
    await emit(
        session,
        access,
        "record.check_answered",
        {"check_id": check_id},
        upsert=await _check_upsert(session, convening, check),
        anonymous=anonymous,
    )


async def my_answer(
    session: AsyncSession, access: Access, check_id: int, secret_key: str
) -> CheckResponse | None:
    """The caller's own answer to a check, if any."""
    assert access.seat is not None and access.seat.id is not None
    return await _response_of(session, check_id, voter_key(secret_key, check_id, access.seat.id))


async def close_check(
    session: AsyncSession, access: Access, check_id: int, statement: str | None, by_majority: bool
) -> Outcome:
    """Close a check and record its outcome: statement, tally and consensus level."""
    convening = await _locked(session, access, ConveningStatus.live)
    check = await _check(session, convening.id, check_id)  # type: ignore[arg-type]
    if check.status != CheckStatus.open:
        raise Conflict("this consensus check is already closed")
    people = await _people(session, convening)
    counted = tally(await _responses(session, check_id), people)
    level = consensus_level(counted["overall"])
    if by_majority:
        if level != ConsensusLevel.no_consensus:
            raise Conflict(f"the room reached {level.value.replace('_', ' ')}; no vote is needed")
        if not majority_allowed(counted["overall"]):
            raise Conflict("there is no majority for this proposal (or it is blocked)")
        level = ConsensusLevel.majority_decision
    now = utcnow()
    check.status = CheckStatus.closed
    check.closed_at = now
    session.add(check)
    outcome = Outcome(
        convening_id=convening.id,  # type: ignore[arg-type]
        check_id=check_id,
        item_id=check.item_id,
        statement=statement or check.proposal,
        level=level,
        tally=counted,
        recorded_at=now,
    )
    session.add(outcome)
    await session.flush()
    upsert = await _check_upsert(session, convening, check)
    upsert["outcomes"] = [outcome_view(outcome)]
    await emit(
        session,
        access,
        "record.outcome_recorded",
        {"check_id": check_id, "outcome_id": outcome.id, "level": level},
        upsert=upsert,
    )
    return outcome


# Dissent ---------------------------------------------------------------------------------


async def _target_item(
    session: AsyncSession, convening_id: int, target: DissentTarget, target_id: int
) -> int:
    """The agenda item a dissent's target belongs to; Invalid if the target is not here."""
    row: Any
    if target == DissentTarget.item:
        row = await session.get(AgendaItem, target_id)
        if row is not None and row.convening_id == convening_id:
            return int(row.id)
    else:
        model = {
            DissentTarget.proposal: ConsensusCheck,
            DissentTarget.outcome: Outcome,
            DissentTarget.contribution: Contribution,
        }[target]
        row = await session.get(model, target_id)
        if row is not None and row.convening_id == convening_id:
            return int(row.item_id)
    raise Invalid(f"no such {target.value} in this convening", field="target_id")


def author_key(secret_key: str, nonce: str, seat_id: int) -> str:
    """The mark that lets a dissent's author withdraw it without the row naming the seat."""
    return derive_token(secret_key, "dissent", f"{nonce}:{seat_id}")


async def log_dissent(
    session: AsyncSession,
    access: Access,
    target: DissentTarget,
    target_id: int,
    reason: str,
    secret_key: str,
) -> Dissent:
    """Record a dissent with its reason. It can never be edited or deleted."""
    convening = await _locked(session, access, ConveningStatus.live, ConveningStatus.closed)
    item_id = await _target_item(session, convening.id, target, target_id)  # type: ignore[arg-type]
    seat = access.seat
    assert seat is not None and seat.id is not None
    anonymous = _anonymous(convening)
    nonce = new_nonce()
    dissent = Dissent(
        convening_id=convening.id,  # type: ignore[arg-type]
        target=target,
        target_id=target_id,
        item_id=item_id,
        reason=reason,
        nonce=nonce,
        author_key=author_key(secret_key, nonce, seat.id),
        seat_id=None if anonymous else seat.id,
        group_id=None if anonymous else seat.group_id,
    )
    session.add(dissent)
    await session.flush()
    view = dissent_view(dissent, None, await _people(session, convening), Audience.room)
    await emit(
        session,
        access,
        "record.dissent_logged",
        {"dissent_id": dissent.id, "target": target, "target_id": target_id},
        upsert={"dissents": [view]},
        anonymous=anonymous,
    )
    return dissent


async def withdraw_dissent(
    session: AsyncSession, access: Access, dissent_id: int, reason: str, secret_key: str
) -> DissentWithdrawal:
    """The author withdraws a dissent: a withdrawal is recorded beside the unchanged original."""
    convening = await _locked(session, access, ConveningStatus.live, ConveningStatus.closed)
    dissent = await session.get(Dissent, dissent_id)
    if dissent is None or dissent.convening_id != convening.id:
        raise NotFound("dissent not found")
    assert access.seat is not None and access.seat.id is not None
    if dissent.author_key != author_key(secret_key, dissent.nonce, access.seat.id):
        raise Forbidden("only its author can withdraw a dissent")
    already = await session.exec(
        select(DissentWithdrawal).where(DissentWithdrawal.dissent_id == dissent_id)
    )
    if already.first() is not None:
        raise Conflict("this dissent was already withdrawn")
    withdrawal = DissentWithdrawal(dissent_id=dissent_id, reason=reason)
    session.add(withdrawal)
    await session.flush()
    view = dissent_view(dissent, withdrawal, await _people(session, convening), Audience.room)
    await emit(
        session,
        access,
        "record.dissent_withdrawn",
        {"dissent_id": dissent_id},
        upsert={"dissents": [view]},
        anonymous=_anonymous(convening),
    )
    return withdrawal


# Parking lot -----------------------------------------------------------------------------


async def park(
    session: AsyncSession, access: Access, text: str, item_id: int | None, seat_id: int | None
) -> ParkingLotItem:
    """Capture an issue raised but deferred, with the seat that raised it."""
    convening = await _locked(session, access, ConveningStatus.live)
    if item_id is not None:
        await _item(session, convening.id, item_id)  # type: ignore[arg-type]
    seat = None
    if seat_id is not None:
        try:
            seat = await get_seat(session, convening.id, seat_id)  # type: ignore[arg-type]
        except NotFound:
            raise Invalid("no such seat in this convening", field="seat_id") from None
    parked = ParkingLotItem(
        convening_id=convening.id,  # type: ignore[arg-type]
        item_id=item_id,
        seat_id=seat_id,
        group_id=seat.group_id if seat else None,
        text=text,
    )
    session.add(parked)
    await session.flush()
    view = parking_view(parked, await _people(session, convening), Audience.room)
    await emit(
        session, access, "record.parked", {"parking_id": parked.id}, upsert={"parking": [view]}
    )
    return parked


async def resolve_parked(
    session: AsyncSession, access: Access, parking_id: int, resolution: str
) -> ParkingLotItem:
    """Resolve a parked issue in the room (open ones are carried into the report-back)."""
    convening = await _locked(session, access, ConveningStatus.live)
    parked = await session.get(ParkingLotItem, parking_id)
    if parked is None or parked.convening_id != convening.id:
        raise NotFound("parking-lot item not found")
    if parked.status == ParkingStatus.resolved:
        raise Conflict("this issue is already resolved")
    parked.status = ParkingStatus.resolved
    parked.resolution = resolution
    parked.resolved_at = utcnow()
    session.add(parked)
    view = parking_view(parked, await _people(session, convening), Audience.room)
    await emit(
        session,
        access,
        "record.parking_resolved",
        {"parking_id": parking_id},
        upsert={"parking": [view]},
    )
    return parked


async def room_record(session: AsyncSession, convening: Convening) -> dict[str, Any]:
    """The whole record as the room sees it."""
    from app.record.views import record_parts

    assert convening.id is not None
    return await record_parts(
        session, convening.id, await _people(session, convening), Audience.room
    )
