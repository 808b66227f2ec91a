"""JSON API for convenings, stakeholder groups, seats, invitations and the inclusion view."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, UploadFile, status

from app.agenda import service as agenda_service
from app.authz import Prepare, PublishReport, RunFloor, SignedIn, Watch, seat_cookie_name
from app.config import Settings
from app.convenings import invitations, service
from app.convenings.models import Convening, ConveningStatus
from app.convenings.schemas import (
    PRESET_LABELS,
    ConveningCreate,
    ConveningRead,
    ConveningUpdate,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    ImportResult,
    Inclusion,
    InvitationRead,
    Redeem,
    SeatCreate,
    SeatLanding,
    SeatRead,
    SeatUpdate,
)
from app.convenings.seat_import import ImportRejected, import_seats
from app.db import SessionDep
from app.errors import refusals
from app.live import service as live_service
from app.notify import service as notify
from app.ratelimit import RateLimited

router = APIRouter(prefix="/api", tags=["convenings"])
SEAT_COOKIE_DAYS = 90


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def convening_read(convening: Convening) -> ConveningRead:
    """A convening as the API shows it, with the full ground rules text."""
    return ConveningRead.model_validate(
        {**convening.model_dump(), "ground_rules_text": service.ground_rules_text(convening)}
    )


@router.get("/group-presets")
async def group_presets() -> dict[str, str]:
    """The stakeholder groups the field commonly seats, by preset key."""
    return {preset.value: label for preset, label in PRESET_LABELS.items()}


@router.get("/convenings", response_model=list[ConveningRead], responses=refusals(401))
async def list_convenings(convener: SignedIn, session: SessionDep) -> list[ConveningRead]:
    """The convenings the signed-in convener owns."""
    return [convening_read(c) for c in await service.list_convenings(session, convener)]


@router.post(
    "/convenings",
    response_model=ConveningRead,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(401),
)
async def create_convening(
    data: ConveningCreate, convener: SignedIn, session: SessionDep
) -> ConveningRead:
    """Create a draft convening."""
    return convening_read(await service.create_convening(session, convener, data))


@router.get(
    "/convenings/{convening_id}",
    response_model=ConveningRead,
    responses=refusals(403, 404),
)
async def read_convening(access: Watch) -> ConveningRead:
    """A convening's details and ground rules."""
    return convening_read(access.convening)


@router.patch(
    "/convenings/{convening_id}",
    response_model=ConveningRead,
    responses=refusals(403, 404, 409),
)
async def update_convening(
    data: ConveningUpdate, access: Prepare, session: SessionDep
) -> ConveningRead:
    """Change a convening's details."""
    return convening_read(await service.update_convening(session, access, data))


@router.post(
    "/convenings/{convening_id}/schedule",
    response_model=ConveningRead,
    responses=refusals(403, 404, 409),
)
async def schedule(access: Prepare, session: SessionDep) -> ConveningRead:
    """draft → scheduled: the preparation is done and invitations can go out."""
    return convening_read(await service.transition(session, access, ConveningStatus.scheduled))


@router.post(
    "/convenings/{convening_id}/unschedule",
    response_model=ConveningRead,
    responses=refusals(403, 404, 409),
)
async def unschedule(access: Prepare, session: SessionDep) -> ConveningRead:
    """scheduled → draft: reopen the preparation (the agenda can be edited again)."""
    return convening_read(await service.transition(session, access, ConveningStatus.draft))


@router.post(
    "/convenings/{convening_id}/open",
    response_model=ConveningRead,
    responses=refusals(403, 404, 409),
)
async def open_convening(access: RunFloor, session: SessionDep, request: Request) -> ConveningRead:
    """scheduled → live; seats already connected to the room are marked present."""
    convening = await service.transition(session, access, ConveningStatus.live)
    for seat_id in request.app.state.hub.presence_of(convening.id):
        await live_service.mark_present(session, convening.id, seat_id)  # type: ignore[arg-type]
    return convening_read(convening)


@router.post(
    "/convenings/{convening_id}/close",
    response_model=ConveningRead,
    responses=refusals(403, 404, 409),
)
async def close_convening(access: RunFloor, session: SessionDep) -> ConveningRead:
    """live → closed (the open agenda item is completed)."""
    if access.convening.status == ConveningStatus.live:
        await agenda_service.finish_active_item(session, access)
    return convening_read(await service.transition(session, access, ConveningStatus.closed))


@router.post(
    "/convenings/{convening_id}/mark-reported",
    response_model=ConveningRead,
    responses=refusals(403, 404, 409),
)
async def mark_reported(access: PublishReport, session: SessionDep) -> ConveningRead:
    """closed → reported: the report-back has gone out."""
    return convening_read(await service.transition(session, access, ConveningStatus.reported))


# Groups ---------------------------------------------------------------------------------


@router.get(
    "/convenings/{convening_id}/groups",
    response_model=list[GroupRead],
    responses=refusals(403, 404),
)
async def list_groups(access: Watch, session: SessionDep) -> object:
    """The stakeholder groups at the table."""
    return await service.list_groups(session, access.convening.id)  # type: ignore[arg-type]


@router.post(
    "/convenings/{convening_id}/groups",
    response_model=GroupRead,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def add_group(data: GroupCreate, access: Prepare, session: SessionDep) -> object:
    """Add a stakeholder group from a preset or a custom name."""
    return await service.add_group(session, access, data)


@router.patch(
    "/convenings/{convening_id}/groups/{group_id}",
    response_model=GroupRead,
    responses=refusals(403, 404, 409),
)
async def update_group(
    group_id: int, data: GroupUpdate, access: Prepare, session: SessionDep
) -> object:
    """Rename a group or change its target number of seats."""
    return await service.update_group(session, access, group_id, data)


@router.delete(
    "/convenings/{convening_id}/groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=refusals(403, 404, 409),
)
async def remove_group(group_id: int, access: Prepare, session: SessionDep) -> None:
    """Remove a group nobody sits in."""
    await service.remove_group(session, access, group_id)


# Seats ----------------------------------------------------------------------------------


@router.get(
    "/convenings/{convening_id}/seats",
    response_model=list[SeatRead],
    responses=refusals(403, 404),
)
async def list_seats(access: Prepare, session: SessionDep) -> object:
    """Every seat with its holder's contact details (convener only)."""
    return await service.list_seats(session, access.convening.id)  # type: ignore[arg-type]


@router.post(
    "/convenings/{convening_id}/seats",
    response_model=SeatRead,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def add_seat(data: SeatCreate, access: Prepare, session: SessionDep) -> object:
    """Seat someone at the table."""
    return await service.add_seat(session, access, data)


@router.post(
    "/convenings/{convening_id}/seats/import",
    response_model=ImportResult,
    status_code=status.HTTP_201_CREATED,
    responses={
        **refusals(403, 404, 409),
        422: {"description": "Bad rows; nothing was imported."},
    },
)
async def import_seat_list(file: UploadFile, access: Prepare, session: SessionDep) -> ImportResult:
    """Import a CSV seat list (header: name, role, group, affiliation, email, speaks_for,
    attendance). If any row is bad nothing is imported and every bad row is reported."""
    data = await file.read(2_000_001)
    try:
        seats = await import_seats(session, access, data)
    except ImportRejected as rejected:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "loc": ["file", e.line] + ([e.field] if e.field else []),
                    "line": e.line,
                    "field": e.field,
                    "msg": e.reason,
                    "type": "csv_row",
                }
                for e in rejected.errors
            ],
        ) from None
    return ImportResult(
        imported=len(seats), seats=[SeatRead.model_validate(s, from_attributes=True) for s in seats]
    )


@router.patch(
    "/convenings/{convening_id}/seats/{seat_id}",
    response_model=SeatRead,
    responses=refusals(403, 404, 409),
)
async def update_seat(
    seat_id: int, data: SeatUpdate, access: Prepare, session: SessionDep
) -> object:
    """Change a seat's holder, role, group or attendance."""
    return await service.update_seat(session, access, seat_id, data)


@router.delete(
    "/convenings/{convening_id}/seats/{seat_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=refusals(403, 404, 409),
)
async def remove_seat(seat_id: int, access: Prepare, session: SessionDep) -> None:
    """Remove a seat (before the convening goes live)."""
    await service.remove_seat(session, access, seat_id)


@router.get(
    "/convenings/{convening_id}/inclusion",
    response_model=Inclusion,
    responses=refusals(403, 404),
)
async def read_inclusion(access: Prepare, session: SessionDep) -> Inclusion:
    """Who is and is not at the table: group targets, empty groups, absences, missing roles."""
    return await service.inclusion(session, access.convening.id)  # type: ignore[arg-type]


# Invitations ----------------------------------------------------------------------------


@router.get(
    "/convenings/{convening_id}/invitations",
    response_model=list[InvitationRead],
    responses=refusals(403, 404),
)
async def list_invitations(
    access: Prepare, session: SessionDep, settings: SettingsDep
) -> list[InvitationRead]:
    """Each seat's invitation: state, link while redeemable, email delivery state."""
    return await invitations.list_invitations(session, access.convening.id, settings)  # type: ignore[arg-type]


async def _one(
    session: SessionDep, convening_id: int, seat_id: int, settings: Settings
) -> InvitationRead:
    rows = await invitations.list_invitations(session, convening_id, settings)
    return next(row for row in rows if row.seat_id == seat_id)


@router.post(
    "/convenings/{convening_id}/seats/{seat_id}/invitation",
    response_model=InvitationRead,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def issue_invitation(
    seat_id: int, access: Prepare, session: SessionDep, settings: SettingsDep
) -> InvitationRead:
    """Issue (or reissue) the seat's link; the previous link and any bound browser stop working."""
    await invitations.issue_invitation(session, access, seat_id, settings)
    return await _one(session, access.convening.id, seat_id, settings)  # type: ignore[arg-type]


@router.delete(
    "/convenings/{convening_id}/seats/{seat_id}/invitation",
    response_model=InvitationRead,
    responses=refusals(403, 404, 409),
)
async def revoke_invitation(
    seat_id: int, access: Prepare, session: SessionDep, settings: SettingsDep
) -> InvitationRead:
    """Revoke the seat's link and unbind the browser that redeemed it."""
    await invitations.revoke_invitation(session, access, seat_id)
    return await _one(session, access.convening.id, seat_id, settings)  # type: ignore[arg-type]


@router.post(
    "/convenings/{convening_id}/seats/{seat_id}/invitation/send",
    response_model=InvitationRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses=refusals(403, 404, 409),
)
async def send_invitation(
    seat_id: int, access: Prepare, session: SessionDep, settings: SettingsDep, request: Request
) -> InvitationRead:
    """Email the seat its link (issued now if it has none that still works)."""
    await notify.send_invitation(session, access, seat_id, settings)
    notify.wake_after_commit(session, request.app)
    return await _one(session, access.convening.id, seat_id, settings)  # type: ignore[arg-type]


@router.post(
    "/convenings/{convening_id}/invitations/send",
    response_model=list[InvitationRead],
    status_code=status.HTTP_202_ACCEPTED,
    responses=refusals(403, 404, 409),
)
async def send_all_invitations(
    access: Prepare, session: SessionDep, settings: SettingsDep, request: Request
) -> list[InvitationRead]:
    """Email every seat that has an email address and no link sent or redeemed yet."""
    await notify.send_pending_invitations(session, access, settings)
    notify.wake_after_commit(session, request.app)
    return await invitations.list_invitations(session, access.convening.id, settings)  # type: ignore[arg-type]


@router.get(
    "/invitations/{token}",
    dependencies=[Depends(RateLimited("invitation"))],
    response_model=SeatLanding,
    tags=["invitations"],
    responses=refusals(404, 410),
)
async def invitation_landing(token: str, request: Request, session: SessionDep) -> SeatLanding:
    """Who this link seats at the table, and the ground rules to accept."""
    found = await invitations.find(session, token)
    cookie = request.cookies.get(seat_cookie_name(found.convening.id))  # type: ignore[arg-type]
    return await invitations.landing(session, token, cookie)


@router.post(
    "/invitations/redeem",
    response_model=SeatLanding,
    tags=["invitations"],
    dependencies=[Depends(RateLimited("invitation"))],
    responses=refusals(404, 409, 410, 429),
)
async def redeem_invitation(
    data: Redeem, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> SeatLanding:
    """Take the seat: binds this browser to it (cookie). Refused if another browser holds it."""
    found = await invitations.find(session, data.token)
    name = seat_cookie_name(found.convening.id)  # type: ignore[arg-type]
    found, cookie = await invitations.redeem(
        session, data.token, data.accept_ground_rules, request.cookies.get(name)
    )
    if cookie is not None:
        response.set_cookie(
            name,
            cookie,
            max_age=SEAT_COOKIE_DAYS * 86400,
            httponly=True,
            samesite="lax",
            secure=settings.base_url.startswith("https://"),
        )
    landing = await invitations.landing(session, data.token, cookie or request.cookies.get(name))
    return landing.model_copy(update={"bound_here": True})
