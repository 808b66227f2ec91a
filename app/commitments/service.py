"""Commitments: made in the room for an organization, followed up by progress reports.
Never commits."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.agenda.models import AgendaItem
from app.attribution import Audience, load_people
from app.authz import Access, Actor
from app.commitments.lights import traffic_light
from app.commitments.models import Commitment, Light, ProgressReport
from app.commitments.schemas import CommitmentCreate
from app.config import Settings
from app.convenings.models import Convening, ConveningStatus, Role
from app.convenings.service import emit, get_seat
from app.db import utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.live.log import append_event, lock_convening
from app.record.views import commitment_view, latest_reports
from app.security import derive_token, new_nonce, token_hash

PURPOSE = "progress"


def progress_link(settings: Settings, commitment: Commitment) -> str:
    """The owner's link for reporting progress (recomputed from the nonce with the key)."""
    token = derive_token(settings.secret_key, PURPOSE, commitment.report_nonce)
    return f"{settings.base_url.rstrip('/')}/progress/{token}"


def light_of(view: dict[str, Any], now: datetime, period_days: int) -> Light:
    """The traffic light of a commitment view, now."""
    return traffic_light(datetime.fromisoformat(view["since"]), now, period_days)


def _today(convening: Convening) -> date:
    return utcnow().astimezone(ZoneInfo(convening.time_zone)).date()


async def _view(
    session: AsyncSession, convening: Convening, commitment: Commitment
) -> dict[str, Any]:
    people = await load_people(session, convening.id, convening.attribution)  # type: ignore[arg-type]
    latest = (await latest_reports(session, [commitment])).get(commitment.id)  # type: ignore[arg-type]
    return commitment_view(commitment, latest, people, Audience.room)


async def make_commitment(
    session: AsyncSession, access: Access, data: CommitmentCreate, settings: Settings
) -> Commitment:
    """Record a commitment; a participant commits only for its own organization."""
    convening = await lock_convening(session, access.convening)
    if convening.status != ConveningStatus.live:
        raise Conflict(
            f"commitments are made in the live room (the convening is {convening.status})"
        )
    if access.actor == Actor.participant:
        assert access.seat is not None
        if data.seat_id not in (None, access.seat.id):
            raise Forbidden("a participant commits only for its own organization")
        seat = access.seat
    else:
        if data.seat_id is None:
            raise Invalid("say which seat's organization commits", field="seat_id")
        try:
            seat = await get_seat(session, convening.id, data.seat_id)  # type: ignore[arg-type]
        except NotFound:
            raise Invalid("no such seat in this convening", field="seat_id") from None
        if seat.role == Role.observer:
            raise Invalid("an observer seat does not commit", field="seat_id")
    if data.due_date < _today(convening):
        raise Invalid("the due date is in the past", field="due_date")
    if data.item_id is not None:
        item = await session.get(AgendaItem, data.item_id)
        if item is None or item.convening_id != convening.id:
            raise Invalid("no such agenda item in this convening", field="item_id")
    nonce = new_nonce()
    commitment = Commitment(
        convening_id=convening.id,  # type: ignore[arg-type]
        item_id=data.item_id,
        seat_id=seat.id,  # type: ignore[arg-type]
        organization=seat.affiliation or seat.holder_name,
        what=data.what,
        owner=data.owner,
        due_date=data.due_date,
        indicator=data.indicator,
        resources=data.resources,
        report_nonce=nonce,
        report_token_hash=token_hash(derive_token(settings.secret_key, PURPOSE, nonce)),
    )
    session.add(commitment)
    await session.flush()
    await emit(
        session,
        access,
        "record.commitment_made",
        {"commitment_id": commitment.id},
        upsert={"commitments": [await _view(session, convening, commitment)]},
    )
    return commitment


async def _report(
    session: AsyncSession,
    convening: Convening,
    commitment: Commitment,
    status: str,
    text: str,
    *,
    actor_seat_id: int | None,
    actor_convener_id: int | None,
) -> ProgressReport:
    await lock_convening(session, convening)
    report = ProgressReport(commitment_id=commitment.id, status=status, text=text)  # type: ignore[arg-type]
    session.add(report)
    await session.flush()
    await append_event(
        session,
        convening,
        "record.progress_reported",
        {"commitment_id": commitment.id, "status": status},
        actor_seat_id=actor_seat_id,
        actor_convener_id=actor_convener_id,
        upsert={"commitments": [await _view(session, convening, commitment)]},
    )
    return report


async def report_progress(
    session: AsyncSession, access: Access, commitment_id: int, status: str, text: str
) -> ProgressReport:
    """The convener, or the seat that made it, reports progress on a commitment."""
    commitment = await session.get(Commitment, commitment_id)
    if commitment is None or commitment.convening_id != access.convening.id:
        raise NotFound("commitment not found")
    if access.actor == Actor.participant and (
        access.seat is None or access.seat.id != commitment.seat_id
    ):
        raise Forbidden("a participant reports only on its own commitments")
    return await _report(
        session,
        access.convening,
        commitment,
        status,
        text,
        actor_seat_id=access.seat.id if access.seat else None,
        actor_convener_id=access.convener.id if access.convener else None,
    )


async def by_token(session: AsyncSession, token: str) -> tuple[Commitment, Convening]:
    """The commitment a progress link opens."""
    commitment = (
        await session.exec(
            select(Commitment).where(Commitment.report_token_hash == token_hash(token))
        )
    ).first()
    if commitment is None:
        raise NotFound("this progress link is not valid")
    convening = await session.get(Convening, commitment.convening_id)
    assert convening is not None
    return commitment, convening


async def report_by_link(
    session: AsyncSession, token: str, status: str, text: str
) -> ProgressReport:
    """The owner reports progress through the commitment's link."""
    commitment, convening = await by_token(session, token)
    return await _report(
        session,
        convening,
        commitment,
        status,
        text,
        actor_seat_id=commitment.seat_id,
        actor_convener_id=None,
    )


async def list_commitments(
    session: AsyncSession, convening: Convening
) -> list[tuple[Commitment, dict[str, Any], Light]]:
    """Every commitment with its view and traffic light now (three queries in all)."""
    rows = (
        await session.exec(
            select(Commitment)
            .where(Commitment.convening_id == convening.id)
            .order_by(col(Commitment.id))
        )
    ).all()
    latest = await latest_reports(session, rows)
    people = await load_people(session, convening.id, convening.attribution)  # type: ignore[arg-type]
    now = utcnow()
    result = []
    for commitment in rows:
        view = commitment_view(commitment, latest.get(commitment.id), people, Audience.room)  # type: ignore[arg-type]
        result.append((commitment, view, light_of(view, now, convening.reporting_period_days)))
    return result


async def commitment_page(session: AsyncSession, token: str) -> dict[str, Any]:
    """What the owner's progress page shows."""
    commitment, convening = await by_token(session, token)
    view = await _view(session, convening, commitment)
    reports = (
        await session.exec(
            select(ProgressReport)
            .where(ProgressReport.commitment_id == commitment.id)
            .order_by(col(ProgressReport.reported_at))
        )
    ).all()
    return {
        "convening": {"id": convening.id, "title": convening.title},
        "commitment": view,
        "light": light_of(view, utcnow(), convening.reporting_period_days),
        "reporting_period_days": convening.reporting_period_days,
        "reports": [
            {"status": r.status, "text": r.text, "at": r.reported_at.isoformat()} for r in reports
        ],
    }
