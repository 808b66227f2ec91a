"""Invitations: one link per seat, redeemed once by one browser, reissued by the convener."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.authz import Access
from app.config import Settings
from app.convenings.models import (
    Attendance,
    Convening,
    Invitation,
    Seat,
    SeatCredential,
    StakeholderGroup,
)
from app.convenings.schemas import InvitationRead, InvitationState, SeatLanding
from app.convenings.service import emit, get_seat, ground_rules_text, list_seats
from app.db import after_commit, utcnow
from app.errors import Conflict, Gone, Invalid, NotFound
from app.live.log import PUBLISHER, append_event
from app.live.state import seat_view
from app.notify.models import OutboxMessage
from app.security import derive_token, new_nonce, new_token, token_hash

PURPOSE = "invitation"


def invitation_token(settings: Settings, invitation: Invitation) -> str:
    """The invitation's secret token, recomputed from its nonce with the secret key."""
    return derive_token(settings.secret_key, PURPOSE, invitation.nonce)


def invitation_link(settings: Settings, invitation: Invitation) -> str:
    """The link a seat holder opens to take their seat."""
    return f"{settings.base_url.rstrip('/')}/join/{invitation_token(settings, invitation)}"


def invitation_state(invitation: Invitation | None, now: datetime) -> InvitationState:
    """Where an invitation stands right now."""
    if invitation is None:
        return InvitationState.none
    if invitation.revoked_at is not None:
        return InvitationState.revoked
    if invitation.redeemed_at is not None:
        return InvitationState.redeemed
    if invitation.expires_at <= now:
        return InvitationState.expired
    return InvitationState.active


async def current_invitation(session: AsyncSession, seat_id: int) -> Invitation | None:
    """The seat's latest invitation, whatever its state."""
    result = await session.exec(
        select(Invitation).where(Invitation.seat_id == seat_id).order_by(col(Invitation.id).desc())
    )
    return result.first()


async def _revoke_all(session: AsyncSession, seat_id: int) -> None:
    now = utcnow()
    seat = await session.get(Seat, seat_id)
    hub = session.info.get(PUBLISHER)
    if hub is not None and seat is not None:
        convening_id = seat.convening_id

        async def unbind() -> None:
            await hub.unbind_seat(convening_id, seat_id)

        after_commit(session, unbind)
    await session.exec(
        update(Invitation)
        .where(col(Invitation.seat_id) == seat_id, col(Invitation.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    await session.exec(
        update(SeatCredential)
        .where(col(SeatCredential.seat_id) == seat_id, col(SeatCredential.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def issue_invitation(
    session: AsyncSession, access: Access, seat_id: int, settings: Settings
) -> Invitation:
    """Issue a fresh link for the seat; any earlier link and bound browser stop working."""
    seat = await get_seat(session, access.convening.id, seat_id)  # type: ignore[arg-type]
    await _revoke_all(session, seat_id)
    nonce = new_nonce()
    invitation = Invitation(
        seat_id=seat.id,  # type: ignore[arg-type]
        nonce=nonce,
        token_hash=token_hash(derive_token(settings.secret_key, PURPOSE, nonce)),
        expires_at=utcnow() + timedelta(days=settings.invitation_days),
    )
    session.add(invitation)
    await session.flush()
    await emit(session, access, "invitation.issued", {"seat_id": seat.id})
    return invitation


async def revoke_invitation(session: AsyncSession, access: Access, seat_id: int) -> None:
    """Revoke the seat's link and unbind any browser that redeemed it."""
    await get_seat(session, access.convening.id, seat_id)  # type: ignore[arg-type]
    await _revoke_all(session, seat_id)
    await emit(session, access, "invitation.revoked", {"seat_id": seat_id})


async def ensure_invitation(
    session: AsyncSession, access: Access, seat_id: int, settings: Settings
) -> Invitation:
    """The seat's link if it can still be redeemed, otherwise a newly issued one."""
    invitation = await current_invitation(session, seat_id)
    if invitation_state(invitation, utcnow()) == InvitationState.active:
        return invitation  # type: ignore[return-value]
    return await issue_invitation(session, access, seat_id, settings)


async def list_invitations(
    session: AsyncSession, convening_id: int, settings: Settings
) -> list[InvitationRead]:
    """Each seat's invitation state, link while redeemable, and email delivery state."""
    seats = await list_seats(session, convening_id)
    invitations: dict[int, Invitation] = {}
    for invitation in (
        await session.exec(
            select(Invitation)
            .join(Seat, col(Seat.id) == col(Invitation.seat_id))
            .where(Seat.convening_id == convening_id)
            .order_by(col(Invitation.id))
        )
    ).all():
        invitations[invitation.seat_id] = invitation
    # The latest email per seat, whichever of its links it carried: a message cancelled by a
    # reissue stays visible, with its reason, until a newer one is queued.
    deliveries: dict[int, OutboxMessage] = {}
    for message, seat_id in (
        await session.exec(
            select(OutboxMessage, Invitation.seat_id)
            .join(Invitation, col(Invitation.id) == col(OutboxMessage.invitation_id))
            .where(OutboxMessage.convening_id == convening_id, OutboxMessage.kind == PURPOSE)
            .order_by(col(OutboxMessage.id))
        )
    ).all():
        deliveries[seat_id] = message
    now = utcnow()
    rows = []
    for seat in seats:
        current: Invitation | None = invitations.get(seat.id)  # type: ignore[arg-type]
        state = invitation_state(current, now)
        delivery = deliveries.get(seat.id)  # type: ignore[arg-type]
        rows.append(
            InvitationRead(
                seat_id=seat.id,  # type: ignore[arg-type]
                holder_name=seat.holder_name,
                email=seat.email,
                state=state,
                link=invitation_link(settings, current)
                if current and state == InvitationState.active
                else None,
                expires_at=current.expires_at if current else None,
                redeemed_at=current.redeemed_at if current else None,
                delivery=delivery.state if delivery else None,
                delivery_attempts=delivery.attempts if delivery else 0,
                delivery_error=delivery.last_error if delivery else "",
            )
        )
    return rows


@dataclass
class Found:
    invitation: Invitation
    seat: Seat
    convening: Convening


async def find(session: AsyncSession, token: str) -> Found:
    """The invitation a token opens; NotFound if no invitation has that token."""
    invitation = (
        await session.exec(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    ).first()
    if invitation is None:
        raise NotFound("this invitation link is not valid")
    seat = await session.get(Seat, invitation.seat_id)
    convening = await session.get(Convening, seat.convening_id)  # type: ignore[union-attr]
    return Found(invitation, seat, convening)  # type: ignore[arg-type]


async def _holds(session: AsyncSession, invitation: Invitation, cookie: str | None) -> bool:
    if not cookie:
        return False
    credential = (
        await session.exec(
            select(SeatCredential).where(SeatCredential.token_hash == token_hash(cookie))
        )
    ).first()
    return (
        credential is not None
        and credential.revoked_at is None
        and credential.invitation_id == invitation.id
    )


async def landing(session: AsyncSession, token: str, cookie: str | None) -> SeatLanding:
    """What the invitation page shows: the seat, its group and role, and the ground rules."""
    found = await find(session, token)
    group = (
        await session.get(StakeholderGroup, found.seat.group_id) if found.seat.group_id else None
    )
    return SeatLanding(
        convening_id=found.convening.id,  # type: ignore[arg-type]
        convening_title=found.convening.title,
        purpose=found.convening.purpose,
        starts_at=found.convening.starts_at,
        time_zone=found.convening.time_zone,
        ground_rules_text=ground_rules_text(found.convening),
        holder_name=found.seat.holder_name,
        affiliation=found.seat.affiliation,
        role=found.seat.role,  # type: ignore[arg-type]
        group_name=group.name if group else None,
        speaks_for=found.seat.speaks_for,
        state=invitation_state(found.invitation, utcnow()),
        bound_here=await _holds(session, found.invitation, cookie),
    )


async def redeem(
    session: AsyncSession, token: str, accept_ground_rules: bool, cookie: str | None
) -> tuple[Found, str | None]:
    """Bind this browser to the seat. Returns the new cookie token (None if already bound here).

    Raises Gone for a revoked or expired link, Conflict when another browser already holds
    the seat, Invalid when the ground rules were not accepted.
    """
    found = await find(session, token)
    invitation = found.invitation
    state = invitation_state(invitation, utcnow())
    if state == InvitationState.revoked:
        raise Gone("this link was replaced or revoked; ask the convener for a new one")
    if state == InvitationState.expired:
        raise Gone("this link has expired; ask the convener for a new one")
    if state == InvitationState.redeemed:
        if await _holds(session, invitation, cookie):
            return found, None
        raise Conflict(
            "this invitation was already used from another browser; "
            "ask the convener to reissue your link"
        )
    if not accept_ground_rules:
        raise Invalid(
            "read and accept the ground rules to take your seat", field="accept_ground_rules"
        )
    now = utcnow()
    # Claim the invitation atomically: of two browsers racing, exactly one wins.
    claimed = await session.exec(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.redeemed_at).is_(None))
        .values(redeemed_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this invitation was already used from another browser")
    await session.refresh(invitation)
    seat = found.seat
    seat.ground_rules_accepted_at = now
    if seat.attendance == Attendance.invited:
        seat.attendance = Attendance.confirmed
    session.add(seat)
    cookie_token = new_token()
    session.add(
        SeatCredential(
            seat_id=seat.id,  # type: ignore[arg-type]
            invitation_id=invitation.id,  # type: ignore[arg-type]
            token_hash=token_hash(cookie_token),
        )
    )
    await append_event(
        session,
        found.convening,
        "invitation.redeemed",
        {"seat_id": seat.id},
        actor_seat_id=seat.id,
        upsert={"seats": [seat_view(seat)]},
    )
    return found, cookie_token
