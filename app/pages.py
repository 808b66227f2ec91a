"""HTML pages: the shared Jinja2 setup, page-level access checks and the pages router.

Pages are rendered on the server from the services and the permission table in `app.authz`;
every write goes through the JSON API (see frontend/static/js/forms.js). The pages of each
domain live in its own `pages.py`; `router` gathers them.
"""

from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Convener
from app.authz import Access, Action, allows, current_convener, refusal, resolve_access
from app.config import ROOT

TEMPLATES = ROOT / "frontend" / "templates"

KIND_LABELS = {
    "opening": "Opening",
    "presentation": "Presentation",
    "discussion": "Discussion",
    "decision": "Decision",
    "report_back": "Report-back",
    "closing": "Closing",
}


def local_time(value: datetime | None, zone: str, pattern: str = "long") -> str:
    """An instant as wall-clock time in the convening's zone, in plain words."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone))
    if pattern == "input":  # the value of an <input type="datetime-local">
        return local.strftime("%Y-%m-%dT%H:%M")
    if pattern == "time":
        return local.strftime("%H:%M")
    if pattern == "date":
        return f"{local.day} {local:%B %Y}"
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"


def humanize(value: object) -> str:
    """An enum value as words: `chatham_house` → `chatham house`."""
    return str(getattr(value, "value", value)).replace("_", " ")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    env.filters["humanize"] = humanize
    env.globals["KIND_LABELS"] = KIND_LABELS
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    convener: Convener | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page; every template sees the signed-in convener (or None)."""
    return templates.TemplateResponse(
        request,
        name,
        {"convener": convener, **(context or {})},
        status_code=status_code,
        headers=headers,
    )


ERROR_TITLES = {
    status.HTTP_403_FORBIDDEN: "Not allowed",
    status.HTTP_404_NOT_FOUND: "Not found",
    status.HTTP_409_CONFLICT: "Already taken",
    status.HTTP_410_GONE: "No longer valid",
}


def error_page(
    request: Request,
    status_code: int,
    message: str,
    *,
    convener: Convener | None = None,
    hint: str = "",
) -> HTMLResponse:
    """A plain-words error page with the given status."""
    return render(
        request,
        "error.html",
        {
            "title": ERROR_TITLES.get(status_code, "Something went wrong"),
            "message": message,
            "hint": hint,
            "status_code": status_code,
        },
        status_code=status_code,
        convener=convener,
    )


def safe_next(target: str | None, default: str = "/console") -> str:
    """A local path to go to after signing in; anything else falls back to `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def sign_in_redirect(request: Request) -> RedirectResponse:
    """Send an anonymous visitor to the sign-in page, coming back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(here, safe='/')}", status.HTTP_303_SEE_OTHER)


class PageRefused(Exception):
    """A page cannot be shown to this caller; carries the response to send instead."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def page_access(
    request: Request,
    session: AsyncSession,
    convening_id: int,
    action: Action,
    *,
    not_found_hint: str = "",
) -> Access:
    """The permission table applied to a page: raises PageRefused with a 404 or 403 page."""
    try:
        access = await resolve_access(request, session, convening_id)
    except HTTPException:
        convener = await current_convener(request, session)
        raise PageRefused(
            error_page(
                request,
                status.HTTP_404_NOT_FOUND,
                "There is no convening here, or it is not visible to you.",
                convener=convener,
                hint=not_found_hint,
            )
        ) from None
    if not allows(access.actor, action):
        raise PageRefused(
            error_page(
                request,
                status.HTTP_403_FORBIDDEN,
                f"You are at this convening in the {access.actor.value} role. "
                + refusal(access.actor, action),
                convener=access.convener,
            )
        )
    return access


@cache
def _pages_router() -> APIRouter:
    from app.accounts.pages import router as accounts_pages
    from app.convenings.pages import router as convenings_pages

    router = APIRouter(include_in_schema=False)
    router.include_router(accounts_pages)
    router.include_router(convenings_pages)
    return router


def __getattr__(name: str) -> Any:
    """`router`, every domain's pages, is assembled on first use: the domain page modules
    import the helpers above, so importing them here at module level would be circular."""
    if name == "router":
        return _pages_router()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
