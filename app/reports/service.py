"""The report-back's rules: generate and edit the draft, publish immutable versions.

Never commits; every change appends an event (`report.*`), carrying numbers, not text.
"""

import difflib

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.authz import Access
from app.config import Settings
from app.convenings.models import AttributionRule, ConveningStatus
from app.convenings.service import emit, transition
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.live.log import lock_convening
from app.reports import readers
from app.reports.draft import build_snapshot, render_markdown
from app.reports.models import ReportDraft, ReportVersion


async def get_draft(session: AsyncSession, convening_id: int) -> ReportDraft | None:
    """The stored draft, if one was generated or saved."""
    return (
        await session.exec(select(ReportDraft).where(ReportDraft.convening_id == convening_id))
    ).first()


async def generate_markdown(session: AsyncSession, access: Access) -> str:
    """The draft's Markdown generated from the record as it stands."""
    return render_markdown(await build_snapshot(session, access.convening))


async def generate_draft(session: AsyncSession, access: Access) -> ReportDraft:
    """(Re)generate the draft from the record; replaces the stored Markdown."""
    convening = await lock_convening(session, access.convening)
    assert convening.id is not None
    markdown = await generate_markdown(session, access)
    draft = await get_draft(session, convening.id)
    now = utcnow()
    if draft is None:
        draft = ReportDraft(convening_id=convening.id)
    draft.markdown, draft.generated_at, draft.updated_at, draft.edited = markdown, now, now, False
    session.add(draft)
    await session.flush()
    await emit(session, access, "report.draft_generated", {"draft_id": draft.id})
    return draft


async def save_draft(session: AsyncSession, access: Access, markdown: str) -> ReportDraft:
    """The rapporteur's edit: store the Markdown as given."""
    convening = await lock_convening(session, access.convening)
    assert convening.id is not None
    draft = await get_draft(session, convening.id)
    now = utcnow()
    if draft is None:
        draft = ReportDraft(convening_id=convening.id, generated_at=now)
    draft.markdown, draft.updated_at, draft.edited = markdown, now, True
    session.add(draft)
    await session.flush()
    await emit(session, access, "report.draft_saved", {"draft_id": draft.id})
    return draft


async def list_versions(session: AsyncSession, convening_id: int) -> list[ReportVersion]:
    """Published versions, first to last."""
    return list(
        (
            await session.exec(
                select(ReportVersion)
                .where(ReportVersion.convening_id == convening_id)
                .order_by(col(ReportVersion.number))
            )
        ).all()
    )


async def get_version(session: AsyncSession, convening_id: int, number: int) -> ReportVersion:
    """One published version; 404 if there is none with that number."""
    version = (
        await session.exec(
            select(ReportVersion).where(
                ReportVersion.convening_id == convening_id, ReportVersion.number == number
            )
        )
    ).first()
    if version is None:
        raise NotFound(f"no report version {number}")
    return version


async def publish(
    session: AsyncSession, access: Access, settings: Settings, participant_list: bool = False
) -> ReportVersion:
    """Publish the current draft as version N+1 (immutable), with a snapshot of the record as
    the outside audience sees it and an annex of the readers' answers so far; a closed
    convening becomes reported on the first one, and the readers are sent their links."""
    convening = await lock_convening(session, access.convening)
    assert convening.id is not None
    draft = await get_draft(session, convening.id)
    if draft is None or not draft.markdown.strip():
        raise Conflict("there is no draft to publish: generate or write one first")
    if participant_list and convening.attribution == AttributionRule.anonymous:
        raise Invalid(
            "under the anonymous rule no participant list is published", field="participant_list"
        )
    last = await session.scalar(
        select(func.max(ReportVersion.number)).where(ReportVersion.convening_id == convening.id)
    )
    by_owner = access.convener is not None and access.seat is None
    annex = await readers.annex_markdown(session, convening)
    version = ReportVersion(
        convening_id=convening.id,
        number=int(last or 0) + 1,
        markdown=draft.markdown.rstrip() + "\n\n" + annex if annex else draft.markdown,
        snapshot=await build_snapshot(session, convening, with_participants=participant_list),
        published_by_convener_id=access.convener.id if by_owner else None,  # type: ignore[union-attr]
        published_by_seat_id=access.seat.id if access.seat else None,
    )
    session.add(version)
    await session.flush()
    await emit(session, access, "report.published", {"number": version.number})
    if convening.status == ConveningStatus.closed:
        await transition(session, access, ConveningStatus.reported)
    # Those who were not at the table hear back: absent seats become readers, and every
    # reader with an address gets their link to this version through the outbox.
    await readers.add_absent_seats(session, access, settings)
    await readers.send_links(session, access)
    return version


def diff(previous: ReportVersion | None, version: ReportVersion) -> str:
    """What changed from the previous version: a unified diff of the Markdown."""
    if previous is None:
        return ""
    return "".join(
        difflib.unified_diff(
            previous.markdown.splitlines(keepends=True),
            version.markdown.splitlines(keepends=True),
            fromfile=f"version {previous.number}",
            tofile=f"version {version.number}",
        )
    )
