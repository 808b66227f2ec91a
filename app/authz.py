"""Who may do what: the one role → permission table and the dependency that applies it.

Every route on a convening declares its action with `Allowed(Action.X)`. The dependency
resolves the caller's role on that convening (a convener account that owns it, or a
browser bound to one of its seats) and answers 404 when the convening is unknown or
invisible to the caller, 403 when it is visible but the action is not the role's.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Convener
from app.accounts.service import convener_for_api_token, convener_for_session
from app.convenings.models import Convening, Role, Seat, SeatCredential
from app.db import SessionDep, utcnow
from app.i18n import N_, _, set_language
from app.reports.models import Reader
from app.security import token_hash

SESSION_COOKIE = "convene_session"


def seat_cookie_name(convening_id: int) -> str:
    """The cookie that binds a browser to its seat in one convening."""
    return f"convene_seat_{convening_id}"


def reader_cookie_name(convening_id: int) -> str:
    """The cookie that holds a report-back reader's link token in one convening."""
    return f"convene_reader_{convening_id}"


class Actor(StrEnum):
    """Every kind of caller the table speaks of: the seat roles, a report-back reader (by
    their own link) and anyone holding the report-back's public link."""

    convener = Role.convener.value
    facilitator = Role.facilitator.value
    rapporteur = Role.rapporteur.value
    participant = Role.participant.value
    observer = Role.observer.value
    reader = "reader"
    public = "public"


class Action(StrEnum):
    """Everything a caller can ask to do on a convening."""

    prepare = "prepare"  # convening details, groups, seats, agenda, invitations
    run_floor = "run_floor"  # open and close, items, timers, call speakers
    take_part = "take_part"  # raise hand, contribute, answer a check, log dissent
    capture = "capture"  # capture a contribution for a seat
    table_check = "table_check"  # table and close a consensus check, record an outcome
    record_commitment = "record_commitment"
    report_progress = "report_progress"
    draft_report = "draft_report"
    publish_report = "publish_report"
    watch = "watch"  # see the convening and the live room
    read_report = "read_report"
    answer_report = "answer_report"  # acknowledge the report-back, respond, take a position
    manage_readers = "manage_readers"  # readers, their links, the public link, replies, reach


_SEATED = frozenset(
    {Actor.convener, Actor.facilitator, Actor.rapporteur, Actor.participant, Actor.observer}
)

PERMISSIONS: dict[Action, frozenset[Actor]] = {
    Action.prepare: frozenset({Actor.convener}),
    Action.run_floor: frozenset({Actor.convener, Actor.facilitator}),
    Action.take_part: frozenset({Actor.participant}),
    Action.capture: frozenset({Actor.convener, Actor.facilitator, Actor.rapporteur}),
    Action.table_check: frozenset({Actor.convener, Actor.facilitator}),
    Action.record_commitment: frozenset(
        {Actor.convener, Actor.facilitator, Actor.rapporteur, Actor.participant}
    ),
    Action.report_progress: frozenset({Actor.convener, Actor.participant}),
    Action.draft_report: frozenset({Actor.convener, Actor.rapporteur}),
    Action.publish_report: frozenset({Actor.convener}),
    Action.watch: _SEATED,
    Action.read_report: _SEATED | {Actor.reader, Actor.public},
    Action.answer_report: frozenset({Actor.reader}),
    Action.manage_readers: frozenset({Actor.convener}),
}


# Translated where used (`refusal`), in the language of the request's convening.
ACTION_WORDS: dict[Action, str] = {
    Action.prepare: N_("prepare this convening"),
    Action.run_floor: N_("run the floor"),
    Action.take_part: N_("take part (raise a hand, contribute, answer, dissent)"),
    Action.capture: N_("capture contributions for seats"),
    Action.table_check: N_("table or close a consensus check"),
    Action.record_commitment: N_("record a commitment"),
    Action.report_progress: N_("report progress on a commitment"),
    Action.draft_report: N_("draft the report-back"),
    Action.publish_report: N_("publish the report-back"),
    Action.watch: N_("watch the room"),
    Action.read_report: N_("read the report-back"),
    Action.answer_report: N_("answer the report-back (only its readers do)"),
    Action.manage_readers: N_("manage the report-back's readers and reply to their answers"),
}


ACTOR_WORDS: dict[Actor, str] = {
    Actor.convener: N_("convener"),
    Actor.facilitator: N_("facilitator"),
    Actor.rapporteur: N_("rapporteur"),
    Actor.participant: N_("participant"),
    Actor.observer: N_("observer"),
    Actor.reader: N_("reader"),
    Actor.public: N_("public"),
}


def refusal(actor: Actor, action: Action) -> str:
    """The plain-words reason a caller gets with a 403, in the current language."""
    return _("The {role} role may not {action}.").format(
        role=_(ACTOR_WORDS[actor]), action=_(ACTION_WORDS[action])
    )


def allows(actor: Actor, action: Action) -> bool:
    """Whether the table lets this kind of caller do this action."""
    return actor in PERMISSIONS[action]


@dataclass(frozen=True)
class Access:
    """What the permission check learned: the convening, the caller's role and identity."""

    convening: Convening
    actor: Actor
    convener: Convener | None
    seat: Seat | None
    reader: Reader | None = None


async def current_convener(request: Request, session: AsyncSession) -> Convener | None:
    """The convener account calling, by bearer token or session cookie, if any."""
    cached = request.scope.get("convene.convener", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    convener: Convener | None = None
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        convener = await convener_for_api_token(session, credentials.strip())
    elif cookie := request.cookies.get(SESSION_COOKIE):
        convener = await convener_for_session(session, cookie)
    request.scope["convene.convener"] = convener
    return convener


async def current_seat(request: Request, session: AsyncSession, convening_id: int) -> Seat | None:
    """The seat this browser is bound to in the convening, if any."""
    cookie = request.cookies.get(seat_cookie_name(convening_id))
    if not cookie:
        return None
    result = await session.exec(
        select(Seat)
        .join(SeatCredential, SeatCredential.seat_id == Seat.id)  # type: ignore[arg-type]
        .where(SeatCredential.token_hash == token_hash(cookie))
        .where(SeatCredential.revoked_at.is_(None))  # type: ignore[union-attr]
        .where(Seat.convening_id == convening_id)
    )
    return result.first()


async def reader_by_token(session: AsyncSession, token: str) -> Reader | None:
    """The reader whose link this token is, while the link works (not revoked or expired)."""
    reader = (
        await session.exec(select(Reader).where(Reader.token_hash == token_hash(token)))
    ).first()
    if reader is None or reader.revoked_at is not None or reader.expires_at <= utcnow():
        return None
    return reader


async def current_reader(
    request: Request, session: AsyncSession, convening_id: int
) -> Reader | None:
    """The report-back reader this browser opened the link of, in the convening, if any."""
    cookie = request.cookies.get(reader_cookie_name(convening_id))
    if not cookie:
        return None
    reader = await reader_by_token(session, cookie)
    return reader if reader is not None and reader.convening_id == convening_id else None


async def resolve_access(request: Request, session: AsyncSession, convening_id: int) -> Access:
    """The caller's role on the convening; 404 if the convening is unknown or invisible."""
    convening = await session.get(Convening, convening_id)
    if convening is not None:
        # What the server writes for this request (labels, refusals, group names) is in the
        # convening's language; pages may choose another when they render (app/pages.py).
        set_language(convening.language)
        convener = await current_convener(request, session)
        if convener is not None and convening.owner_id == convener.id:
            return Access(convening, Actor.convener, convener, None)
        seat = await current_seat(request, session, convening_id)
        if seat is not None:
            return Access(convening, Actor(seat.role), convener, seat)
        reader = await current_reader(request, session, convening_id)
        if reader is not None:
            return Access(convening, Actor.reader, convener, None, reader)
    raise HTTPException(status.HTTP_404_NOT_FOUND, "convening not found")


class Allowed:
    """Dependency: the caller may perform `action` on the convening named in the path."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, request: Request, convening_id: int, session: SessionDep) -> Access:
        access = await resolve_access(request, session, convening_id)
        if not allows(access.actor, self.action):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                refusal(access.actor, self.action),
            )
        return access


async def _signed_in(request: Request, session: SessionDep) -> Convener:
    convener = await current_convener(request, session)
    if convener is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in or send a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return convener


SignedIn = Annotated[Convener, Depends(_signed_in)]

# Route parameters that check an action and yield the Access, one per action in use.
Prepare = Annotated[Access, Depends(Allowed(Action.prepare))]
RunFloor = Annotated[Access, Depends(Allowed(Action.run_floor))]
Watch = Annotated[Access, Depends(Allowed(Action.watch))]
TakePart = Annotated[Access, Depends(Allowed(Action.take_part))]
PublishReport = Annotated[Access, Depends(Allowed(Action.publish_report))]
Capture = Annotated[Access, Depends(Allowed(Action.capture))]
TableCheck = Annotated[Access, Depends(Allowed(Action.table_check))]
RecordCommitment = Annotated[Access, Depends(Allowed(Action.record_commitment))]
ReportProgress = Annotated[Access, Depends(Allowed(Action.report_progress))]
DraftReport = Annotated[Access, Depends(Allowed(Action.draft_report))]
ReadReport = Annotated[Access, Depends(Allowed(Action.read_report))]
AnswerReport = Annotated[Access, Depends(Allowed(Action.answer_report))]
ManageReaders = Annotated[Access, Depends(Allowed(Action.manage_readers))]
