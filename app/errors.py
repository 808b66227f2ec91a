"""Domain errors raised by services; the app maps each to one HTTP status.

Also what the OpenAPI schema says about refusals (`refusals(...)`, for a route's
`responses=`), and the answer to input that got past validation but that a database cannot
store (an id beyond 64 bits on SQLite, a NUL character or an integer beyond 32 bits on
PostgreSQL, a lone surrogate anywhere): 422, never 500 (`unstorable_answer`).
"""

import re
from typing import Any

from pydantic import BaseModel, Field


class DomainError(Exception):
    """Base of the errors a service raises for a request it refuses."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The request is valid but the current state does not allow it."""

    status_code = 409


class Invalid(DomainError):
    """The input breaks a rule that needs the database to check (reported as 422)."""

    status_code = 422


class Gone(DomainError):
    status_code = 410


# What the API answers when it refuses -----------------------------------------------------


class Refusal(BaseModel):
    """A refused request: why, in plain words."""

    detail: str = Field(description="Why the request was refused.")


REFUSALS: dict[int, str] = {
    401: "Not signed in: sign in, or send a bearer token.",
    403: "The caller's role may not do this.",
    404: "No such convening for this caller (unknown and invisible look the same), or no such "
    "object in it.",
    409: "The current state does not allow this (for example, the convening is not live).",
    410: "The link expired or was revoked.",
    429: "Too many refused attempts from this network address: try again after Retry-After.",
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that may answer these refusals (`{"detail": "..."}`).

    Input that does not validate (422, with the field) is declared by FastAPI itself."""
    return {code: {"model": Refusal, "description": REFUSALS[code]} for code in codes}


# Input a database cannot store ------------------------------------------------------------

UNSTORABLE = (
    "a value in this request cannot be stored: a number out of range, or text with a "
    "character a database refuses"
)


def unstorable_answer() -> dict[str, Any]:
    """The 422 body for unstorable input, in FastAPI's validation shape."""
    return {"detail": [{"loc": ["request"], "msg": UNSTORABLE, "type": "value_error"}]}


# HTTP errors raised by the framework ------------------------------------------------------


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Any) -> list[str]:
    """The methods of the route this request's path names: by the API's schema (where a
    literal segment beats a parameter: `/agenda/order` is not the item `order`), else by
    the routes that match the path (pages)."""
    from starlette.routing import Match

    path = request.scope["path"]
    best: tuple[int, list[str]] | None = None
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            rank = template.count("{")
            if best is None or rank < best[0]:
                best = (rank, [m for m in METHODS if m.lower() in operations])
    if best is not None:
        return best[1]
    scope = request.scope
    return [
        method
        for method in METHODS
        if any(
            route.matches({**scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]


async def http_error(request: Any, error: Any) -> Any:
    """FastAPI's answer to an HTTPException, with two corrections. A body that cannot even be
    parsed (JSON that is not UTF-8 text or is nested thousands deep, broken multipart) is
    refused like any other malformed body: 422 with the reason at `body`, not a bare 400.
    A 405 lists in `Allow` every method the path has, not only one route's."""
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import JSONResponse
    from starlette.formparsers import MultiPartException

    cause = error.__cause__ or error.__context__
    if error.status_code == 400 and cause is not None:  # raised while reading the body
        if isinstance(cause, UnicodeDecodeError):
            unreadable = "the body is not JSON: it is not even UTF-8 text"
        elif isinstance(cause, RecursionError):
            unreadable = "the body is not JSON this API takes: it is nested too deeply"
        elif isinstance(cause, MultiPartException):
            unreadable = f"the body is not valid form data: {error.detail}"
        else:
            unreadable = "the body cannot be read"
        return JSONResponse(
            {"detail": [{"type": "body_invalid", "loc": ["body"], "msg": unreadable}]},
            status_code=422,
        )
    if error.status_code == 405:
        error.headers = {**(error.headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return await http_exception_handler(request, error)
