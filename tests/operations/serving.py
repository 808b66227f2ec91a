"""Convene served as in production: `uvicorn app.main:create_app --factory` in a subprocess, on
its own migrated SQLite database, with its log written to a file the tests read. Plus a seat
taken through the HTTP API, for tests that need a real link token and a live room."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.config import ROOT

SECRET_KEY = "operations-test-secret-key-not-for-production"
EMAIL = "ops-convener@example.org"
PASSWORD = "operations-convener-password"
STARTUP_SECONDS = 30


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        """Every log line, parsed: each must be one JSON object."""
        return [json.loads(line) for line in self.output().splitlines() if line.strip()]

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM, as an orchestrator stops a process; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prepare(database_url: str) -> None:
    """Migrate the database and create the convener account (in this process: faster)."""
    from alembic import command

    from app.accounts.service import create_convener
    from app.config import Settings
    from app.db import commit, make_engine, make_sessionmaker
    from tests.conftest import alembic_config

    command.upgrade(alembic_config(database_url), "head")

    async def make_account() -> None:
        engine = make_engine(Settings(database_url=database_url, secret_key=SECRET_KEY))
        try:
            async with make_sessionmaker(engine)() as session:
                await create_convener(session, email=EMAIL, name="Ops", password=PASSWORD)
                await commit(session)
        finally:
            await engine.dispose()

    asyncio.run(make_account())


@contextlib.contextmanager
def served(folder: Path, *uvicorn_args: str, **settings: str) -> Iterator[Server]:
    """Run Convene in a subprocess until the block ends (then SIGTERM, unless already gone)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'convene.db'}",
        "ENVIRONMENT": "test",
        "SECRET_KEY": SECRET_KEY,
        "BASE_URL": url,
        "PORT": str(port),
        "SMTP_HOST": "",
        "BROKER_URL": "memory://",
        **{name.upper(): value for name, value in settings.items()},
    }
    _prepare(env["DATABASE_URL"])
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *uvicorn_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(url, process, log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"the server exited early:\n{server.output()}"
            assert time.monotonic() < deadline, f"no /healthz in time:\n{server.output()}"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Seat:
    convening_id: int
    token: str  # the invitation link's token
    browser: httpx.Client  # bound to the seat (its cookie)


def take_a_seat(server: Server) -> Seat:
    """Sign in, create a convening and a seat, issue its link, and take the seat with it."""
    with server.client() as convener:
        signed = convener.post("/api/auth/sign-in", json={"email": EMAIL, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        convening = convener.post(
            "/api/convenings",
            json={
                "title": "Operations roundtable",
                "purpose_type": "consensus_building",
                "attribution": "chatham_house",
                "time_zone": "Africa/Nairobi",
            },
        ).json()
        cid = convening["id"]
        seat = convener.post(
            f"/api/convenings/{cid}/seats",
            json={"holder_name": "Ana Lima", "role": "participant"},
        ).json()
        issued = convener.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation")
        assert issued.status_code == 201, issued.text
        token = issued.json()["link"].rsplit("/", 1)[1]
    browser = server.client()
    redeemed = browser.post(
        "/api/invitations/redeem", json={"token": token, "accept_ground_rules": True}
    )
    assert redeemed.status_code == 200, redeemed.text
    return Seat(cid, token, browser)


def cookie_header(browser: httpx.Client | httpx.AsyncClient) -> str:
    """The Cookie header a browser holding this cookie jar would send."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies.jar)


@contextlib.asynccontextmanager
async def serve_in_loop(app: Any) -> AsyncIterator[str]:
    """uvicorn in this event loop on an already started app; yields its http:// URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",  # the caller runs the lifespan
        ws="websockets-sansio",  # the legacy implementation warns, and warnings are errors
        log_level="warning",
        log_config=None,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            task.cancel()
