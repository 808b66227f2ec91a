"""JSON API for the report-back: the draft (generate, read, edit), published versions (with
the diff from the previous one) and the exports of a published version.

There is deliberately no route that edits or deletes a published version.
"""

import asyncio
import json
from enum import StrEnum
from urllib.parse import urlparse

from fastapi import APIRouter, Request, Response, status

from app.authz import ACTOR_WORDS, Access, DraftReport, PublishReport, ReadReport
from app.convenings.routes import SettingsDep
from app.db import SessionDep
from app.errors import NotFound, refusals
from app.i18n import N_, _, use_language
from app.notify.service import wake_after_commit
from app.reports import exports, service
from app.reports.draft import esc
from app.reports.models import ReportDraft, ReportVersion
from app.reports.schemas import (
    DraftRead,
    DraftWrite,
    PublishOptions,
    VersionRead,
    VersionSummary,
)

router = APIRouter(prefix="/api/convenings/{convening_id}/report", tags=["report-back"])


class ExportFormat(StrEnum):
    html = "html"
    md = "md"
    pdf = "pdf"
    docx = "docx"
    json = "json"
    csv = "csv"
    ics = "ics"


class ParticipantFormat(StrEnum):
    html = "html"
    csv = "csv"
    json = "json"


MEDIA_TYPES = {
    ExportFormat.html: "text/html; charset=utf-8",
    ExportFormat.md: "text/markdown; charset=utf-8",
    ExportFormat.pdf: "application/pdf",
    ExportFormat.docx: ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ExportFormat.json: "application/json",
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.ics: "text/calendar; charset=utf-8",
}


def _draft_read(draft: ReportDraft) -> DraftRead:
    return DraftRead(
        markdown=draft.markdown,
        html=exports.render_html(draft.markdown),
        saved=True,
        edited=draft.edited,
        generated_at=draft.generated_at,
        updated_at=draft.updated_at,
    )


@router.get("/draft", response_model=DraftRead)
async def read_draft(access: DraftReport, session: SessionDep) -> DraftRead:
    """The draft with its sanitized HTML preview; generated from the record (not stored)
    while none has been generated or saved."""
    draft = await service.get_draft(session, access.convening.id)  # type: ignore[arg-type]
    if draft is not None:
        return _draft_read(draft)
    markdown = await service.generate_markdown(session, access)
    return DraftRead(
        markdown=markdown,
        html=exports.render_html(markdown),
        saved=False,
        edited=False,
        generated_at=None,
        updated_at=None,
    )


@router.post("/draft/generate", response_model=DraftRead)
async def generate_draft(access: DraftReport, session: SessionDep) -> DraftRead:
    """Regenerate the draft from the record (replaces any edits)."""
    return _draft_read(await service.generate_draft(session, access))


@router.put("/draft", response_model=DraftRead)
async def save_draft(data: DraftWrite, access: DraftReport, session: SessionDep) -> DraftRead:
    """Store the rapporteur's edited Markdown."""
    return _draft_read(await service.save_draft(session, access, data.markdown))


def _exports(access: Access, number: int) -> dict[str, str]:
    base = f"/api/convenings/{access.convening.id}/report/versions/{number}/export"
    return {fmt.value: f"{base}.{fmt.value}" for fmt in ExportFormat}


async def _version_read(session: SessionDep, access: Access, version: ReportVersion) -> VersionRead:
    previous = None
    if version.number > 1:
        previous = await service.get_version(
            session,
            access.convening.id,  # type: ignore[arg-type]
            version.number - 1,
        )
    return VersionRead(
        number=version.number,
        published_at=version.published_at,
        markdown=version.markdown,
        html=exports.render_html(version.markdown),
        previous=previous.number if previous else None,
        diff=service.diff(previous, version),
        exports=_exports(access, version.number),
        participants=(
            {
                fmt.value: f"/api/convenings/{access.convening.id}/report/versions/"
                f"{version.number}/participants.{fmt.value}"
                for fmt in ParticipantFormat
            }
            if "participant_list" in version.snapshot
            else {}
        ),
    )


@router.post("/versions", response_model=VersionRead, status_code=status.HTTP_201_CREATED)
async def publish(
    access: PublishReport,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    data: PublishOptions | None = None,
) -> VersionRead:
    """Publish the current draft as the next version; it never changes afterwards. Absent
    seats become readers, and every reader with an address is emailed their link. With
    `participant_list`, the list of those at the table is published beside it, for
    identification only (refused under the anonymous rule)."""
    options = data or PublishOptions()
    version = await service.publish(session, access, settings, options.participant_list)
    wake_after_commit(session, request.app)
    return await _version_read(session, access, version)


@router.get("/versions", response_model=list[VersionSummary])
async def list_versions(access: ReadReport, session: SessionDep) -> list[VersionSummary]:
    """The published versions, first to last."""
    return [
        VersionSummary(number=v.number, published_at=v.published_at)
        for v in await service.list_versions(session, access.convening.id)  # type: ignore[arg-type]
    ]


@router.get("/versions/{number}", response_model=VersionRead)
async def read_version(number: int, access: ReadReport, session: SessionDep) -> VersionRead:
    """One published version, with what changed from the previous one."""
    version = await service.get_version(session, access.convening.id, number)  # type: ignore[arg-type]
    return await _version_read(session, access, version)


@router.get("/versions/{number}/export.{fmt}")
async def export_version(
    number: int, fmt: ExportFormat, access: ReadReport, session: SessionDep, settings: SettingsDep
) -> Response:
    """A published version as a file: html, md, pdf, docx, json, csv (commitments) or ics
    (the agenda schedule)."""
    cid = access.convening.id
    version = await service.get_version(session, cid, number)  # type: ignore[arg-type]
    # The participant list, if published, is never part of the report's exports.
    snapshot = {k: v for k, v in version.snapshot.items() if k != "participant_list"}
    language = snapshot["convening"].get("language") or "en"
    with use_language(language):  # the export's own words in the version's language
        title = _("Report-back: {title} (version {number})").format(
            title=snapshot["convening"]["title"], number=version.number
        )
        footer = _("Version {number}, published {when} UTC.").format(
            number=version.number, when=f"{version.published_at:%Y-%m-%d %H:%M}"
        )
    body: bytes
    if fmt == ExportFormat.html:
        body = exports.standalone_page(version.markdown, title, footer, language).encode()
    elif fmt == ExportFormat.md:
        body = version.markdown.encode()
    elif fmt == ExportFormat.pdf:
        # All of it in a worker thread (Typst releases the GIL): the room goes on meanwhile.
        markdown = version.markdown
        body = await asyncio.to_thread(exports.pdf_bytes, markdown, title, footer, language)
    elif fmt == ExportFormat.docx:
        body = await asyncio.to_thread(exports.docx_bytes, version.markdown, title)
    elif fmt == ExportFormat.json:
        meta = {"number": version.number, "published_at": version.published_at.isoformat()}
        body = exports.json_bytes(meta, snapshot, version.markdown)
    elif fmt == ExportFormat.csv:
        body = exports.csv_bytes(snapshot)
    else:
        host = urlparse(settings.base_url).hostname or "convene"
        body = exports.ics_bytes(snapshot, version.published_at, host)
    name = f"report-back-{cid}-v{version.number}.{fmt.value}"
    return Response(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


PARTICIPANT_COLUMNS = (N_("Name"), N_("Affiliation"), N_("Stakeholder group"), N_("Role"))
PARTICIPANT_NOTE = N_(
    "For identification only: this list says who was at the table. It is not linked to any "
    "statement, answer or dissent in the report-back."
)


@router.get("/versions/{number}/participants.{fmt}", responses=refusals(403, 404))
async def participants(
    number: int, fmt: ParticipantFormat, access: ReadReport, session: SessionDep
) -> Response:
    """The participant list published beside a version, for identification only (404 if the
    version was published without one; never under the anonymous rule)."""
    cid = access.convening.id
    version = await service.get_version(session, cid, number)  # type: ignore[arg-type]
    rows = version.snapshot.get("participant_list")
    if rows is None:
        raise NotFound(f"version {number} was published without a participant list")
    convening = version.snapshot["convening"]
    language = convening.get("language") or "en"
    with use_language(language):
        note = _(PARTICIPANT_NOTE)
        heads = [_(h) for h in PARTICIPANT_COLUMNS]
        title = _("Participants: {title} (version {number})").format(
            title=convening["title"], number=version.number
        )
        roles = {r.value: _(w) for r, w in ACTOR_WORDS.items()}
    cells = [
        [r["name"], r["affiliation"], r["group"], roles.get(r["role"], r["role"])] for r in rows
    ]
    body: bytes
    if fmt == ParticipantFormat.json:
        keys = ("name", "affiliation", "group", "role")
        body = json.dumps(
            {"note": note, "participants": [dict(zip(keys, c, strict=True)) for c in cells]},
            ensure_ascii=False,
            indent=2,
        ).encode()
        media = "application/json"
    elif fmt == ParticipantFormat.csv:
        body = exports.table_csv(heads, cells)
        media = "text/csv; charset=utf-8"
    else:
        lines = [f"# {esc(title)}", "", esc(note), "", "| " + " | ".join(heads) + " |"]
        lines.append("|---" * len(heads) + "|")
        lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in cells]
        body = exports.standalone_page("\n".join(lines) + "\n", title, note, language).encode()
        media = "text/html; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": (
                f'attachment; filename="participants-{cid}-v{version.number}.{fmt.value}"'
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )
