"""Two app processes share one database and a Redis broker: a change made through one
reaches a websocket client and a poller connected to the other."""

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from app.accounts.models import Convener
from app.config import ROOT, to_sync_url
from app.convenings.models import Convening
from tests.conftest import (
    BACKEND,
    CONVENING,
    PASSWORD,
    SECRET,
    alembic_config,
    drop_postgres,
    fresh_postgres,
)
from tests.live.helpers import WAIT, LiveServer, apply_all, free_port, recv, recv_event

REDIS_URL = "redis://127.0.0.1:6379/11"
EMAIL = "two-processes@example.org"


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated, with a convener account, for both processes."""
    name = f"convene_live_{os.getpid()}"
    postgres = BACKEND == "postgres"
    url = fresh_postgres(name) if postgres else f"sqlite:///{tmp_path / 'shared.db'}"
    try:
        command.upgrade(alembic_config(url), "head")
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "create-convener",
                "--email",
                EMAIL,
                "--name",
                "Two Processes",
                "--password",
                PASSWORD,
            ],
            cwd=ROOT,
            env=environment(url, "http://127.0.0.1"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        skip_ahead(url)
        yield url
    finally:
        if postgres:
            drop_postgres(name)


def environment(database_url: str, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
    env.update(
        DATABASE_URL=database_url,
        BROKER_URL=REDIS_URL,
        ENVIRONMENT="test",
        SECRET_KEY=SECRET,
        BASE_URL=base_url,
        SMTP_HOST="",
        PYTHONUNBUFFERED="1",
    )
    return env


def skip_ahead(database_url: str) -> None:
    """Start convening ids at a random number: Redis channels are named after convenings
    and shared by everything using this Redis server, other test runs included."""
    engine = create_engine(to_sync_url(database_url))
    start = random.randrange(10**6, 10**9)
    try:
        with Session(engine) as session:
            owner = session.exec(select(Convener).where(Convener.email == EMAIL)).one()
            placeholder = Convening(
                id=start,
                owner_id=owner.id,  # type: ignore[arg-type]
                title="Placeholder",
                purpose_type=CONVENING["purpose_type"],
                attribution=CONVENING["attribution"],
            )
            session.add(placeholder)
            session.commit()
            if engine.dialect.name == "postgresql":
                session.execute(
                    text("SELECT setval(pg_get_serial_sequence('convening', 'id'), :n)"),
                    {"n": start},
                )
                session.commit()
    finally:
        engine.dispose()


def _log_file(path: Path) -> IO[bytes]:
    return path.open("wb")


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


@asynccontextmanager
async def app_process(env: dict[str, str], port: int, log: Path) -> AsyncIterator[str]:
    """`uvicorn app.main:create_app --factory` on a port; stopped (or killed) on the way out."""
    with _log_file(log) as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            deadline = time.monotonic() + 30
            while True:
                assert process.returncode is None, _read(log)
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"the app process did not start: {_read(log)}"
                await asyncio.sleep(0.1)
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await asyncio.wait_for(process.wait(), 5)


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def test_a_change_through_one_process_reaches_clients_of_the_other(
    shared_database: str, tmp_path: Path
) -> None:
    port_a, port_b = free_port(), free_port()
    base_a = f"http://127.0.0.1:{port_a}"
    env = environment(shared_database, base_a)
    async with (
        app_process(env, port_a, tmp_path / "a.log"),
        app_process(
            environment(shared_database, f"http://127.0.0.1:{port_b}"), port_b, tmp_path / "b.log"
        ),
        httpx.AsyncClient(base_url=base_a) as convener,
        httpx.AsyncClient(base_url=base_a) as participant,
        httpx.AsyncClient(base_url=base_a) as observer,
    ):
        await ok(
            await convener.post("/api/auth/sign-in", json={"email": EMAIL, "password": PASSWORD})
        )
        convening = await ok(await convener.post("/api/convenings", json=CONVENING), 201)
        cid = convening["id"]
        assert cid > 10**6
        item = await ok(
            await convener.post(
                f"/api/convenings/{cid}/agenda", json={"kind": "discussion", "title": "One"}
            ),
            201,
        )
        seats = {}
        for role, browser in (("participant", participant), ("observer", observer)):
            seat = await ok(
                await convener.post(
                    f"/api/convenings/{cid}/seats", json={"role": role, "holder_name": role}
                ),
                201,
            )
            issued = await ok(
                await convener.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation"), 201
            )
            token = issued["link"].rsplit("/", 1)[1]
            await ok(
                await browser.post(
                    "/api/invitations/redeem", json={"token": token, "accept_ground_rules": True}
                )
            )
            seats[role] = seat
        await ok(await convener.post(f"/api/convenings/{cid}/schedule"))
        await ok(await convener.post(f"/api/convenings/{cid}/open"))
        await ok(await convener.post(f"/api/convenings/{cid}/agenda/{item['id']}/start"))

        on_b = LiveServer(port_b)
        async with on_b.connect(cid, observer) as ws:
            snapshot = await recv(ws)
            assert snapshot["type"] == "snapshot"
            start = snapshot["seq"]
            raised = await ok(
                await participant.post(f"/api/convenings/{cid}/floor/hand", json={}), 201
            )
            assert raised["seq"] == start + 1
            event = await recv_event(ws)
            assert event["seq"] == start + 1 and event["kind"] == "floor.hand_raised"
            assert event["data"]["seat_id"] == seats["participant"]["id"]
            state = apply_all(snapshot["state"], [event], start)

            # The poller on B sees it too, and a long poll on B wakes for a change on A.
            url_b = f"http://127.0.0.1:{port_b}/api/convenings/{cid}/events"
            polled = await ok(await observer.get(url_b, params={"since": start, "wait": 0}))
            assert [e["seq"] for e in polled["events"]] == [start + 1]
            assert polled["events"][0] == event
            waiting = asyncio.create_task(
                observer.get(url_b, params={"since": start + 1, "wait": 20})
            )
            await asyncio.sleep(0.3)  # the long poll is waiting on B
            began = time.monotonic()
            await ok(await convener.post(f"/api/convenings/{cid}/floor/next"))
            woke = await ok(await asyncio.wait_for(waiting, WAIT * 2))
            assert time.monotonic() - began < WAIT
            assert [e["kind"] for e in woke["events"]] == ["floor.speaker_called"]
            event = await recv_event(ws)
            assert event == woke["events"][0]
            state = apply_all(state, [event], start + 1)

            fresh = await ok(
                await convener.get(f"/api/convenings/{cid}/events", params={"wait": 0})
            )
            assert fresh["snapshot"]["seq"] == start + 2
            assert state == fresh["snapshot"]["state"]
