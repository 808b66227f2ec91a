"""JSON API for the deliberation record: contributions, consensus checks, dissent, parking lot.

There is deliberately no route that edits or deletes a dissent: its author may only withdraw
it, which records a withdrawal beside it.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from app.attribution import Audience
from app.authz import Capture, Prepare, TableCheck, TakePart, Watch
from app.convenings.routes import SettingsDep
from app.db import SessionDep
from app.errors import refusals
from app.record import service
from app.record.audit import audit_log
from app.record.schemas import (
    AnswerCheck,
    CloseCheck,
    Contribute,
    LogDissent,
    Park,
    Resolve,
    WithdrawDissent,
)
from app.record.schemas import (
    Capture as CaptureBody,
)
from app.record.schemas import (
    TableCheck as TableCheckBody,
)
from app.record.views import outcome_view

router = APIRouter(prefix="/api/convenings/{convening_id}", tags=["record"])


def _created(kind: str, row: Any, access: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": kind, "seq": access.convening.last_seq}


@router.get("/record", responses=refusals(403, 404))
async def read_record(access: Watch, session: SessionDep) -> dict[str, Any]:
    """The whole record as the room sees it (attribution rule applied)."""
    return await service.room_record(session, access.convening)


@router.post(
    "/contributions",
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def contribute(data: Contribute, access: TakePart, session: SessionDep) -> dict[str, Any]:
    """Make a point on an agenda item."""
    row = await service.contribute(session, access, data.item_id, data.kind, data.text)
    return _created("contribution", row, access)


@router.post(
    "/contributions/captured",
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def capture(data: CaptureBody, access: Capture, session: SessionDep) -> dict[str, Any]:
    """Capture a point made by a seat (rapporteur, facilitator, convener)."""
    row = await service.capture(session, access, data.seat_id, data.item_id, data.kind, data.text)
    return _created("contribution", row, access)


@router.post("/checks", status_code=status.HTTP_201_CREATED, responses=refusals(403, 404, 409))
async def table_check(
    data: TableCheckBody, access: TableCheck, session: SessionDep
) -> dict[str, Any]:
    """Put a proposal to the room."""
    row = await service.table_check(
        session, access, data.item_id, data.proposal, data.contribution_id
    )
    return _created("check", row, access)


@router.put("/checks/{check_id}/answer", responses=refusals(403, 404, 409))
async def answer_check(
    check_id: int, data: AnswerCheck, access: TakePart, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Answer a consensus check (a reason is needed for reservations, stand aside, disagree,
    block); the answer may change while the check is open, except under the anonymous rule."""
    await service.answer_check(
        session, access, check_id, data.answer, data.reason, settings.secret_key
    )
    return {"check_id": check_id, "answer": data.answer, "seq": access.convening.last_seq}


@router.get("/checks/{check_id}/answer", responses=refusals(403, 404))
async def my_answer(
    check_id: int, access: TakePart, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Your own answer to a check (null if you have not answered)."""
    row = await service.my_answer(session, access, check_id, settings.secret_key)
    return {
        "check_id": check_id,
        "answer": row.answer if row else None,
        "reason": row.reason if row else "",
    }


@router.post("/checks/{check_id}/close", responses=refusals(403, 404, 409))
async def close_check(
    check_id: int, data: CloseCheck, access: TableCheck, session: SessionDep
) -> dict[str, Any]:
    """Close the check and record its outcome (statement, tally, consensus level)."""
    outcome = await service.close_check(session, access, check_id, data.statement, data.by_majority)
    return outcome_view(outcome)


@router.post("/dissents", status_code=status.HTTP_201_CREATED, responses=refusals(403, 404, 409))
async def log_dissent(
    data: LogDissent, access: TakePart, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """Log dissent against a proposal, an outcome, an agenda item or a contribution."""
    row = await service.log_dissent(
        session, access, data.target, data.target_id, data.reason, settings.secret_key
    )
    return _created("dissent", row, access)


@router.post(
    "/dissents/{dissent_id}/withdrawal",
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def withdraw_dissent(
    dissent_id: int,
    data: WithdrawDissent,
    access: TakePart,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Withdraw your own dissent; the original stays on the record beside the withdrawal."""
    row = await service.withdraw_dissent(
        session, access, dissent_id, data.reason, settings.secret_key
    )
    return _created("dissent_withdrawal", row, access)


@router.post("/parking", status_code=status.HTTP_201_CREATED, responses=refusals(403, 404, 409))
async def park(data: Park, access: Capture, session: SessionDep) -> dict[str, Any]:
    """Put an issue in the parking lot, with the seat that raised it."""
    row = await service.park(session, access, data.text, data.item_id, data.seat_id)
    return _created("parking", row, access)


@router.post("/parking/{parking_id}/resolution", responses=refusals(403, 404, 409))
async def resolve_parked(
    parking_id: int, data: Resolve, access: Capture, session: SessionDep
) -> dict[str, Any]:
    """Resolve a parked issue in the room."""
    row = await service.resolve_parked(session, access, parking_id, data.resolution)
    return _created("parking", row, access)


@router.get("/audit", responses=refusals(403, 404))
async def read_audit(
    access: Prepare,
    session: SessionDep,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    seat_id: int | None = None,
    item_id: int | None = None,
) -> list[dict[str, Any]]:
    """The full event log (who did what and when), filtered by kind prefix, seat or item."""
    return await audit_log(
        session, access.convening, Audience.room, kind=kind, seat_id=seat_id, item_id=item_id
    )


@router.get("/audit/export", responses=refusals(403, 404))
async def export_audit(access: Prepare, session: SessionDep) -> Response:
    """The event log as a JSON file, with the attribution rule applied for outside readers."""
    events = await audit_log(session, access.convening, Audience.outside)
    name = f"convening-{access.convening.id}-audit.json"
    body = json.dumps(
        {
            "convening": access.convening.title,
            "attribution": access.convening.attribution,
            "events": events,
        },
        indent=2,
        ensure_ascii=False,
    )
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
