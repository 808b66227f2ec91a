"""The report-back's readers: who it goes to, their links, their answers and the reach.

Absent seats become readers automatically (on publication, or when the convener asks), the
convener adds others by email, and may switch on a public link (off by default). A reader's
link follows the invitation rules: HMAC-derived from a nonce, stored as a SHA-256 hash,
expiring, revocable, reissued with a new nonce. Emails go through the outbox.

Readers acknowledge a version, respond to any of its sections and take a position on each
outcome (agree, concern, disagree, with a reason). Answers are never edited or deleted; the
convener replies, and every answer appears in the annex of the next version. The annex, like
everything a reader can reach, names people only as `app.attribution.reader_label` allows.

Never commits; every change appends a `report.*` event that carries ids, not text or names.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from markdown_it import MarkdownIt
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.attribution import reader_label
from app.authz import Access, Action, Actor, allows, reader_by_token
from app.config import Settings
from app.convenings.models import Attendance, Convening, Role, Seat, StakeholderGroup
from app.convenings.service import emit
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.i18n import N_, _, ngettext, use_language
from app.notify.models import DeliveryState, OutboxMessage
from app.reports.draft import esc
from app.reports.models import (
    AnswerReply,
    Position,
    PublicLink,
    Reader,
    ReaderAnswer,
    ReaderSource,
    ReportVersion,
)
from app.security import derive_token, new_nonce, token_hash

PURPOSE = "report-reader"
PUBLIC_PURPOSE = "report-public"
REPORT_EMAIL = "report"  # the outbox message kind: a reader's link to a published version

POSITION_WORDS = {
    Position.agree: N_("Agrees"),
    Position.concern: N_("Has a concern"),
    Position.disagree: N_("Disagrees"),
}


# Links ------------------------------------------------------------------------------------


def reader_token(settings: Settings, reader: Reader) -> str:
    """The reader's secret token, recomputed from its nonce with the secret key."""
    return derive_token(settings.secret_key, PURPOSE, reader.nonce)


def reader_link(settings: Settings, reader: Reader) -> str:
    """The link a reader opens to read and answer the report-back."""
    return f"{settings.base_url.rstrip('/')}/read/{reader_token(settings, reader)}"


def public_token(settings: Settings, link: PublicLink) -> str:
    return derive_token(settings.secret_key, PUBLIC_PURPOSE, link.nonce)


def public_url(settings: Settings, link: PublicLink) -> str:
    """The report-back's public page (anyone with the link reads; nobody answers)."""
    return f"{settings.base_url.rstrip('/')}/public/report/{public_token(settings, link)}"


def reader_state(reader: Reader, now: datetime) -> str:
    if reader.revoked_at is not None:
        return "revoked"
    if reader.expires_at <= now:
        return "expired"
    return "active"


def _fresh_credentials(settings: Settings, purpose: str) -> tuple[str, str]:
    nonce = new_nonce()
    return nonce, token_hash(derive_token(settings.secret_key, purpose, nonce))


def _expiry(settings: Settings) -> datetime:
    return utcnow() + timedelta(days=settings.reader_link_days)


# Readers ----------------------------------------------------------------------------------


async def get_reader(session: AsyncSession, convening_id: int, reader_id: int) -> Reader:
    reader = await session.get(Reader, reader_id)
    if reader is None or reader.convening_id != convening_id:
        raise NotFound("no such reader")
    return reader


async def list_readers(session: AsyncSession, convening_id: int) -> list[Reader]:
    """Every reader, absent seats first in seating order, then those added, oldest first."""
    return list(
        (
            await session.exec(
                select(Reader)
                .where(Reader.convening_id == convening_id)
                .order_by(col(Reader.source), col(Reader.id))
            )
        ).all()
    )


async def add_absent_seats(session: AsyncSession, access: Access, settings: Settings) -> int:
    """Make every participant or observer seat that was not at the table a reader (once);
    how many were added."""
    convening_id = access.convening.id
    assert convening_id is not None
    have = set(
        (
            await session.exec(
                select(Reader.seat_id).where(
                    Reader.convening_id == convening_id, col(Reader.seat_id).is_not(None)
                )
            )
        ).all()
    )
    emails = {
        r.email.lower() for r in await list_readers(session, convening_id) if r.email is not None
    }
    seats = (
        await session.exec(
            select(Seat)
            .where(
                Seat.convening_id == convening_id,
                Seat.attendance != Attendance.present,
                col(Seat.role).in_([Role.participant, Role.observer]),
            )
            .order_by(col(Seat.position), col(Seat.id))
        )
    ).all()
    added = 0
    for seat in seats:
        if seat.id in have:
            continue
        email = seat.email if seat.email and seat.email.lower() not in emails else None
        nonce, hashed = _fresh_credentials(settings, PURPOSE)
        session.add(
            Reader(
                convening_id=convening_id,
                seat_id=seat.id,
                group_id=seat.group_id,
                source=ReaderSource.absent_seat,
                name=seat.holder_name,
                email=email,
                nonce=nonce,
                token_hash=hashed,
                expires_at=_expiry(settings),
            )
        )
        if email:
            emails.add(email.lower())
        added += 1
    if added:
        await session.flush()
        await emit(session, access, "report.readers_added", {"count": added})
    return added


async def _check_group(session: AsyncSession, convening_id: int, group_id: int | None) -> None:
    if group_id is None:
        return
    group = await session.get(StakeholderGroup, group_id)
    if group is None or group.convening_id != convening_id:
        raise Invalid("no such stakeholder group in this convening", field="group_id")


async def add_reader(
    session: AsyncSession,
    access: Access,
    settings: Settings,
    name: str,
    email: str,
    group_id: int | None,
) -> Reader:
    """Add a reader by email; 409 if that address is already a reader of this convening."""
    convening_id = access.convening.id
    assert convening_id is not None
    await _check_group(session, convening_id, group_id)
    taken = (
        await session.exec(
            select(Reader.id).where(
                Reader.convening_id == convening_id,
                func.lower(col(Reader.email)) == email.lower(),
            )
        )
    ).first()
    if taken is not None:
        raise Conflict(f"{email} is already a reader of this report-back")
    nonce, hashed = _fresh_credentials(settings, PURPOSE)
    reader = Reader(
        convening_id=convening_id,
        group_id=group_id,
        source=ReaderSource.added,
        name=name,
        email=email,
        nonce=nonce,
        token_hash=hashed,
        expires_at=_expiry(settings),
    )
    session.add(reader)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise Conflict(f"{email} is already a reader of this report-back") from error
    await emit(session, access, "report.reader_added", {"reader_id": reader.id})
    return reader


async def reissue_link(
    session: AsyncSession, access: Access, settings: Settings, reader_id: int
) -> Reader:
    """A new link for the reader; the old one stops working at once."""
    reader = await get_reader(session, access.convening.id, reader_id)  # type: ignore[arg-type]
    reader.nonce, reader.token_hash = _fresh_credentials(settings, PURPOSE)
    reader.revoked_at, reader.expires_at = None, _expiry(settings)
    session.add(reader)
    await session.flush()
    await emit(session, access, "report.reader_link_issued", {"reader_id": reader.id})
    return reader


async def revoke_link(session: AsyncSession, access: Access, reader_id: int) -> Reader:
    """The reader's link stops working (their answers stay in the record)."""
    reader = await get_reader(session, access.convening.id, reader_id)  # type: ignore[arg-type]
    if reader.revoked_at is None:
        reader.revoked_at = utcnow()
        session.add(reader)
        await session.flush()
        await emit(session, access, "report.reader_link_revoked", {"reader_id": reader.id})
    return reader


async def latest_version(session: AsyncSession, convening_id: int) -> ReportVersion | None:
    return (
        await session.exec(
            select(ReportVersion)
            .where(ReportVersion.convening_id == convening_id)
            .order_by(col(ReportVersion.number).desc())
        )
    ).first()


async def send_links(
    session: AsyncSession, access: Access, reader_ids: list[int] | None = None
) -> int:
    """Queue an email with their link to every reader with an address and a working link
    (or to those named), for the latest version; a reader whose email for that version is
    already waiting or sent is not mailed twice. How many were queued."""
    convening_id = access.convening.id
    assert convening_id is not None
    version = await latest_version(session, convening_id)
    if version is None:
        raise Conflict("nothing is published yet: publish a version before sending links")
    already = {
        int(m.payload.get("reader_id", 0))  # type: ignore[call-overload]
        for m in (
            await session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.convening_id == convening_id,
                    OutboxMessage.kind == REPORT_EMAIL,
                    col(OutboxMessage.state) != DeliveryState.cancelled,
                )
            )
        ).all()
        if m.payload.get("version") == version.number
    }
    now = utcnow()
    queued = 0
    for reader in await list_readers(session, convening_id):
        if reader_ids is not None and reader.id not in reader_ids:
            continue
        if not reader.email or reader_state(reader, now) != "active":
            if reader_ids is not None:
                raise Conflict(f"{reader.name} has no email address or no working link")
            continue
        if reader.id in already:
            continue
        session.add(
            OutboxMessage(
                convening_id=convening_id,
                kind=REPORT_EMAIL,
                to_address=reader.email,
                payload={"reader_id": reader.id, "version": version.number},
            )
        )
        queued += 1
    if queued:
        await session.flush()
        await emit(session, access, "report.links_queued", {"count": queued})
    return queued


async def deliveries(session: AsyncSession, convening_id: int) -> dict[int, OutboxMessage]:
    """Each reader's latest report-back email."""
    latest: dict[int, OutboxMessage] = {}
    for message in (
        await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.convening_id == convening_id, OutboxMessage.kind == REPORT_EMAIL)
            .order_by(col(OutboxMessage.id))
        )
    ).all():
        latest[int(message.payload.get("reader_id", 0))] = message  # type: ignore[call-overload]
    return latest


# The public link --------------------------------------------------------------------------


async def current_public_link(session: AsyncSession, convening_id: int) -> PublicLink | None:
    return (
        await session.exec(
            select(PublicLink).where(
                PublicLink.convening_id == convening_id, col(PublicLink.revoked_at).is_(None)
            )
        )
    ).first()


async def set_public(
    session: AsyncSession, access: Access, settings: Settings, on: bool
) -> PublicLink | None:
    """Switch the public link on (a new link each time) or off (the link stops working)."""
    convening_id = access.convening.id
    assert convening_id is not None
    current = await current_public_link(session, convening_id)
    if on and current is not None:
        return current
    if current is not None:
        current.revoked_at = utcnow()
        session.add(current)
    link = None
    if on:
        nonce, hashed = _fresh_credentials(settings, PUBLIC_PURPOSE)
        link = PublicLink(convening_id=convening_id, nonce=nonce, token_hash=hashed)
        session.add(link)
    await session.flush()
    await emit(session, access, "report.public_link_changed", {"on": on})
    return link


async def public_access(session: AsyncSession, token: str) -> Access:
    """What the public link grants: reading the convening's report-back. 404 otherwise."""
    link = (
        await session.exec(select(PublicLink).where(PublicLink.token_hash == token_hash(token)))
    ).first()
    if link is None or link.revoked_at is not None:
        raise NotFound("this link is not valid")
    convening = await session.get(Convening, link.convening_id)
    if convening is None or not allows(Actor.public, Action.read_report):
        raise NotFound("this link is not valid")
    return Access(convening, Actor.public, None, None)


async def open_link(session: AsyncSession, token: str) -> Reader:
    """The reader a link opens (404 if it does not work); records the first reading."""
    reader = await reader_by_token(session, token)
    if reader is None:
        raise NotFound("this report-back link is not valid")
    return reader


async def mark_read(session: AsyncSession, access: Access) -> None:
    """Record that the reader has opened a published version (once)."""
    reader = access.reader
    if reader is None or reader.first_read_at is not None:
        return
    if await latest_version(session, reader.convening_id) is None:
        return
    reader.first_read_at = utcnow()
    session.add(reader)
    await session.flush()
    await emit(session, access, "report.read", {"reader_id": reader.id})


# Answers ----------------------------------------------------------------------------------

_markdown = MarkdownIt("commonmark")


def sections(markdown: str) -> list[str]:
    """The headings of a version, in order: what a reader can respond to."""
    tokens = _markdown.parse(markdown)
    found: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            text = tokens[index + 1].content.strip()
            if text and text not in found:
                found.append(text)
    return found


def outcomes_of(version: ReportVersion) -> dict[int, dict[str, Any]]:
    """The outcomes a version reports, by id."""
    return {int(o["id"]): o for o in version.snapshot.get("record", {}).get("outcomes", [])}


async def _version(session: AsyncSession, convening_id: int, number: int) -> ReportVersion:
    version = (
        await session.exec(
            select(ReportVersion).where(
                ReportVersion.convening_id == convening_id, ReportVersion.number == number
            )
        )
    ).first()
    if version is None:
        raise Invalid(f"there is no published version {number}", field="version")
    return version


async def acknowledge(session: AsyncSession, access: Access, number: int) -> Reader:
    """The reader's read receipt for a version (a later version's replaces an earlier one)."""
    reader = access.reader
    assert reader is not None
    await _version(session, reader.convening_id, number)
    if reader.acknowledged_version is None or number > reader.acknowledged_version:
        now = utcnow()
        reader.acknowledged_at, reader.acknowledged_version = now, number
        reader.first_read_at = reader.first_read_at or now
        session.add(reader)
        await session.flush()
        await emit(session, access, "report.acknowledged", {"reader_id": reader.id})
    return reader


async def answer(
    session: AsyncSession,
    access: Access,
    number: int,
    *,
    section: str | None,
    outcome_id: int | None,
    position: Position | None,
    text: str,
) -> ReaderAnswer:
    """A response to a section, or a position on an outcome (a reason is needed for a
    concern or a disagreement). Checked against the version answered."""
    reader = access.reader
    assert reader is not None
    version = await _version(session, reader.convening_id, number)
    text = text.strip()
    if (section is None) == (outcome_id is None):
        raise Invalid("answer either a section or an outcome", field="section")
    if section is not None:
        if section not in sections(version.markdown):
            raise Invalid(f"version {number} has no section “{section}”", field="section")
        if position is not None:
            raise Invalid("a position is taken on an outcome, not a section", field="position")
        if not text:
            raise Invalid("write your response", field="text")
    else:
        if outcome_id not in outcomes_of(version):
            raise Invalid(f"version {number} reports no such outcome", field="outcome_id")
        if position is None:
            raise Invalid("choose agree, concern or disagree", field="position")
        if position != Position.agree and not text:
            raise Invalid("give the reason for your concern or disagreement", field="text")
    row = ReaderAnswer(
        convening_id=reader.convening_id,
        reader_id=reader.id,  # type: ignore[arg-type]
        version_number=number,
        section=section,
        outcome_id=outcome_id,
        position=position,
        text=text,
    )
    session.add(row)
    reader.first_read_at = reader.first_read_at or row.created_at
    session.add(reader)
    await session.flush()
    await emit(session, access, "report.answered", {"answer_id": row.id, "reader_id": reader.id})
    return row


async def reply(session: AsyncSession, access: Access, answer_id: int, text: str) -> AnswerReply:
    """The convener's reply to an answer; the reader sees it under their answer."""
    convening_id = access.convening.id
    assert convening_id is not None
    found = await session.get(ReaderAnswer, answer_id)
    if found is None or found.convening_id != convening_id:
        raise NotFound("no such answer")
    row = AnswerReply(
        convening_id=convening_id,
        answer_id=answer_id,
        text=text.strip(),
        by_convener_id=access.convener.id if access.convener else None,
    )
    session.add(row)
    await session.flush()
    await emit(session, access, "report.replied", {"answer_id": answer_id})
    return row


@dataclass
class AnswerView:
    answer: ReaderAnswer
    reader: Reader
    replies: list[AnswerReply]
    outcome: str | None  # the outcome's statement, for an outcome position


async def answers(
    session: AsyncSession, convening_id: int, reader_id: int | None = None
) -> list[AnswerView]:
    """Answers, oldest first, with their replies (one reader's when `reader_id` is given)."""
    query = select(ReaderAnswer, Reader).join(Reader, col(Reader.id) == col(ReaderAnswer.reader_id))
    query = query.where(ReaderAnswer.convening_id == convening_id)
    if reader_id is not None:
        query = query.where(ReaderAnswer.reader_id == reader_id)
    rows = (await session.exec(query.order_by(col(ReaderAnswer.id)))).all()
    replies: dict[int, list[AnswerReply]] = {}
    for r in (
        await session.exec(
            select(AnswerReply)
            .where(AnswerReply.convening_id == convening_id)
            .order_by(col(AnswerReply.id))
        )
    ).all():
        replies.setdefault(r.answer_id, []).append(r)
    # The outcome statements, from the versions that were answered on an outcome only (a
    # version's snapshot holds the whole record).
    answered = {a.version_number for a, _reader in rows if a.outcome_id is not None}
    statements: dict[int, str] = {}
    if answered:
        for version in (
            await session.exec(
                select(ReportVersion).where(
                    ReportVersion.convening_id == convening_id,
                    col(ReportVersion.number).in_(answered),
                )
            )
        ).all():
            for oid, outcome in outcomes_of(version).items():
                statements[oid] = str(outcome.get("statement", ""))
    return [
        AnswerView(
            a,
            reader,
            replies.get(a.id, []),  # type: ignore[arg-type]
            statements.get(a.outcome_id) if a.outcome_id is not None else None,
        )
        for a, reader in rows
    ]


# Reach ------------------------------------------------------------------------------------


async def answer_counts(session: AsyncSession, convening_id: int) -> dict[int, int]:
    """How many answers each reader has given."""
    return {
        int(reader_id): int(count)
        for reader_id, count in (
            await session.exec(
                select(ReaderAnswer.reader_id, func.count())
                .where(ReaderAnswer.convening_id == convening_id)
                .group_by(col(ReaderAnswer.reader_id))
            )
        ).all()
    }


async def reach(session: AsyncSession, convening_id: int) -> dict[str, Any]:
    """Per stakeholder group: readers, how many opened, acknowledged and answered."""
    readers = await list_readers(session, convening_id)
    groups = (
        await session.exec(
            select(StakeholderGroup)
            .where(StakeholderGroup.convening_id == convening_id)
            .order_by(col(StakeholderGroup.position), col(StakeholderGroup.id))
        )
    ).all()
    answered = set(
        (
            await session.exec(
                select(ReaderAnswer.reader_id).where(ReaderAnswer.convening_id == convening_id)
            )
        ).all()
    )
    counts: dict[int | None, Counter[str]] = {g.id: Counter() for g in groups}
    for reader in readers:
        row = counts.setdefault(reader.group_id, Counter())
        row["readers"] += 1
        row["read"] += reader.first_read_at is not None
        row["acknowledged"] += reader.acknowledged_at is not None
        row["answered"] += reader.id in answered
    names = {g.id: g.name for g in groups}
    rows = [
        {
            "group_id": group_id,
            "group": names.get(group_id, "No stakeholder group") if group_id else "No group",
            **{k: row[k] for k in ("readers", "read", "acknowledged", "answered")},
        }
        for group_id, row in counts.items()
        if group_id is not None or row["readers"]
    ]
    total = Counter[str]()
    for row in counts.values():
        total.update(row)
    return {
        "groups": rows,
        "total": {k: total[k] for k in ("readers", "read", "acknowledged", "answered")},
    }


# The annex --------------------------------------------------------------------------------


async def annex_markdown(session: AsyncSession, convening: Convening) -> str:
    """The annex of the next version: every answer received so far, with the convener's
    replies, each answer named only as the convening's attribution rule allows; in the
    convening's language."""
    with use_language(convening.language):
        return await _annex(session, convening)


async def _annex(session: AsyncSession, convening: Convening) -> str:
    assert convening.id is not None
    views = await answers(session, convening.id)
    if not views:
        return ""
    groups = {
        g.id: g
        for g in (
            await session.exec(
                select(StakeholderGroup).where(StakeholderGroup.convening_id == convening.id)
            )
        ).all()
    }
    out = [
        "## " + _("Annex: answers from readers"),
        "",
        ngettext(
            "{count} answer from readers of earlier versions, with the convener's replies.",
            "{count} answers from readers of earlier versions, with the convener's replies.",
            len(views),
        ).format(count=len(views)),
        "",
    ]
    for view in views:
        a = view.answer
        who = esc(
            reader_label(
                convening.attribution,
                view.reader.name,
                groups.get(view.reader.group_id) if view.reader.group_id else None,
            )
        )
        if a.outcome_id is not None:
            position = _(POSITION_WORDS[Position(a.position or Position.agree)])
            head = _("**{who}** on the outcome “{outcome}” (version {number}): **{position}**")
            head = head.format(
                who=who, outcome=esc(view.outcome or ""), number=a.version_number, position=position
            )
        else:
            head = _("**{who}** on “{section}” (version {number}):").format(
                who=who, section=esc(a.section or ""), number=a.version_number
            )
        out.append(f"- {head}" + (f" {esc(a.text)}" if a.text else ""))
        for r in view.replies:
            out.append("  - *" + _("The convener replied:") + f"* {esc(r.text)}")
    out.append("")
    return "\n".join(out)
