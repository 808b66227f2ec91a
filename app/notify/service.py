"""Queue emails in the outbox (in the caller's transaction). Never commits, never sends."""

from fastapi import FastAPI
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.authz import Access
from app.config import Settings
from app.convenings import invitations
from app.convenings.schemas import InvitationState
from app.convenings.service import emit, get_seat, list_seats
from app.db import after_commit, utcnow
from app.errors import Invalid
from app.notify.models import DeliveryState, OutboxMessage

INVITATION = "invitation"


async def send_invitation(
    session: AsyncSession, access: Access, seat_id: int, settings: Settings
) -> OutboxMessage:
    """Queue the seat's invitation email; issues a link first if it has none that works.

    If that link's email is still waiting in the outbox (queued, or retrying after a
    failure), it is brought forward to go out now, to the seat's current address, rather
    than queued a second time: one click too many must not mail the link twice.
    """
    seat = await get_seat(session, access.convening.id, seat_id)  # type: ignore[arg-type]
    if not seat.email:
        raise Invalid("this seat has no email address", field="email")
    invitation = await invitations.ensure_invitation(session, access, seat_id, settings)
    message = await _pending(session, invitation.id)  # type: ignore[arg-type]
    if message is None:
        message = OutboxMessage(
            convening_id=access.convening.id,
            invitation_id=invitation.id,
            kind=INVITATION,
            to_address=seat.email,
        )
        session.add(message)
    elif message.state != DeliveryState.sending:  # one being sent right now is left alone
        message.to_address = seat.email
        message.next_attempt_at = utcnow()
        session.add(message)
    await session.flush()
    await emit(session, access, "invitation.queued", {"seat_id": seat.id})
    return message


async def _pending(session: AsyncSession, invitation_id: int) -> OutboxMessage | None:
    """The invitation's email that has not gone out yet, if any."""
    result = await session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.invitation_id == invitation_id,
            OutboxMessage.kind == INVITATION,
            col(OutboxMessage.state).in_(
                [DeliveryState.queued, DeliveryState.retrying, DeliveryState.sending]
            ),
        )
        .order_by(col(OutboxMessage.id).desc())
    )
    return result.first()


async def send_pending_invitations(
    session: AsyncSession, access: Access, settings: Settings
) -> list[OutboxMessage]:
    """Queue invitations for every seat with an email whose working link was never sent."""
    convening_id = access.convening.id
    queued_for = set(
        (
            await session.exec(
                select(OutboxMessage.invitation_id).where(
                    OutboxMessage.convening_id == convening_id,
                    OutboxMessage.kind == INVITATION,
                    col(OutboxMessage.state) != DeliveryState.cancelled,
                )
            )
        ).all()
    )
    now = utcnow()
    messages = []
    for seat in await list_seats(session, convening_id):  # type: ignore[arg-type]
        if not seat.email:
            continue
        current = await invitations.current_invitation(session, seat.id)  # type: ignore[arg-type]
        state = invitations.invitation_state(current, now)
        if state == InvitationState.redeemed:
            continue
        if state == InvitationState.active and current and current.id in queued_for:
            continue
        messages.append(await send_invitation(session, access, seat.id, settings))  # type: ignore[arg-type]
    return messages


def wake(app: FastAPI) -> None:
    """Tell the app's outbox worker, if it runs, to look for new mail once this commits."""
    worker = getattr(app.state, "outbox", None)
    if worker is not None:
        worker.wake()


def wake_after_commit(session: AsyncSession, app: FastAPI) -> None:
    """Wake the outbox worker once the session commits."""

    async def _wake() -> None:
        wake(app)

    after_commit(session, _wake)
