"""Browser fixtures: the real app served by uvicorn in a subprocess (on its own migrated SQLite
file, with one convener account), and Debian's Chromium driven by Playwright's sync API.

Every test gets `new_context`, a factory of isolated browser contexts (separate cookie jars,
like separate people's browsers) that fails the test if a page raises a JavaScript error.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from app.config import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CONVENER_EMAIL = "convener@e2e.convene.example"
CONVENER_NAME = "Esther Convener"
CONVENER_PASSWORD = "e2e-convener-password"
SECRET_KEY = "e2e-test-secret-key-not-for-production"
STARTUP_SECONDS = 30

expect.set_options(timeout=10_000)


@dataclass(frozen=True)
class LiveServer:
    """A running Convene, reachable at `url`, with one convener account."""

    url: str
    convener_email: str
    convener_password: str
    convener_name: str
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _convene(env: dict[str, str], *args: str) -> None:
    """Run the `convene` command against the test database."""
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"convene {args[0]} failed:\n{done.stdout}\n{done.stderr}")


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz in time:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Convene served by uvicorn on a free port, on a fresh migrated SQLite database."""
    folder = tmp_path_factory.mktemp("live-server")
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
    }
    _convene(env, "migrate")
    _convene(
        env,
        "create-convener",
        "--email",
        CONVENER_EMAIL,
        "--name",
        CONVENER_NAME,
        "--password",
        CONVENER_PASSWORD,
    )
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
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_healthy(url, process, log)
            yield LiveServer(url, CONVENER_EMAIL, CONVENER_PASSWORD, CONVENER_NAME, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# Module scope, not session: between its calls the sync API marks its own event loop as the
# running one, which would break every asyncio test that runs after the browser tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the tests of one module."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[NewContext]:
    """Factory of fresh browser contexts on the live server; JavaScript errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def watch(page: Page) -> None:
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=live_server.url, **options)
        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)


@pytest.fixture
def convener_context(new_context: NewContext, live_server: LiveServer) -> BrowserContext:
    """A browser context already signed in as the convener (through the API)."""
    context = new_context()
    response = context.request.post(
        "/api/auth/sign-in",
        data={"email": live_server.convener_email, "password": live_server.convener_password},
    )
    assert response.ok, response.text()
    return context


MakeConvening = Callable[..., dict[str, Any]]


@pytest.fixture
def make_convening(convener_context: BrowserContext) -> MakeConvening:
    """Factory: create a draft convening through the API, as the signed-in convener."""

    def make(title: str, **fields: Any) -> dict[str, Any]:
        body = {
            "title": title,
            "purpose_type": "consensus_building",
            "attribution": "chatham_house",
            "time_zone": "Africa/Nairobi",
            "starts_at": "2030-03-02T09:00:00+03:00",
            "ends_at": "2030-03-02T13:00:00+03:00",
            **fields,
        }
        response = convener_context.request.post("/api/convenings", data=body)
        assert response.status == 201, response.text()
        return response.json()  # type: ignore[no-any-return]

    return make
