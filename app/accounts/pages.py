"""HTML pages for accounts: the front door and the sign-in form."""

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from app.authz import current_convener
from app.db import SessionDep
from app.pages import render, safe_next

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, session: SessionDep) -> Response:
    """The console for a signed-in convener, the sign-in page for anyone else."""
    convener = await current_convener(request, session)
    target = "/console" if convener is not None else "/sign-in"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.get("/sign-in")
async def sign_in(request: Request, session: SessionDep, next: str | None = None) -> Response:
    """Email and password form; signed-in conveners go straight on."""
    target = safe_next(next)
    if await current_convener(request, session) is not None:
        return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    return render(request, "sign_in.html", {"next": target})
