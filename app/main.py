"""create_app(): routers, pages, static files, error handling and the lifespan."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.routes import router as accounts_router
from app.agenda.routes import router as agenda_router
from app.commitments.routes import router as commitments_router
from app.config import ROOT, Settings, get_settings
from app.convenings.routes import router as convenings_router
from app.csrf import CSRFMiddleware
from app.db import make_engine, make_sessionmaker
from app.errors import DomainError, Invalid, http_error, unstorable_answer
from app.floor.routes import router as floor_router
from app.health import router as health_router
from app.live.broker import make_broker
from app.live.hub import Hub
from app.live.routes import LiveRoom
from app.live.routes import router as live_router
from app.logs import configure_logging
from app.metrics import install as install_metrics
from app.metrics import router as metrics_router
from app.notify.outbox import OutboxWorker
from app.pages import is_page_path, not_found_page
from app.pages import router as pages_router
from app.ratelimit import install as install_rate_limits
from app.record.routes import router as record_router
from app.reports.pages import router as report_pages_router
from app.reports.reader_routes import public as public_report_router
from app.reports.reader_routes import router as readers_router
from app.reports.routes import router as reports_router
from app.security_headers import SecurityHeadersMiddleware


def plain_words(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error in FastAPI's shape, its message in plain words where pydantic's
    wording is technical."""
    kind, ctx = error.get("type"), error.get("ctx") or {}
    msg = error.get("msg", "")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        msg = "this cannot be empty"
    elif kind == "string_too_long":
        msg = f"this is too long: at most {ctx.get('max_length')} characters"
    elif kind == "missing":
        msg = "this is required"
    elif kind == "extra_forbidden":
        msg = "this field is not part of the request"
    # The input is not echoed back (it may be large, or not meant to travel further).
    kept = {k: v for k, v in error.items() if k not in ("input", "ctx", "url")}
    return jsonable_encoder({**kept, "msg": msg})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for these settings (read from the environment by default)."""
    settings = settings or get_settings()
    configure_logging(settings)
    engine = make_engine(settings)
    sessionmaker = make_sessionmaker(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.shutting_down = False
        await app.state.hub.start()
        if settings.smtp_host:
            app.state.outbox.start()
        try:
            yield
        finally:
            app.state.shutting_down = True  # /readyz answers 503 from now on
            await app.state.outbox.stop()
            await app.state.hub.stop()  # live clients are closed with 1012: reconnect
            await app.state.limiter.close()
            await engine.dispose()

    app = FastAPI(
        title="Convene",
        version="0.1.0",
        description="Facilitated multistakeholder convenings.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.outbox = OutboxWorker(sessionmaker, settings)
    app.state.hub = Hub(make_broker(settings.broker_url), sessionmaker)

    @app.exception_handler(StarletteHTTPException)
    async def http_exception(request: Request, error: StarletteHTTPException) -> Response:
        # A browser asking for a page that does not exist gets the product's 404 page.
        if error.status_code == 404 and is_page_path(request.url.path):
            return await not_found_page(request)
        return await http_error(request, error)  # type: ignore[no-any-return]

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        # A page address with a malformed id (/convenings/abc/room) names no page either.
        if is_page_path(request.url.path) and request.method in ("GET", "HEAD"):
            return await not_found_page(request)
        return JSONResponse(
            {"detail": [plain_words(e) for e in error.errors()]},
            status_code=422,
        )

    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, error: DomainError) -> JSONResponse:
        if isinstance(error, Invalid) and error.field:
            detail: object = [
                {"loc": ["body", error.field], "msg": error.message, "type": "value_error"}
            ]
        else:
            detail = error.message
        return JSONResponse({"detail": detail}, status_code=error.status_code)

    # The last line of defence: input that validation let through but a database refuses
    # (an id beyond 64 bits on SQLite; a NUL or an integer beyond 32 bits on PostgreSQL) is
    # the caller's error, not the server's. Nothing was written: the session rolled back.
    @app.exception_handler(OverflowError)
    @app.exception_handler(UnicodeEncodeError)
    @app.exception_handler(DataError)
    async def unstorable_input(request: Request, error: Exception) -> Response:
        logging.getLogger("convene.errors").warning(
            "input refused by the database on %s %s: %s",
            request.method,
            request.url.path,
            type(getattr(error, "orig", None) or error).__name__,
        )
        # A page address with an id no database holds (/convenings/99999999999/room) names
        # no page.
        if is_page_path(request.url.path) and request.method in ("GET", "HEAD"):
            return await not_found_page(request)
        return JSONResponse(unstorable_answer(), status_code=422)

    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(accounts_router)
    app.include_router(convenings_router)
    app.include_router(agenda_router)
    app.include_router(floor_router)
    app.include_router(live_router)
    app.include_router(record_router)
    app.include_router(commitments_router)
    app.include_router(reports_router)
    app.include_router(readers_router)
    app.include_router(public_report_router)
    app.include_router(pages_router)
    app.include_router(report_pages_router)
    # Pages and scripts reach weak connections compressed (websockets are not affected).
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(LiveRoom)  # the room's websocket, ahead of FastAPI's routing
    # Security and operations, innermost first: refused attempts counted against rate limits,
    # cross-site changes refused, security headers on every answer, every request measured.
    install_rate_limits(app, settings)
    app.add_middleware(CSRFMiddleware, base_url=settings.base_url)
    app.add_middleware(SecurityHeadersMiddleware, base_url=settings.base_url)
    install_metrics(app, app.state.hub)
    app.mount("/static", StaticFiles(directory=ROOT / "frontend" / "static"), name="static")
    return app
