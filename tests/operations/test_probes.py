"""/healthz: the process is up. /readyz: it can serve (database and broker answer); otherwise
503 with the reason, and 503 once it is shutting down."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import BASE_URL, make_settings

REDIS_URL = "redis://127.0.0.1:6379/11"
NOWHERE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
NOWHERE_DATABASE = "postgresql://postgres@127.0.0.1:1/convene"


@contextlib.asynccontextmanager
async def running(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app with these settings (none of these tests writes to the database)."""
    database_url = overrides.pop("database_url")
    app = create_app(make_settings(database_url, **overrides))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client,
    ):
        yield app, client


async def test_ready_when_the_database_and_the_broker_answer(database_url: str) -> None:
    for broker_url in ("memory://", REDIS_URL):
        async with running(database_url=database_url, broker_url=broker_url) as (_, client):
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
        assert ready.headers["cache-control"] == "no-store"


async def test_not_ready_without_the_broker(database_url: str) -> None:
    async with running(database_url=database_url, broker_url=NOWHERE_REDIS) as (_, client):
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["reason"].startswith("broker unreachable")
    assert body["checks"]["database"] == "ok"


async def test_not_ready_without_the_database(database_url: str) -> None:
    async with running(database_url=NOWHERE_DATABASE, broker_url=NOWHERE_REDIS) as (_, client):
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    reason = ready.json()["reason"]
    assert "database unreachable" in reason and "broker unreachable" in reason
    assert "127.0.0.1" not in reason  # where things are is for the log, not for the public


async def test_not_ready_while_shutting_down(database_url: str) -> None:
    async with running(database_url=database_url) as (app, client):
        assert (await client.get("/readyz")).status_code == 200
    # The lifespan has ended: the process is on its way out.
    assert app.state.shutting_down is True
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as late:
        ready = await late.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "reason": "shutting down"}
