"""JSON API for the report-back's readers: the convener manages readers, links, the public
link and replies, and sees the reach; a reader acknowledges and answers; the public link
reads the latest version and its exports.

There is deliberately no route that edits or deletes an answer.
"""

from fastapi import APIRouter, Depends, Request, Response, status

from app.authz import Access, AnswerReport, ManageReaders, ReadReport
from app.convenings.routes import SettingsDep
from app.db import SessionDep, utcnow
from app.errors import NotFound
from app.notify.service import wake_after_commit
from app.ratelimit import RateLimited
from app.reports import readers
from app.reports.models import Position, PublicLink, Reader
from app.reports.routes import ExportFormat, _version_read, export_version
from app.reports.schemas import (
    Acknowledge,
    Added,
    AnswerForConvener,
    AnswerRead,
    AnswerWrite,
    MyReport,
    PublicRead,
    PublicWrite,
    Queued,
    Reach,
    ReaderRead,
    ReaderWrite,
    ReplyRead,
    ReplyWrite,
    SendLinks,
    VersionRead,
)

router = APIRouter(prefix="/api/convenings/{convening_id}/report", tags=["report-back readers"])
public = APIRouter(
    prefix="/api/public/report/{token}",
    tags=["report-back readers"],
    dependencies=[Depends(RateLimited("reader-link"))],
)


def _answer_read(view: readers.AnswerView) -> AnswerRead:
    a = view.answer
    return AnswerRead(
        id=a.id,  # type: ignore[arg-type]
        version=a.version_number,
        section=a.section,
        outcome_id=a.outcome_id,
        outcome=view.outcome,
        position=Position(a.position) if a.position else None,
        text=a.text,
        created_at=a.created_at,
        replies=[ReplyRead(id=r.id, text=r.text, created_at=r.created_at) for r in view.replies],  # type: ignore[arg-type]
    )


async def _reader_rows(
    session: SessionDep, access: Access, settings: SettingsDep
) -> list[ReaderRead]:
    cid = access.convening.id
    assert cid is not None
    mail = await readers.deliveries(session, cid)
    counted = await readers.answer_counts(session, cid)
    now = utcnow()
    rows = []
    for r in await readers.list_readers(session, cid):
        state = readers.reader_state(r, now)
        message = mail.get(r.id)  # type: ignore[arg-type]
        rows.append(
            ReaderRead(
                id=r.id,  # type: ignore[arg-type]
                name=r.name,
                email=r.email,
                group_id=r.group_id,
                source=r.source,  # type: ignore[arg-type]
                state=state,
                link=readers.reader_link(settings, r) if state == "active" else None,
                expires_at=r.expires_at,
                first_read_at=r.first_read_at,
                acknowledged_at=r.acknowledged_at,
                acknowledged_version=r.acknowledged_version,
                answers=counted.get(r.id, 0),  # type: ignore[arg-type]
                delivery=message.state if message else None,
                delivery_error=message.last_error if message else "",
            )
        )
    return rows


def _public_read(settings: SettingsDep, link: PublicLink | None) -> PublicRead:
    return PublicRead(
        on=link is not None, link=readers.public_url(settings, link) if link else None
    )


# The convener: readers, links, public link, answers and replies, reach ---------------------


@router.get("/readers", response_model=list[ReaderRead])
async def list_readers(
    access: ManageReaders, session: SessionDep, settings: SettingsDep
) -> list[ReaderRead]:
    """Every reader with their link (while it works), what they did and their email's state."""
    return await _reader_rows(session, access, settings)


@router.post("/readers", response_model=ReaderRead, status_code=status.HTTP_201_CREATED)
async def add_reader(
    data: ReaderWrite, access: ManageReaders, session: SessionDep, settings: SettingsDep
) -> ReaderRead:
    """Add a reader by email (their link is sent when a version is published, or on request)."""
    reader = await readers.add_reader(
        session, access, settings, data.name, str(data.email), data.group_id
    )
    return next(r for r in await _reader_rows(session, access, settings) if r.id == reader.id)


@router.post("/readers/absent-seats", response_model=Added)
async def add_absent_seats(
    access: ManageReaders, session: SessionDep, settings: SettingsDep
) -> Added:
    """Make every seat that was not at the table a reader now (publishing does it too)."""
    return Added(added=await readers.add_absent_seats(session, access, settings))


@router.post("/readers/send", response_model=Queued, status_code=status.HTTP_202_ACCEPTED)
async def send_links(
    data: SendLinks, access: ManageReaders, session: SessionDep, request: Request
) -> Queued:
    """Email readers their link to the latest version (all, or those named); nobody is mailed
    twice for the same version."""
    queued = await readers.send_links(session, access, data.reader_ids)
    wake_after_commit(session, request.app)
    return Queued(queued=queued)


@router.post("/readers/{reader_id}/link", response_model=ReaderRead)
async def reissue_link(
    reader_id: int, access: ManageReaders, session: SessionDep, settings: SettingsDep
) -> ReaderRead:
    """A new link for the reader; the old one stops working."""
    await readers.reissue_link(session, access, settings, reader_id)
    return next(r for r in await _reader_rows(session, access, settings) if r.id == reader_id)


@router.delete("/readers/{reader_id}/link", response_model=ReaderRead)
async def revoke_link(
    reader_id: int, access: ManageReaders, session: SessionDep, settings: SettingsDep
) -> ReaderRead:
    """The reader's link stops working; their answers stay."""
    await readers.revoke_link(session, access, reader_id)
    return next(r for r in await _reader_rows(session, access, settings) if r.id == reader_id)


@router.get("/public-link", response_model=PublicRead)
async def read_public_link(
    access: ManageReaders, session: SessionDep, settings: SettingsDep
) -> PublicRead:
    """Whether the public link is on, and the link."""
    link = await readers.current_public_link(session, access.convening.id)  # type: ignore[arg-type]
    return _public_read(settings, link)


@router.put("/public-link", response_model=PublicRead)
async def set_public_link(
    data: PublicWrite, access: ManageReaders, session: SessionDep, settings: SettingsDep
) -> PublicRead:
    """Switch the public link on or off (off by default; switching off ends the link)."""
    link = await readers.set_public(session, access, settings, data.on)
    return _public_read(settings, link)


@router.get("/answers", response_model=list[AnswerForConvener])
async def list_answers(access: ManageReaders, session: SessionDep) -> list[AnswerForConvener]:
    """Every reader's answers, oldest first, with the replies."""
    return [
        AnswerForConvener(
            **_answer_read(view).model_dump(),
            reader_id=view.reader.id,  # type: ignore[arg-type]
            reader=view.reader.name,
            reader_email=view.reader.email,
            group_id=view.reader.group_id,
        )
        for view in await readers.answers(session, access.convening.id)  # type: ignore[arg-type]
    ]


@router.post(
    "/answers/{answer_id}/replies", response_model=ReplyRead, status_code=status.HTTP_201_CREATED
)
async def reply(
    answer_id: int, data: ReplyWrite, access: ManageReaders, session: SessionDep
) -> ReplyRead:
    """Reply to a reader's answer; they see it under their answer."""
    row = await readers.reply(session, access, answer_id, data.text)
    return ReplyRead(id=row.id, text=row.text, created_at=row.created_at)  # type: ignore[arg-type]


@router.get("/reach", response_model=Reach)
async def reach(access: ManageReaders, session: SessionDep) -> Reach:
    """Per stakeholder group: readers, and how many read, acknowledged and answered."""
    return Reach.model_validate(await readers.reach(session, access.convening.id))  # type: ignore[arg-type]


# The reader ---------------------------------------------------------------------------------


async def my_report(session: SessionDep, access: Access) -> MyReport:
    """The latest version's sections and outcomes, and the caller's own answers if a reader."""
    cid = access.convening.id
    assert cid is not None
    version = await readers.latest_version(session, cid)
    reader: Reader | None = access.reader
    mine = await readers.answers(session, cid, reader.id) if reader is not None else []
    return MyReport(
        role=access.actor.value,
        can_answer=reader is not None and version is not None,
        latest_version=version.number if version else None,
        sections=readers.sections(version.markdown) if version else [],
        outcomes=[
            {"id": oid, "statement": o.get("statement"), "level": o.get("level")}
            for oid, o in readers.outcomes_of(version).items()
        ]
        if version
        else [],
        acknowledged_version=reader.acknowledged_version if reader else None,
        answers=[_answer_read(v) for v in mine],
    )


@router.get("/mine", response_model=MyReport)
async def mine(access: ReadReport, session: SessionDep) -> MyReport:
    """For the report-back page: what can be answered, and the caller's answers and replies."""
    return await my_report(session, access)


@router.post("/acknowledgement", response_model=MyReport)
async def acknowledge(data: Acknowledge, access: AnswerReport, session: SessionDep) -> MyReport:
    """The reader's read receipt for a version."""
    await readers.acknowledge(session, access, data.version)
    return await my_report(session, access)


@router.post("/answers", response_model=AnswerRead, status_code=status.HTTP_201_CREATED)
async def answer(data: AnswerWrite, access: AnswerReport, session: SessionDep) -> AnswerRead:
    """A response to a section of a version, or a position on one of its outcomes
    (agree, concern or disagree; a reason is needed for a concern or a disagreement)."""
    row = await readers.answer(
        session,
        access,
        data.version,
        section=data.section,
        outcome_id=data.outcome_id,
        position=data.position,
        text=data.text,
    )
    views = await readers.answers(session, access.convening.id, access.reader.id)  # type: ignore[arg-type,union-attr]
    return next(_answer_read(v) for v in views if v.answer.id == row.id)


# The public link ----------------------------------------------------------------------------


@public.get("", response_model=VersionRead)
async def read_public(token: str, session: SessionDep) -> VersionRead:
    """The latest published version, for anyone with the public link (while it is on)."""
    access = await readers.public_access(session, token)
    version = await readers.latest_version(session, access.convening.id)  # type: ignore[arg-type]
    if version is None:
        raise NotFound("nothing is published yet")
    read = await _version_read(session, access, version)
    base = f"/api/public/report/{token}/versions/{version.number}/export"
    return read.model_copy(update={"exports": {f.value: f"{base}.{f.value}" for f in ExportFormat}})


@public.get("/versions/{number}/export.{fmt}")
async def export_public(
    token: str, number: int, fmt: ExportFormat, session: SessionDep, settings: SettingsDep
) -> Response:
    """An export of a published version, for anyone with the public link."""
    access = await readers.public_access(session, token)
    return await export_version(number, fmt, access, session, settings)
