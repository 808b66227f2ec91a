"""The outbox worker: sends queued email over SMTP in the background, retrying until sent.

A message is claimed with a lease (`claimed_until`) by one atomic UPDATE, so several app
processes never send the same message at once, and one that died mid-send is picked up
again when its lease runs out. Failures back off exponentially and are retried forever:
nothing queued is ever dropped.
"""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import aiosmtplib
from babel.dates import format_date, format_datetime
from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.authz import ACTOR_WORDS, Actor
from app.config import Settings
from app.convenings.invitations import invitation_link, invitation_state
from app.convenings.models import Convening, Invitation, Seat, StakeholderGroup
from app.convenings.schemas import InvitationState
from app.convenings.service import ground_rules_text
from app.db import utcnow
from app.i18n import current, gettext, use_language
from app.notify.models import DeliveryState, OutboxMessage
from app.notify.service import INVITATION
from app.reports.models import Reader
from app.reports.readers import REPORT_EMAIL, reader_link, reader_state

log = logging.getLogger("convene.outbox")
LEASE = timedelta(minutes=2)
BATCH = 20


class Cancelled(Exception):
    """The message should not go out any more (its link was replaced)."""


def backoff_seconds(attempts: int, settings: Settings) -> float:
    """Delay before the next try after `attempts` failed ones: 5 s, 10 s, 20 s ... capped."""
    return float(min(5 * 2 ** max(attempts - 1, 0), settings.outbox_max_backoff_seconds))


async def render(session: AsyncSession, message: OutboxMessage, settings: Settings) -> EmailMessage:
    """Build the email for a message; raises Cancelled when it must not be sent."""
    if message.kind == REPORT_EMAIL:
        return await render_report(session, message, settings)
    if message.kind != INVITATION or message.invitation_id is None:
        raise Cancelled(f"unknown kind of message: {message.kind}")
    invitation = await session.get(Invitation, message.invitation_id)
    if invitation is None:
        raise Cancelled("the invitation no longer exists")
    state = invitation_state(invitation, utcnow())
    if state != InvitationState.active:
        raise Cancelled(f"the link is {state.value}; a newer one replaces it")
    seat = await session.get(Seat, invitation.seat_id)
    assert seat is not None
    if not seat.email:
        raise Cancelled("the seat no longer has an email address")
    message.to_address = seat.email  # an address corrected since queuing is used
    convening = await session.get(Convening, seat.convening_id)
    assert convening is not None
    group = await session.get(StakeholderGroup, seat.group_id) if seat.group_id else None
    with use_language(convening.language):  # the email comes in the convening's language
        lang = current()
        when = ""
        if convening.starts_at:
            local = convening.starts_at.astimezone(ZoneInfo(convening.time_zone))
            when = gettext("When: {when} ({time_zone})").format(
                when=format_datetime(local, "EEEE d MMMM y, HH:mm", locale=lang),
                time_zone=convening.time_zone,
            )
        role = gettext(ACTOR_WORDS[Actor(seat.role)])
        if group and seat.speaks_for:
            seat_line = gettext(
                "You hold the {role} seat for {group}, speaking for {speaks_for}."
            ).format(role=role, group=group.name, speaks_for=seat.speaks_for)
        elif group:
            seat_line = gettext("You hold the {role} seat for {group}.").format(
                role=role, group=group.name
            )
        elif seat.speaks_for:
            seat_line = gettext("You hold the {role} seat, speaking for {speaks_for}.").format(
                role=role, speaks_for=seat.speaks_for
            )
        else:
            seat_line = gettext("You hold the {role} seat.").format(role=role)
        parts = [
            gettext("Dear {name},").format(name=seat.holder_name),
            gettext('You are invited to "{title}".').format(title=convening.title)
            + (f"\n{when}" if when else ""),
            seat_line,
            gettext(
                "Open your personal link to take your seat (it works in one browser only; "
                "do not forward it):\n{link}"
            ).format(link=invitation_link(settings, invitation)),
            gettext("The link expires on {date}.").format(
                date=format_date(invitation.expires_at, "d MMMM y", locale=lang)
            ),
            gettext("Ground rules") + "\n------------\n" + ground_rules_text(convening),
        ]
        subject = gettext("Your seat at {title}").format(title=convening.title)
    email = EmailMessage()
    email["From"] = settings.smtp_from
    email["To"] = message.to_address
    email["Subject"] = subject
    email.set_content("\n\n".join(parts) + "\n")
    return email


async def render_report(
    session: AsyncSession, message: OutboxMessage, settings: Settings
) -> EmailMessage:
    """A reader's email: the report-back is published, here is their own link."""
    reader = await session.get(Reader, int(message.payload.get("reader_id", 0)))  # type: ignore[call-overload]
    if reader is None:
        raise Cancelled("the reader no longer exists")
    state = reader_state(reader, utcnow())
    if state != "active":
        raise Cancelled(f"the reader's link is {state}")
    if not reader.email:
        raise Cancelled("the reader no longer has an email address")
    message.to_address = reader.email
    convening = await session.get(Convening, reader.convening_id)
    assert convening is not None
    number = message.payload.get("version")
    with use_language(convening.language):  # the email comes in the convening's language
        body = "\n\n".join(
            [
                gettext("Dear {name},").format(name=reader.name),
                gettext(
                    'The report-back of "{title}" is published (version {number}). It tells '
                    "what was said, agreed, disputed and promised, including every dissent."
                ).format(title=convening.title, number=number),
                gettext("Read it with your own link (do not forward it):\n{link}").format(
                    link=reader_link(settings, reader)
                ),
                gettext(
                    "There you can acknowledge it, respond to any section and say whether you "
                    "agree with each outcome. The convener sees your answers and can reply; they "
                    "appear in the annex of the next version."
                ),
            ]
        )
        subject = gettext("Report-back: {title}").format(title=convening.title)
    email = EmailMessage()
    email["From"] = settings.smtp_from
    email["To"] = message.to_address
    email["Subject"] = subject
    email.set_content(body + "\n")
    return email


def _due(now: datetime) -> ColumnElement[bool]:
    """Messages to try now: waiting and due, or held by a sender whose lease ran out."""
    return and_(
        or_(
            col(OutboxMessage.state).in_([DeliveryState.queued, DeliveryState.retrying]),
            and_(
                col(OutboxMessage.state) == DeliveryState.sending,
                col(OutboxMessage.claimed_until) < now,
            ),
        ),
        col(OutboxMessage.next_attempt_at) <= now,
    )


class OutboxWorker:
    """Background sender; `run_once` does one pass and is what the tests drive."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Look for new messages now rather than at the next poll."""
        self._wake.set()

    async def _claim(self, session: AsyncSession) -> list[int]:
        now = utcnow()
        due = (
            await session.exec(
                select(OutboxMessage.id)
                .where(_due(now))
                .order_by(col(OutboxMessage.id))
                .limit(BATCH)
            )
        ).all()
        claimed = []
        for message_id in due:
            # The row may have changed since it was read (another worker claimed it, or
            # even sent it): claim it only if it is still due, in one atomic UPDATE.
            result = await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == message_id, _due(now))
                .values(state=DeliveryState.sending, claimed_until=now + LEASE)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(message_id)
        await session.commit()
        return [m for m in claimed if m is not None]

    async def _deliver(self, message_id: int) -> None:
        async with self.sessionmaker() as session:
            message = await session.get(OutboxMessage, message_id)
            assert message is not None
            try:
                email = await render(session, message, self.settings)
            except Cancelled as reason:
                message.state = DeliveryState.cancelled
                message.last_error = str(reason)
                message.claimed_until = None
                session.add(message)
                await session.commit()
                return
            except Exception as error:  # a message that cannot be built waits, it is not lost
                log.exception("email %s could not be rendered", message.id)
                message.attempts += 1
                self._failed(message, error)
            else:
                message.attempts += 1
                try:
                    await aiosmtplib.send(
                        email,
                        hostname=self.settings.smtp_host,
                        port=self.settings.smtp_port,
                        username=self.settings.smtp_username or None,
                        password=self.settings.smtp_password or None,
                        start_tls=self.settings.smtp_starttls,
                        timeout=30,
                    )
                except (aiosmtplib.SMTPException, OSError) as error:
                    self._failed(message, error)
                    log.warning("email %s to be retried: %s", message.id, message.last_error)
                else:
                    message.state = DeliveryState.sent
                    message.sent_at = utcnow()
                    message.last_error = ""
            message.claimed_until = None
            session.add(message)
            await session.commit()

    def _failed(self, message: OutboxMessage, error: Exception) -> None:
        """Record a failed try and schedule the next one."""
        message.state = DeliveryState.retrying
        message.last_error = f"{type(error).__name__}: {error}"[:1000]
        message.next_attempt_at = utcnow() + timedelta(
            seconds=backoff_seconds(message.attempts, self.settings)
        )

    async def run_once(self) -> int:
        """Claim and try every due message once; returns how many were tried."""
        async with self.sessionmaker() as session:
            claimed = await self._claim(session)
        for message_id in claimed:
            try:
                await self._deliver(message_id)
            except Exception:  # one message going wrong must not hold up the others
                log.exception("email %s: delivery failed; retried when its lease ends", message_id)
        return len(claimed)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the pass: a wake during the pass means "look again"
            try:
                await self.run_once()
            except Exception:  # keep the sender alive; the next pass retries
                log.exception("outbox pass failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.outbox_poll_seconds)

    def start(self) -> None:
        """Run the loop in the background."""
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="outbox")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop the loop once the pass in progress ends, so no email is cut off mid-send.

        A pass still running after `grace` seconds is cancelled: a message in flight then
        keeps its lease and is retried when the lease runs out.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
