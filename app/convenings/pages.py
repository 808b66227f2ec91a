"""HTML pages for convenings: the console, the preparation page, the invitation landing page,
the live pages (the seat's room, the facilitator's console, the room display, the rapporteur's
desk), the commitments page and the owners' progress-report page. Data comes from the
services; writes go through the JSON API; the live pages update from the websocket."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response

from app.agenda import service as agenda_service
from app.agenda.models import ItemKind
from app.authz import Access, Action, Actor, allows, current_convener, seat_cookie_name
from app.commitments import service as commitments_service
from app.commitments.models import Light, ProgressStatus
from app.config import Settings
from app.convenings import invitations, service
from app.convenings.models import (
    Attendance,
    AttributionRule,
    Convening,
    ConveningStatus,
    PurposeType,
    Role,
    StakeholderGroup,
)
from app.convenings.schemas import PRESET_LABELS, InvitationState
from app.db import SessionDep, utcnow
from app.errors import DomainError
from app.floor.models import QueueOrder, TourOrder
from app.i18n import N_
from app.pages import (
    PageRefused,
    error_page,
    page_access,
    page_language,
    render,
    sign_in_redirect,
)
from app.ratelimit import RateLimited

router = APIRouter(include_in_schema=False)

# Labels are marked with N_ and translated where they are shown (`| translate`).
PURPOSE_LABELS = {
    PurposeType.problem_solving: N_("Problem solving"),
    PurposeType.advocacy: N_("Advocacy"),
    PurposeType.policy_development: N_("Policy development"),
    PurposeType.consensus_building: N_("Consensus building"),
}

ATTRIBUTION_LABELS = {
    AttributionRule.attributed: N_("Attributed (on the record)"),
    AttributionRule.chatham_house: N_("Chatham House Rule"),
    AttributionRule.anonymous: N_("Anonymous"),
}

ROLE_LABELS = {
    Role.convener: N_("Convener"),
    Role.facilitator: N_("Facilitator"),
    Role.rapporteur: N_("Rapporteur"),
    Role.participant: N_("Participant"),
    Role.observer: N_("Observer"),
}
INVITATION_LABELS = {
    InvitationState.none: N_("No link"),
    InvitationState.active: N_("Active"),
    InvitationState.redeemed: N_("Seat taken"),
    InvitationState.expired: N_("Expired"),
    InvitationState.revoked: N_("Revoked"),
}
ATTENDANCE_LABELS = {
    Attendance.invited: N_("Invited"),
    Attendance.confirmed: N_("Confirmed"),
    Attendance.present: N_("Present"),
    Attendance.absent: N_("Absent"),
    Attendance.declined: N_("Declined"),
}
QUEUE_ORDER_LABELS = {
    QueueOrder.first_come: N_("First come, first served"),
    QueueOrder.least_heard_seat: N_("Least heard seat first"),
    QueueOrder.least_heard_group: N_("Least heard stakeholder group first"),
}
TOUR_ORDER_LABELS = {
    TourOrder.seating: N_("Seating order"),
    TourOrder.alternating_groups: N_("Alternating stakeholder groups"),
}


@dataclass(frozen=True)
class Move:
    """A lifecycle button: the API path that makes the move, and what it means."""

    label: str
    path: str
    explanation: str
    confirm: str = ""
    done: str = ""  # said once the move is made


LIFECYCLE: dict[tuple[str, str], Move] = {
    (ConveningStatus.draft, ConveningStatus.scheduled): Move(
        N_("Schedule"),
        "schedule",
        N_("The preparation is done: the agenda is fixed and invitations can go out."),
        done=N_("The convening is now scheduled."),
    ),
    (ConveningStatus.scheduled, ConveningStatus.draft): Move(
        N_("Back to draft"),
        "unschedule",
        N_("Reopen the preparation so the agenda can change again."),
        done=N_("The convening is a draft again."),
    ),
    (ConveningStatus.scheduled, ConveningStatus.live): Move(
        N_("Open the convening"),
        "open",
        N_("The convening goes live: the room opens for the seats."),
        N_("Open the convening now? The attribution rule can no longer change."),
        done=N_("The convening is now live."),
    ),
    (ConveningStatus.live, ConveningStatus.closed): Move(
        N_("Close the convening"),
        "close",
        N_("The discussion ends; the record is kept."),
        N_("Close now?"),
        done=N_("The convening is now closed."),
    ),
    (ConveningStatus.closed, ConveningStatus.reported): Move(
        N_("Mark as reported"),
        "mark-reported",
        N_("The report-back has gone out to every stakeholder."),
        done=N_("The convening is now marked as reported."),
    ),
}

CSV_COLUMNS = [
    ("name", "yes", N_("The seat holder's name (also accepted: holder_name, holder).")),
    ("role", "yes", "One of: " + ", ".join(role.value for role in Role) + "."),
    ("group", "no", N_("A stakeholder group of this convening, by name or preset key.")),
    ("affiliation", "no", N_("Organization (also accepted: organization).")),
    ("email", "no", N_("Where the invitation is sent; one seat per address.")),
    ("speaks_for", "no", N_("Who the seat speaks for (also accepted: represents).")),
    (
        "attendance",
        "no",
        "One of: " + ", ".join(a.value for a in Attendance) + "; invited when left empty.",
    ),
]

_ZONES = sorted(available_timezones())


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _choices() -> dict[str, Any]:
    """Labels for the select boxes every convening form offers."""
    return {
        "purpose_labels": PURPOSE_LABELS,
        "attribution_labels": ATTRIBUTION_LABELS,
        "attribution_statements": service.ATTRIBUTION_STATEMENTS,
        "zones": _ZONES,
    }


@router.get("/console")
async def console(request: Request, session: SessionDep) -> Response:
    """The convener's convenings and a form to start a new one."""
    convener = await current_convener(request, session)
    if convener is None:
        return sign_in_redirect(request)
    convenings = await service.list_convenings(session, convener)
    return render(
        request,
        "console/index.html",
        {"convenings": convenings, **_choices()},
        convener=convener,
    )


def _orders(ids: list[int]) -> list[dict[str, list[int] | None]]:
    """For each item, the full order with it moved up and moved down (None at the ends)."""
    moves: list[dict[str, list[int] | None]] = []
    for index in range(len(ids)):
        up = down = None
        if index > 0:
            up = ids.copy()
            up[index - 1], up[index] = up[index], up[index - 1]
        if index < len(ids) - 1:
            down = ids.copy()
            down[index], down[index + 1] = down[index + 1], down[index]
        moves.append({"up": up, "down": down})
    return moves


@router.get("/console/convenings/{convening_id}")
async def prepare(request: Request, convening_id: int, session: SessionDep) -> Response:
    """The preparation console: details, ground rules, groups, seats, invitations, agenda and
    who is missing from the table."""
    convener = await current_convener(request, session)
    if convener is None:
        return sign_in_redirect(request)
    try:
        access = await page_access(request, session, convening_id, Action.prepare)
    except PageRefused as refused:
        return refused.response
    convening = access.convening
    groups = await service.list_groups(session, convening_id)
    seats = await service.list_seats(session, convening_id)
    invitation_rows = await invitations.list_invitations(session, convening_id, _settings(request))
    items = await agenda_service.list_items(session, convening_id)
    agenda = agenda_service.summarize(convening, items)
    used_presets = {g.preset for g in groups if g.preset}
    moves = [
        LIFECYCLE[(convening.status, to)]
        for to in service.TRANSITIONS[convening.status]
        if (convening.status, to) in LIFECYCLE
    ]
    context = {
        "convening": convening,
        "ground_rules_text": service.ground_rules_text(
            convening, page_language(request, convening)
        ),
        "moves": moves,
        "groups": groups,
        "group_names": {g.id: g.name for g in groups},
        "free_presets": {
            preset.value: label
            for preset, label in PRESET_LABELS.items()
            if preset.value not in used_presets
        },
        "seats": seats,
        "role_labels": ROLE_LABELS,
        "attendance_labels": ATTENDANCE_LABELS,
        "invitations": invitation_rows,
        "invitation_labels": INVITATION_LABELS,
        "agenda": agenda,
        "agenda_moves": _orders([item.id for item in agenda.items]),
        "agenda_editable": convening.status == ConveningStatus.draft,
        "kinds": list(ItemKind),
        "inclusion": await service.inclusion(session, convening_id),
        "csv_columns": CSV_COLUMNS,
        "preparing": convening.status in service.PREPARING,
        **_choices(),
    }
    return render(request, "console/convening.html", context, convener=convener)


# Seats ----------------------------------------------------------------------------------

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/join/{token}", dependencies=[Depends(RateLimited("invitation"))])
async def join(request: Request, token: str, session: SessionDep) -> Response:
    """The invitation landing page: who the link seats, the ground rules, and "Take my seat"."""
    convener = await current_convener(request, session)
    try:
        found = await invitations.find(session, token)
    except DomainError:
        return error_page(
            request,
            status.HTTP_404_NOT_FOUND,
            N_("This invitation link is not valid."),
            hint=N_(
                "Check that the whole link was copied, or ask the convener to reissue your link."
            ),
            convener=convener,
        )
    cookie = request.cookies.get(seat_cookie_name(found.convening.id))  # type: ignore[arg-type]
    landing = await invitations.landing(session, token, cookie)
    status_code = status.HTTP_200_OK
    if landing.state == InvitationState.redeemed and not landing.bound_here:
        status_code = status.HTTP_409_CONFLICT
    elif landing.state in (InvitationState.revoked, InvitationState.expired):
        status_code = status.HTTP_410_GONE
    return render(
        request,
        "join/join.html",
        {
            "landing": landing,
            "token": token,
            "role_labels": ROLE_LABELS,
            "convening": found.convening,  # the page comes in the convening's language
        },
        status_code=status_code,
        convener=convener,
        headers=NO_STORE,
    )


async def _group(session: SessionDep, group_id: int | None) -> StakeholderGroup | None:
    return await session.get(StakeholderGroup, group_id) if group_id else None


ROOM_NOT_FOUND_HINT = N_(
    "If you hold a seat here, open your invitation link in this browser; "
    "if it no longer works, ask the convener to reissue your link."
)

CONSOLE_NOT_FOUND_HINT = N_(
    "If you are the convener, sign in first; if you hold the facilitator seat, open your "
    "invitation link in this browser."
)


def _live_context(access: Access) -> dict[str, Any]:
    """What every live page tells its script: who is looking, and the server's clock."""
    return {
        "convening": access.convening,
        "actor": access.actor,
        "seat": access.seat,
        "can_take_part": allows(access.actor, Action.take_part),
        "can_run_floor": allows(access.actor, Action.run_floor),
        "can_capture": allows(access.actor, Action.capture),
        "server_now": utcnow().isoformat(),
        "role_labels": ROLE_LABELS,
    }


@router.get("/convenings/{convening_id}/room")
async def room(request: Request, convening_id: int, session: SessionDep) -> Response:
    """The live room for every seat: the item and its timer, the floor, who is here, the
    agenda; participants ask for the floor from here."""
    try:
        access = await page_access(
            request, session, convening_id, Action.watch, not_found_hint=ROOM_NOT_FOUND_HINT
        )
    except PageRefused as refused:
        return refused.response
    convening: Convening = access.convening
    items = await agenda_service.list_items(session, convening_id)
    return render(
        request,
        "room/room.html",
        {
            **_live_context(access),
            "group": await _group(session, access.seat.group_id if access.seat else None),
            "ground_rules_text": service.ground_rules_text(
                convening, page_language(request, convening)
            ),
            "agenda": agenda_service.summarize(convening, items),
        },
        convener=access.convener,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/convenings/{convening_id}/facilitate")
async def facilitate(request: Request, convening_id: int, session: SessionDep) -> Response:
    """The facilitator's console: agenda and timers, the floor and its queue, tours de table,
    airtime, presence and attendance (for the convener and facilitator seats)."""
    try:
        access = await page_access(
            request, session, convening_id, Action.watch, not_found_hint=CONSOLE_NOT_FOUND_HINT
        )
    except PageRefused as refused:
        return refused.response
    if not allows(access.actor, Action.run_floor):
        return error_page(
            request,
            status.HTTP_403_FORBIDDEN,
            f"You are at this convening as a {access.actor.value}; "
            "this console is for its convener and facilitators.",
            hint=N_("The room is open to you."),
            convener=access.convener,
        )
    return render(
        request,
        "room/facilitate.html",
        {
            **_live_context(access),
            "queue_orders": QUEUE_ORDER_LABELS,
            "tour_orders": TOUR_ORDER_LABELS,
        },
        convener=access.convener,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/convenings/{convening_id}/display")
async def display(request: Request, convening_id: int, session: SessionDep) -> Response:
    """The room display for a projector: the item, a big timer, who speaks and who is next."""
    try:
        access = await page_access(
            request, session, convening_id, Action.watch, not_found_hint=ROOM_NOT_FOUND_HINT
        )
    except PageRefused as refused:
        return refused.response
    return render(
        request,
        "room/display.html",
        _live_context(access),
        convener=access.convener,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/convenings/{convening_id}/desk")
async def desk(request: Request, convening_id: int, session: SessionDep) -> Response:
    """The rapporteur's desk: capture the points made, for their seats, from the keyboard, and
    park issues (for the convener, facilitators and rapporteurs)."""
    try:
        access = await page_access(
            request, session, convening_id, Action.capture, not_found_hint=ROOM_NOT_FOUND_HINT
        )
    except PageRefused as refused:
        return refused.response
    return render(
        request,
        "record/desk.html",
        _live_context(access),
        convener=access.convener,
        headers={"Cache-Control": "no-store"},
    )


# Commitments ------------------------------------------------------------------------------

LIGHT_LABELS = {
    Light.green: (N_("Green"), N_("reported within the reporting period")),
    Light.yellow: (N_("Yellow"), N_("one reporting period without a report")),
    Light.red: (N_("Red"), N_("two reporting periods without a report")),
}
PROGRESS_LABELS = {
    ProgressStatus.on_track: N_("On track"),
    ProgressStatus.at_risk: N_("At risk"),
    ProgressStatus.off_track: N_("Off track"),
    ProgressStatus.done: N_("Done"),
}


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _day(value: str) -> date:
    """A due date; templates show it in words in the page's language (`| long_date`)."""
    return date.fromisoformat(value)


@router.get("/convenings/{convening_id}/commitments")
async def commitments(request: Request, convening_id: int, session: SessionDep) -> Response:
    """Every commitment with its owner, due date, indicator, organization, last report and
    traffic light (attribution applied by the service); the convener also gets each owner's
    progress link."""
    try:
        access = await page_access(
            request, session, convening_id, Action.watch, not_found_hint=ROOM_NOT_FOUND_HINT
        )
    except PageRefused as refused:
        return refused.response
    settings = _settings(request)
    is_convener = access.actor == Actor.convener
    rows = [
        {
            "view": view,
            "light": light,
            "due": _day(view["due_date"]),
            "reported_at": _instant((view["last_report"] or {}).get("at")),
            "link": commitments_service.progress_link(settings, commitment)
            if is_convener
            else None,
        }
        for commitment, view, light in await commitments_service.list_commitments(
            session, access.convening
        )
    ]
    return render(
        request,
        "record/commitments.html",
        {
            "convening": access.convening,
            "rows": rows,
            "is_convener": is_convener,
            "light_labels": LIGHT_LABELS,
            "progress_labels": PROGRESS_LABELS,
        },
        convener=access.convener,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/progress/{token}", dependencies=[Depends(RateLimited("progress-link"))])
async def progress(request: Request, token: str, session: SessionDep) -> Response:
    """The owner's progress-report page, opened by the commitment's link: the commitment, its
    light, the past reports and a form for the next one."""
    convener = await current_convener(request, session)
    try:
        page = await commitments_service.commitment_page(session, token)
    except DomainError:
        return error_page(
            request,
            status.HTTP_404_NOT_FOUND,
            N_("This progress link is not valid."),
            hint=N_("Check that the whole link was copied, or ask the convener for it again."),
            convener=convener,
        )
    convening = await session.get(Convening, page["convening"]["id"])
    assert convening is not None
    return render(
        request,
        "record/progress.html",
        {
            "page": page,
            "token": token,
            "convening": convening,  # the page comes in the convening's language
            "time_zone": convening.time_zone,
            "due": _day(page["commitment"]["due_date"]),
            "reports": [{**r, "at": _instant(r["at"])} for r in reversed(page["reports"])],
            "light_labels": LIGHT_LABELS,
            "progress_labels": PROGRESS_LABELS,
        },
        convener=convener,
        headers=NO_STORE,
    )
