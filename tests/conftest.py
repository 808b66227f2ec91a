"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with CONVENE_TEST_DB=postgres),
the app on it, HTTP clients with their own cookie jars (one per "browser"), and helpers that
seat someone at the table."""

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from app.config import ROOT, Settings, to_sync_url
from app.main import create_app
from app.models import metadata

BACKEND = os.environ.get("CONVENE_TEST_DB", "sqlite")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_TEST_DB = f"convene_test_{os.getpid()}"  # one per test run, so runs never collide
SECRET = "test-secret-key-not-for-production"
BASE_URL = "http://testserver"
PASSWORD = "correct horse battery staple"


def alembic_config(url: str) -> Config:
    """An Alembic config pointed at `url`."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def fresh_postgres(name: str) -> str:
    """Drop and recreate a PostgreSQL database; returns its URL."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_postgres(name: str) -> None:
    """Drop a PostgreSQL database made by `fresh_postgres`."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database built by `alembic upgrade head`, for the whole test session."""
    if BACKEND == "postgres":
        url = fresh_postgres(PG_TEST_DB)
        command.upgrade(alembic_config(url), "head")
        yield url
        drop_postgres(PG_TEST_DB)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'convene.db'}"
        command.upgrade(alembic_config(url), "head")
        yield url


def _empty_tables(url: str) -> None:
    engine = create_engine(to_sync_url(url))
    names = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in names)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                connection.execute(text(f'DELETE FROM "{name}"'))
    engine.dispose()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test app on this database."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": SECRET,
        "base_url": BASE_URL,
        "smtp_host": "",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app, started, on an empty database (emptied again afterwards)."""
    application = create_app(settings)
    async with LifespanManager(application):
        yield application
    _empty_tables(settings.database_url)


Browser = Callable[[], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def new_browser(app: FastAPI) -> AsyncIterator[Browser]:
    """Factory of HTTP clients, each with its own cookie jar, like separate browsers."""
    clients: list[httpx.AsyncClient] = []

    async def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(new_browser: Browser) -> httpx.AsyncClient:
    """A browser with no identity."""
    return await new_browser()


async def create_convener_account(app: FastAPI, email: str, name: str = "A Convener") -> None:
    """Create a convener account directly through the service."""
    from app.accounts.service import create_convener
    from app.db import commit

    async with app.state.sessionmaker() as session:
        await create_convener(session, email=email, name=name, password=PASSWORD)
        await commit(session)


@pytest.fixture
async def convener(app: FastAPI, new_browser: Browser) -> httpx.AsyncClient:
    """A browser signed in as a convener account."""
    await create_convener_account(app, "convener@example.org")
    browser = await new_browser()
    response = await browser.post(
        "/api/auth/sign-in", json={"email": "convener@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return browser


CONVENING = {
    "title": "Roundtable on the river basin",
    "purpose": "Share water fairly in the dry season.",
    "purpose_type": "consensus_building",
    "attribution": "chatham_house",
    "language": "en",
    "time_zone": "Africa/Nairobi",
    "starts_at": "2030-03-02T09:00:00+03:00",
    "ends_at": "2030-03-02T13:00:00+03:00",
}


@pytest.fixture
async def convening(convener: httpx.AsyncClient) -> dict[str, Any]:
    """A draft convening owned by `convener`."""
    response = await convener.post("/api/convenings", json=CONVENING)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


SeatBrowser = Callable[..., Awaitable[tuple[httpx.AsyncClient, dict[str, Any]]]]


@pytest.fixture
def seated(convener: httpx.AsyncClient, new_browser: Browser) -> SeatBrowser:
    """Factory: seat someone in a convening and return (their browser, the seat)."""
    counter = iter(range(1, 10_000))

    async def seat(
        convening_id: int, role: str = "participant", **fields: Any
    ) -> tuple[httpx.AsyncClient, dict[str, Any]]:
        n = next(counter)
        body = {"role": role, "holder_name": f"Seat Holder {n}", **fields}
        response = await convener.post(f"/api/convenings/{convening_id}/seats", json=body)
        assert response.status_code == 201, response.text
        seat_row = response.json()
        issued = await convener.post(
            f"/api/convenings/{convening_id}/seats/{seat_row['id']}/invitation"
        )
        assert issued.status_code == 201, issued.text
        token = issued.json()["link"].rsplit("/", 1)[1]
        browser = await new_browser()
        redeemed = await browser.post(
            "/api/invitations/redeem", json={"token": token, "accept_ground_rules": True}
        )
        assert redeemed.status_code == 200, redeemed.text
        return browser, seat_row

    return seat
