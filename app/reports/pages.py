"""HTML pages of the report-back: the reader's link, the reader page, the rapporteur's
editor, the convener's publishing and reach view, and the public page.

Pages are rendered on the server from the services (the version's HTML is the API's own,
sanitized by nh3); writes go through the JSON API (frontend/static/js/report-*.js); the
convener's reach view updates from the websocket, the reader page by asking again."""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response

from app.authz import Access, Action, Actor, allows, current_convener, reader_cookie_name
from app.config import Settings
from app.convenings import service as convenings_service
from app.db import SessionDep, utcnow
from app.errors import DomainError
from app.i18n import N_, gettext, use_language
from app.pages import PageRefused, error_page, page_access, page_language, render
from app.ratelimit import RateLimited
from app.record.models import ConsensusLevel
from app.reports import readers, service
from app.reports.models import Position, ReaderSource, ReportVersion
from app.reports.reader_routes import _reader_rows, list_answers, my_report
from app.reports.routes import ExportFormat, _version_read, read_draft
from app.reports.schemas import VersionRead

router = APIRouter(include_in_schema=False)

# Token pages carry a secret in their URL: never cached, never sent on as a referrer.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
PRIVATE = {"Cache-Control": "no-store"}

# Labels and messages are marked with N_ and translated where they are shown, in the page's
# language (`_labels`, `_export_links`; error pages translate their message and hint).
INVALID_READER_LINK = N_(
    "This report-back link is not valid: it may have been replaced or revoked. "
    "Ask the convener for a new one."
)
INVALID_PUBLIC_LINK = N_(
    "This public link to the report-back is not valid: it may have been switched off or "
    "replaced. Ask the convener for the report-back."
)
READER_NOT_FOUND_HINT = N_(
    "If you were sent a link to the report-back, open it again in this browser; if it no "
    "longer works, ask the convener for a new one."
)

# Export formats in the order a reader looks for them, in plain words.
EXPORT_LABELS: dict[ExportFormat, tuple[str, str]] = {
    ExportFormat.pdf: ("PDF", N_("to print or keep")),
    ExportFormat.docx: (N_("Word document (DOCX)"), N_("to edit or quote")),
    ExportFormat.md: ("Markdown", N_("plain text")),
    ExportFormat.html: (N_("Web page (HTML)"), N_("to read offline")),
    ExportFormat.json: (N_("Data (JSON)"), N_("the record, for tools")),
    ExportFormat.csv: (N_("Commitments (CSV spreadsheet)"), N_("who committed to what, by when")),
    ExportFormat.ics: (N_("Agenda (ICS calendar)"), N_("the schedule, for a calendar")),
}
POSITION_LABELS = {
    Position.agree: N_("I agree"),
    Position.concern: N_("I have a concern"),
    Position.disagree: N_("I disagree"),
}
POSITION_WORDS = {
    Position.agree: N_("Agrees"),
    Position.concern: N_("Has a concern"),
    Position.disagree: N_("Disagrees"),
}
LEVEL_LABELS = {
    ConsensusLevel.consensus: N_("Consensus"),
    ConsensusLevel.consensus_with_reservations: N_("Consensus with reservations"),
    ConsensusLevel.no_consensus: N_("No consensus"),
    ConsensusLevel.majority_decision: N_("Decision by majority"),
}
SOURCE_LABELS = {
    ReaderSource.absent_seat: N_("Absent seat"),
    ReaderSource.added: N_("Added by email"),
}
STATE_LABELS = {"active": N_("Link works"), "revoked": N_("Revoked"), "expired": N_("Expired")}
DELIVERY_LABELS = {
    "queued": N_("Waiting to send"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "retrying": N_("Retrying"),
    "cancelled": N_("Cancelled"),
}


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _translated(labels: dict[Any, str]) -> dict[str, str]:
    """Labels keyed by value, in the current language (see `_labels`)."""
    return {str(getattr(k, "value", k)): gettext(v) for k, v in labels.items()}


def _labels() -> dict[str, Any]:
    """Labels every report-back page may use (the scripts get the same ones), in the current
    language: call it inside `use_language(page_language(...))`."""
    return {
        "export_labels": {
            fmt.value: (gettext(label), gettext(why)) for fmt, (label, why) in EXPORT_LABELS.items()
        },
        "position_labels": _translated(POSITION_LABELS),
        "position_words": _translated(POSITION_WORDS),
        "level_labels": _translated(LEVEL_LABELS),
    }


# The reader's link ------------------------------------------------------------------------


@router.get("/read/{token}", dependencies=[Depends(RateLimited("reader-link"))])
async def read_link(request: Request, token: str, session: SessionDep) -> Response:
    """A reader's personal link: keeps the token in this browser (an HttpOnly cookie for
    this convening, until the link expires) and goes on to the report-back page."""
    try:
        reader = await readers.open_link(session, token)
    except DomainError:
        refused = error_page(
            request,
            status.HTTP_404_NOT_FOUND,
            INVALID_READER_LINK,
            convener=await current_convener(request, session),
        )
        refused.headers.update(NO_STORE)
        return refused
    cid = reader.convening_id
    response = RedirectResponse(
        f"/convenings/{cid}/report", status.HTTP_303_SEE_OTHER, headers=NO_STORE
    )
    response.set_cookie(
        reader_cookie_name(cid),
        token,
        max_age=max(0, int((reader.expires_at - utcnow()).total_seconds())),
        path="/",
        secure=_settings(request).base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


# The reader page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A version as the reader page shows it: what the API returns, with its label."""

    read: VersionRead
    latest: int  # the latest version's number
    exports: list[tuple[str, str, str]]  # (URL, label, what for), in the reader's order

    @property
    def is_latest(self) -> bool:
        return self.read.number == self.latest


TABLE_SCROLL = '<div class="table-scroll" tabindex="0">'


def scrollable_tables(html: str) -> str:
    """The version's sanitized HTML with each table in a box that scrolls sideways (and can be
    scrolled from the keyboard), so a wide table never widens the page on a phone. nh3 writes
    bare `<table>` tags, so the box is added around exactly those."""
    return html.replace("<table>", TABLE_SCROLL + "<table>").replace("</table>", "</table></div>")


def _export_links(urls: dict[str, str]) -> list[tuple[str, str, str]]:
    """The exports with their labels, in the current language (see `_labels`)."""
    return [
        (urls[fmt.value], gettext(label), gettext(why))
        for fmt, (label, why) in EXPORT_LABELS.items()
    ]


@router.get("/convenings/{convening_id}/report")
async def report(
    request: Request, convening_id: int, session: SessionDep, version: int | None = None
) -> Response:
    """The report-back for everyone who may read it: the latest published version (or an
    earlier one, `?version=N`), its exports and the earlier versions. A reader also finds
    here the read receipt, a position on each outcome, responses to sections, and their own
    answers with the convener's replies."""
    try:
        access = await page_access(
            request, session, convening_id, Action.read_report, not_found_hint=READER_NOT_FOUND_HINT
        )
    except PageRefused as refused:
        return refused.response
    versions = await service.list_versions(session, convening_id)
    chosen: ReportVersion | None = versions[-1] if versions else None
    if version is not None:
        chosen = next((v for v in versions if v.number == version), None)
        if chosen is None:
            with use_language(page_language(request)):  # as the error page is rendered
                missing = gettext("There is no version {number} of this report-back.")
            return error_page(
                request,
                status.HTTP_404_NOT_FOUND,
                missing.format(number=version),
                hint=N_("The page without a version number shows the latest one."),
                convener=access.convener,
            )
    language = page_language(request, access.convening)
    shown = None
    if chosen is not None:
        read = await _version_read(session, access, chosen)
        read.html = scrollable_tables(read.html)
        with use_language(language):
            shown = Shown(read, versions[-1].number, _export_links(read.exports))
    with use_language(language):
        labels = _labels()
    if access.reader is not None:
        await readers.mark_read(session, access)
    mine = await my_report(session, access)
    return render(
        request,
        "report/read.html",
        {
            "convening": access.convening,
            "actor": access.actor,
            "is_reader": access.reader is not None,
            "can_draft": allows(access.actor, Action.draft_report),
            "can_manage": allows(access.actor, Action.manage_readers),
            "shown": shown,
            "versions": versions,
            "mine": mine,
            **labels,
        },
        convener=access.convener,
        headers=PRIVATE,
    )


# The rapporteur's editor ----------------------------------------------------------------


@router.get("/convenings/{convening_id}/report/edit")
async def edit(request: Request, convening_id: int, session: SessionDep) -> Response:
    """The draft in Markdown with its sanitized preview: regenerate it from the record, edit
    and save it; the convener publishes it from here as the next version."""
    try:
        access = await page_access(request, session, convening_id, Action.draft_report)
    except PageRefused as refused:
        return refused.response
    draft = await read_draft(access, session)
    draft.html = scrollable_tables(draft.html)
    versions = await service.list_versions(session, convening_id)
    return render(
        request,
        "report/edit.html",
        {
            "convening": access.convening,
            "draft": draft,
            "next_number": (versions[-1].number if versions else 0) + 1,
            "can_publish": allows(access.actor, Action.publish_report),
            "can_manage": allows(access.actor, Action.manage_readers),
        },
        convener=access.convener,
        headers=PRIVATE,
    )


# The convener's publishing and reach view -----------------------------------------------


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, text) lines: `file`, `hunk`, `add`, `del` or `same`; the
    leading marker is kept out of the text (the page shows it in words)."""
    lines: list[tuple[str, str]] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            lines.append(("file", line))
        elif line.startswith("@@"):
            lines.append(("hunk", line))
        elif line.startswith("+"):
            lines.append(("add", line[1:]))
        elif line.startswith("-"):
            lines.append(("del", line[1:]))
        else:
            lines.append(("same", line[1:] if line.startswith(" ") else line))
    return lines


@router.get("/convenings/{convening_id}/report/manage")
async def manage(request: Request, convening_id: int, session: SessionDep) -> Response:
    """Publishing and reach: publish the draft, the published versions with what changed,
    the readers and their links, the public link, the reach by stakeholder group, and the
    readers' answers with a reply form under each; the reach and the answers update live."""
    try:
        access = await page_access(request, session, convening_id, Action.manage_readers)
    except PageRefused as refused:
        return refused.response
    settings = _settings(request)
    published: list[dict[str, Any]] = []
    for version in reversed(await service.list_versions(session, convening_id)):
        read = await _version_read(session, access, version)
        published.append({"read": read, "diff": diff_lines(read.diff)})
    groups = await convenings_service.list_groups(session, convening_id)
    link = await readers.current_public_link(session, convening_id)
    draft = await service.get_draft(session, convening_id)
    with use_language(page_language(request, access.convening)):
        labels = {
            "source_labels": _translated(SOURCE_LABELS),
            "state_labels": _translated(STATE_LABELS),
            "delivery_labels": _translated(DELIVERY_LABELS),
            **_labels(),
        }
    return render(
        request,
        "report/manage.html",
        {
            "convening": access.convening,
            "seq": access.convening.last_seq,
            "server_now": utcnow().isoformat(),
            "published": published,
            "next_number": len(published) + 1,
            "draft": draft,
            "groups": groups,
            "group_names": {str(g.id): g.name for g in groups},
            "readers": await _reader_rows(session, access, settings),
            "reach": await readers.reach(session, convening_id),
            "answers": await list_answers(access, session),
            "public_link": readers.public_url(settings, link) if link else None,
            **labels,
        },
        convener=access.convener,
        headers=PRIVATE,
    )


# The public page --------------------------------------------------------------------------


@router.get("/public/report/{token}", dependencies=[Depends(RateLimited("reader-link"))])
async def public(request: Request, token: str, session: SessionDep) -> Response:
    """The report-back for anyone with its public link (while the convener keeps it on): the
    latest version and its exports; nothing to answer."""
    convener = await current_convener(request, session)
    try:
        access: Access = await readers.public_access(session, token)
    except DomainError:
        refused = error_page(
            request, status.HTTP_404_NOT_FOUND, INVALID_PUBLIC_LINK, convener=convener
        )
        refused.headers.update(NO_STORE)
        return refused
    assert access.actor == Actor.public and access.convening.id is not None
    version = await readers.latest_version(session, access.convening.id)
    shown = None
    if version is not None:
        read = await _version_read(session, access, version)
        read.html = scrollable_tables(read.html)
        base = f"/api/public/report/{token}/versions/{version.number}/export"
        urls = {fmt.value: f"{base}.{fmt.value}" for fmt in ExportFormat}
        with use_language(page_language(request, access.convening)):
            shown = Shown(read, version.number, _export_links(urls))
    return render(
        request,
        "report/public.html",
        {"convening": access.convening, "shown": shown},
        convener=convener,
        headers=NO_STORE,
    )
