"""create_app(): routers, pages, static files, error handling and the lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from app.accounts.routes import router as accounts_router
from app.agenda.routes import router as agenda_router
from app.commitments.routes import router as commitments_router
from app.config import ROOT, Settings, get_settings
from app.convenings.routes import router as convenings_router
from app.db import make_engine, make_sessionmaker
from app.errors import DomainError, Invalid
from app.floor.routes import router as floor_router
from app.live.broker import make_broker
from app.live.hub import Hub
from app.live.routes import router as live_router
from app.notify.outbox import OutboxWorker
from app.pages import router as pages_router
from app.record.routes import router as record_router
from app.reports.pages import router as report_pages_router
from app.reports.reader_routes import public as public_report_router
from app.reports.reader_routes import router as readers_router
from app.reports.routes import router as reports_router


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
    engine = make_engine(settings)
    sessionmaker = make_sessionmaker(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.hub.start()
        if settings.smtp_host:
            app.state.outbox.start()
        try:
            yield
        finally:
            await app.state.outbox.stop()
            await app.state.hub.stop()
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

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
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

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up and its database answers."""
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return {"status": "ok"}

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
    app.mount("/static", StaticFiles(directory=ROOT / "frontend" / "static"), name="static")
    return app
