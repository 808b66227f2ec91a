"""HTML pages: the shared Jinja2 setup, page-level access checks and the pages router.

Pages are rendered on the server from the services and the permission table in `app.authz`;
every write goes through the JSON API (see frontend/static/js/forms.js). The pages of each
domain live in its own `pages.py`; `router` gathers them.
"""

from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Convener
from app.authz import Access, Action, allows, current_convener, refusal, resolve_access
from app.config import ROOT
from app.i18n import (
    LANGUAGES,
    N_,
    current,
    gettext,
    js_catalog,
    ngettext,
    normalize,
    use_language,
)

TEMPLATES = ROOT / "frontend" / "templates"

# Labels are marked with N_ and translated where shown: `{{ KIND_LABELS[k] | translate }}`.
KIND_LABELS = {
    "opening": N_("Opening"),
    "presentation": N_("Presentation"),
    "discussion": N_("Discussion"),
    "decision": N_("Decision"),
    "report_back": N_("Report-back"),
    "closing": N_("Closing"),
}

# A convening's status as shown on pages (lower case, as in a sentence).
STATUS_LABELS = {
    "draft": N_("draft"),
    "scheduled": N_("scheduled"),
    "live": N_("live"),
    "closed": N_("closed"),
    "reported": N_("reported"),
}

# An agenda item's status as the preparation page shows it.
ITEM_STATUS_LABELS = {"pending": N_("pending"), "active": N_("active"), "done": N_("done")}

# Dates in words, in the page's language (Babel's CLDR names for months and days).
_DATE_PATTERNS = {
    "en": ("d MMMM y", "EEEE d MMMM y, HH:mm"),
    "fr": ("d MMMM y", "EEEE d MMMM y, HH:mm"),
    "es": ("d 'de' MMMM 'de' y", "EEEE d 'de' MMMM 'de' y, HH:mm"),
}


def local_time(value: datetime | None, zone: str, pattern: str = "long") -> str:
    """An instant as wall-clock time in the convening's zone, in plain words, in the language
    of the page being rendered ("Thursday 5 March 2026, 09:07", "jeudi 5 mars 2026, 09:07")."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(zone))
    if pattern == "input":  # the value of an <input type="datetime-local">
        return local.strftime("%Y-%m-%dT%H:%M")
    if pattern == "time":
        return local.strftime("%H:%M")
    language = current()
    day_pattern, long_pattern = _DATE_PATTERNS.get(language, _DATE_PATTERNS["en"])
    chosen = day_pattern if pattern == "date" else long_pattern
    return format_datetime(local, chosen, locale=language)


def long_date(value: date | str | None) -> str:
    """A calendar date in words in the page's language ("5 March 2026", "5 de marzo de 2026")."""
    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    language = current()
    return format_date(day, _DATE_PATTERNS.get(language, _DATE_PATTERNS["en"])[0], locale=language)


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
    env.filters["long_date"] = long_date
    env.globals["KIND_LABELS"] = KIND_LABELS
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["status_labels"] = STATUS_LABELS
    env.globals["item_status_labels"] = ITEM_STATUS_LABELS
    # A label marked with N_ in the code, translated where it is shown.
    env.filters["translate"] = lambda text: gettext(str(text)) if text else text
    # The browser's strings in the page's language (base.html embeds them for i18n.js).
    env.globals["js_messages"] = lambda: js_catalog(current())
    # `{{ _("...") }}` in templates translates into the page's language (see `render`).
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
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
    """Render a page in its language; every template sees the signed-in convener (or None)
    and `lang`, the language it is rendered in."""
    context = context or {}
    with use_language(page_language(request, context.get("convening"))) as lang:
        return templates.TemplateResponse(
            request,
            name,
            {"convener": convener, "lang": lang, **context},
            status_code=status_code,
            headers=headers,
        )


LANGUAGE_COOKIE = "convene_lang"


def page_language(request: Request, convening: object = None) -> str:
    """The language a page is shown in: the person's own choice (a cookie set from the
    language menu) over the convening's language, over the browser's preference."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen and normalize(chosen) == chosen:
        return chosen
    language = getattr(convening, "language", None)
    if language is None and isinstance(convening, dict):
        language = convening.get("language")
    if language:
        return normalize(str(language))
    accepted = request.headers.get("accept-language", "")
    for part in accepted.split(","):
        code = normalize(part.split(";", 1)[0])
        if code != "en" or part.strip().lower().startswith("en"):
            return code
    return "en"


ERROR_TITLES = {
    status.HTTP_403_FORBIDDEN: N_("Not allowed"),
    status.HTTP_404_NOT_FOUND: N_("Not found"),
    status.HTTP_409_CONFLICT: N_("Already taken"),
    status.HTTP_410_GONE: N_("No longer valid"),
    status.HTTP_422_UNPROCESSABLE_CONTENT: N_("Not accepted"),
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
            "title": ERROR_TITLES.get(status_code, N_("Something went wrong")),
            "message": message,
            "hint": hint,
            "status_code": status_code,
        },
        status_code=status_code,
        convener=convener,
    )


def is_page_path(path: str) -> bool:
    """Whether an address is one of the HTML pages' (not the API, assets or API docs)."""
    return not path.startswith(("/api/", "/static/", "/docs", "/redoc", "/openapi.json")) and (
        path not in ("/healthz", "/readyz", "/metrics")
    )


async def not_found_page(request: Request) -> HTMLResponse:
    """The 404 page for an address no page has, in the visitor's language."""
    async with request.app.state.sessionmaker() as session:
        convener = await current_convener(request, session)
    return error_page(
        request,
        status.HTTP_404_NOT_FOUND,
        N_("There is no page at this address."),
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
                N_("There is no convening here, or it is not visible to you."),
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


language_router = APIRouter(include_in_schema=False)


@language_router.get("/language")
async def choose_language(request: Request, lang: str = "", next: str = "/") -> Response:
    """The language menu: remember this person's language in this browser and go back."""
    if lang not in LANGUAGES:
        return error_page(
            request,
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            N_("This language is not offered: choose English, Français or Español."),
        )
    response = RedirectResponse(safe_next(next, "/"), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax", path="/"
    )
    return response


@cache
def _pages_router() -> APIRouter:
    from app.accounts.pages import router as accounts_pages
    from app.convenings.pages import router as convenings_pages

    router = APIRouter(include_in_schema=False)
    router.include_router(accounts_pages)
    router.include_router(convenings_pages)
    router.include_router(language_router)
    return router


def __getattr__(name: str) -> Any:
    """`router`, every domain's pages, is assembled on first use: the domain page modules
    import the helpers above, so importing them here at module level would be circular."""
    if name == "router":
        return _pages_router()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
