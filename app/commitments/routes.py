"""JSON API for commitments and the owners' progress reports."""

from typing import Any

from fastapi import APIRouter, Depends, status

from app.authz import Actor, RecordCommitment, ReportProgress, Watch
from app.commitments import service
from app.commitments.schemas import CommitmentCreate, CommitmentRead, ProgressCreate
from app.convenings.routes import SettingsDep
from app.db import SessionDep
from app.errors import refusals
from app.ratelimit import RateLimited

router = APIRouter(tags=["commitments"])


@router.post(
    "/api/convenings/{convening_id}/commitments",
    response_model=CommitmentRead,
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def make_commitment(
    data: CommitmentCreate, access: RecordCommitment, session: SessionDep, settings: SettingsDep
) -> CommitmentRead:
    """Record a commitment (SMART: what, owner, due date, indicator, resources)."""
    commitment = await service.make_commitment(session, access, data, settings)
    rows = await service.list_commitments(session, access.convening)
    _, view, light = next(r for r in rows if r[0].id == commitment.id)
    return CommitmentRead(
        commitment=view, light=light, progress_link=service.progress_link(settings, commitment)
    )


@router.get(
    "/api/convenings/{convening_id}/commitments",
    response_model=list[CommitmentRead],
    responses=refusals(403, 404),
)
async def list_commitments(
    access: Watch, session: SessionDep, settings: SettingsDep
) -> list[CommitmentRead]:
    """Every commitment with its traffic light; the convener also gets the owners' links."""
    rows = await service.list_commitments(session, access.convening)
    convener = access.actor == Actor.convener
    return [
        CommitmentRead(
            commitment=view,
            light=light,
            progress_link=service.progress_link(settings, c) if convener else None,
        )
        for c, view, light in rows
    ]


@router.post(
    "/api/convenings/{convening_id}/commitments/{commitment_id}/progress",
    status_code=status.HTTP_201_CREATED,
    responses=refusals(403, 404, 409),
)
async def report_progress(
    commitment_id: int, data: ProgressCreate, access: ReportProgress, session: SessionDep
) -> dict[str, Any]:
    """Report progress on a commitment (the convener, or the seat that made it)."""
    report = await service.report_progress(session, access, commitment_id, data.status, data.text)
    return {"id": report.id, "status": report.status}


@router.get(
    "/api/progress/{token}",
    dependencies=[Depends(RateLimited("progress-link"))],
    responses=refusals(404),
)
async def progress_page(token: str, session: SessionDep) -> dict[str, Any]:
    """What the owner's progress link shows: the commitment, its light, past reports."""
    return await service.commitment_page(session, token)


@router.post(
    "/api/progress/{token}",
    dependencies=[Depends(RateLimited("progress-link"))],
    status_code=status.HTTP_201_CREATED,
    responses=refusals(404, 409),
)
async def report_by_link(token: str, data: ProgressCreate, session: SessionDep) -> dict[str, Any]:
    """Report progress through the owner's link."""
    report = await service.report_by_link(session, token, data.status, data.text)
    return {"id": report.id, "status": report.status}
