"""Helpers for the hardening tests: Convene served as in production (uvicorn subprocesses on a
fresh PostgreSQL database, Redis as the broker), light live clients that keep what they
applied, and HTTP actions whose answers are kept to be checked against the event log.

Processes are started with `bench.procs.Processes` (each leads its own process group, its
output in a log file) and ended by their id; a test may SIGKILL one on purpose.
"""

import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from app.config import ROOT
from app.live.state import apply_event
from bench.procs import Processes, free_port, wait_http, wait_port
from tests.conftest import BACKEND, SECRET, drop_postgres, fresh_postgres

# Every hardening test needs PostgreSQL and Redis, so it runs in `make test`'s PostgreSQL pass.
NEEDS_POSTGRES_AND_REDIS = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="hardening tests need PostgreSQL and Redis: they run in the PostgreSQL pass "
        "(CONVENE_TEST_DB=postgres)",
    ),
]

STARTUP = 60.0  # seconds an app process may take to answer /healthz on a loaded machine
SETTLE = 45.0  # seconds every client has to reach the last event once the actions stopped
HTTP_TIMEOUT = 30.0  # seconds an action may take before it counts as unanswered
_databases = itertools.count(1)


# Databases, rooms, processes --------------------------------------------------------------


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database (dropped afterwards); its URL."""
    name = f"convene_hardening_{os.getpid()}_{next(_databases)}"
    url = fresh_postgres(name)
    try:
        yield url
    finally:
        drop_postgres(name)


def environment(database_url: str, broker_url: str, port: int = 8000) -> dict[str, str]:
    """What app/config.py reads, for a process serving on `port`."""
    return {
        "DATABASE_URL": database_url,
        "BROKER_URL": broker_url,
        "SECRET_KEY": SECRET,
        "ENVIRONMENT": "test",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "SMTP_HOST": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),  # `bench` is not installed; `app` is
        "PYTHONUNBUFFERED": "1",
    }


async def _run(argv: list[str], env: dict[str, str], what: str, within: float = 120) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{what} did not finish within {within} s") from None
    assert process.returncode == 0, f"{what} failed:\n{output.decode(errors='replace')}"


def _convene_command() -> list[str]:
    script = Path(sys.executable).parent / "convene"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


@dataclass
class Room:
    """A live convening prepared by `bench.setup_room`: its first item open, every participant
    present, one seat cookie per seat."""

    cid: int
    cookie_name: str
    facilitator: str  # the facilitator's seat cookie
    participants: list[str]  # one seat cookie per participant
    last_seq: int

    def cookie(self, token: str) -> dict[str, str]:
        return {"Cookie": f"{self.cookie_name}={token}"}


async def prepare(database_url: str, folder: Path, seats: int) -> Room:
    """`convene migrate`, then a live room of `seats` participants (bench/setup_room.py, with
    a far-off convening id: Redis channels are shared by everyone using the server)."""
    env = environment(database_url, "memory://")
    await _run([*_convene_command(), "migrate"], env, "convene migrate")
    out = folder / "room.json"
    await _run(
        [
            sys.executable,
            "-m",
            "bench.setup_room",
            "--sizes",
            str(seats),
            "--out",
            str(out),
            "--unique-ids",
        ],
        env,
        "bench.setup_room",
    )
    room = json.loads(out.read_text())["rooms"][0]
    return Room(
        cid=room["convening_id"],
        cookie_name=room["cookie_name"],
        facilitator=room["facilitator"],
        participants=room["participants"],
        last_seq=room["last_seq"],
    )


@dataclass
class App:
    """One `uvicorn app.main:create_app --factory` process."""

    name: str
    port: int
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def start_app(
    processes: Processes, name: str, database_url: str, broker_url: str, port: int | None = None
) -> App:
    """Serve Convene on a port (a free one unless given) and wait until it answers."""
    port = port or free_port()
    argv = [
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
        "--log-level",
        "warning",
        "--ws",
        "websockets-sansio",
    ]
    process = await processes.start(name, argv, environment(database_url, broker_url, port))
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz", process, within=STARTUP)
    except RuntimeError as error:
        raise AssertionError(f"{error}\n{processes.log_tail(name)}") from None
    return App(name, port, process)


async def kill(processes: Processes, name: str) -> None:
    """SIGKILL a process this test started (its group, by id), as a crash would."""
    process = processes.running.pop(name)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


def send_signal(processes: Processes, name: str, sig: signal.Signals) -> None:
    """Send a signal to a process this test started (its group, by id): SIGSTOP freezes a
    server as a hung host or a network partition would, SIGCONT thaws it."""
    os.killpg(processes.running[name].pid, sig)


def redis_server() -> str:
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is needed (apt-get install redis-server)"
    return binary


async def start_redis(processes: Processes, name: str, port: int) -> None:
    """A Redis server of this test's own on `port`: nothing saved, nothing shared."""
    argv = [
        redis_server(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ]
    process = await processes.start(name, argv)
    await wait_port(port, process, within=STARTUP)


# Waiting ------------------------------------------------------------------------------


async def wait_until(
    condition: Callable[[], bool], within: float, what: Callable[[], str] | str
) -> None:
    """Wait (polling) until `condition()` holds; fail with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what() if callable(what) else what)
        await asyncio.sleep(0.05)


# Live clients -----------------------------------------------------------------------------


class LiveClient:
    """A seat's websocket, as frontend/static/js/live.js uses it: a snapshot first, then events
    applied in order; when the connection drops, it reconnects (jittered backoff) with
    `?since=<last applied>`. Every event applied is kept; anything out of order is noted in
    `problems` (and, like live.js, answered by reconnecting from the last applied number)."""

    def __init__(self, name: str, room: Room, token: str, port: int) -> None:
        self.name = name
        self.room = room
        self.headers = room.cookie(token)
        self.port = port
        self.seq: int | None = None  # the last event applied (or the snapshot's number)
        self.start: int | None = None  # the first snapshot's number
        self.state: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.opened = 0  # connections that began (snapshot or resume)
        self.resumed: list[int] = []  # the `since` of each resumed connection
        self.drops: list[str] = []  # how connections ended or failed
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopped = False

    def begin(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"client-{self.name}")

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.opened > 0 and self.seq is not None

    def url(self) -> str:
        since = f"?since={self.seq}" if self.seq is not None else ""
        return f"ws://127.0.0.1:{self.port}/api/convenings/{self.room.cid}/live{since}"

    async def _run(self) -> None:
        failures = 0
        while not self.stopped:
            try:
                async with connect(
                    self.url(),
                    additional_headers=self.headers,
                    open_timeout=20,
                    close_timeout=2,
                    ping_interval=None,
                    max_size=None,
                ) as ws:
                    self.ws = ws
                    asked = self.seq
                    first = True
                    async for raw in ws:
                        message = json.loads(raw)
                        if first and message["type"] in ("snapshot", "resume"):
                            first = False
                            failures = 0
                            self.opened += 1
                        if not self._handle(message, asked):
                            break  # a gap: start again from the last applied number
                    if ws.close_code is not None:
                        self.drops.append(f"closed {ws.close_code}")
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else None
                self.drops.append(f"closed {code}")
                if code in (4403, 4404):
                    self.problems.append(f"refused with {code}")
                    return
            except (OSError, TimeoutError, WebSocketException) as error:
                self.drops.append(type(error).__name__)
            finally:
                self.ws = None
            if self.stopped:
                return
            failures += 1
            await asyncio.sleep(min(2.0, 0.05 * 2**failures) * random.uniform(0.5, 1.0))

    def _handle(self, message: dict[str, Any], asked: int | None) -> bool:
        kind = message["type"]
        if kind == "snapshot":
            if self.seq is not None:
                self.problems.append(
                    f"a snapshot at {message['seq']} instead of the events after {self.seq}"
                )
                self.events.clear()
                self.start = None
            self.state = message["state"]
            self.seq = message["seq"]
            if self.start is None:
                self.start = self.seq
        elif kind == "resume":
            self.resumed.append(message["seq"])
            if message["seq"] != asked:
                self.problems.append(f"resumed at {message['seq']}, asked {asked}")
        elif kind == "event":
            seq = message["seq"]
            if self.seq is None:
                self.problems.append(f"event {seq} before any snapshot")
                return False
            if seq <= self.seq:
                self.problems.append(f"event {seq} again (at {self.seq})")
                return True
            if seq != self.seq + 1:
                self.problems.append(f"gap: event {seq} after {self.seq}")
                return False
            self.state = apply_event(self.state, message)
            self.events.append(message)
            self.seq = seq
        return True

    async def reconnect(self, port: int | None = None) -> None:
        """Close the connection (the client comes back by itself, with `since`)."""
        if port is not None:
            self.port = port
        ws = self.ws
        if ws is not None:
            await ws.close()

    async def stop(self) -> None:
        self.stopped = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


class Poller:
    """A seat long-polling GET .../events?since=N&wait=S (live.js's fallback), keeping what
    it applied like `LiveClient`."""

    def __init__(self, name: str, room: Room, token: str, base_url: str, wait: float) -> None:
        self.name = name
        self.room = room
        self.headers = room.cookie(token)
        self.base_url = base_url
        self.wait = wait
        self.seq: int | None = None
        self.start: int | None = None
        self.state: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.answers = 0
        self.task: asyncio.Task[None] | None = None

    def begin(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"poller-{self.name}")

    async def _run(self) -> None:
        path = f"/api/convenings/{self.room.cid}/events"
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers, timeout=self.wait + HTTP_TIMEOUT
        ) as http:
            while True:
                params: dict[str, Any] = {"wait": self.wait if self.seq is not None else 0}
                if self.seq is not None:
                    params["since"] = self.seq
                try:
                    response = await http.get(path, params=params)
                except httpx.TransportError:
                    await asyncio.sleep(0.5)
                    continue
                if response.status_code != 200:
                    self.problems.append(f"poll answered {response.status_code}")
                    await asyncio.sleep(0.5)
                    continue
                self.answers += 1
                body = response.json()
                if body["snapshot"] is not None:
                    if self.seq is not None:
                        self.problems.append(f"a snapshot instead of the events after {self.seq}")
                        self.events.clear()
                        self.start = None
                    self.state = body["snapshot"]["state"]
                    self.seq = body["snapshot"]["seq"]
                    if self.start is None:
                        self.start = self.seq
                for event in body["events"]:
                    assert self.seq is not None
                    if event["seq"] != self.seq + 1:
                        self.problems.append(f"poll: event {event['seq']} after {self.seq}")
                        break
                    self.state = apply_event(self.state, event)
                    self.events.append(event)
                    self.seq = event["seq"]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


def behind(followers: list[Any], seq: int) -> str:
    """Who has not applied event `seq` yet, for a failure message."""
    late = [f"{f.name} at {f.seq}" for f in followers if f.seq is None or f.seq < seq]
    return f"{len(late)} of {len(followers)} clients never reached event {seq}: {late[:10]}"


# Actions over HTTP --------------------------------------------------------------------------


@dataclass
class Outcome:
    """One action sent over HTTP and what came of it."""

    who: str
    action: str  # raise, lower, contribute, next
    via: str  # the process it was sent to
    seat_id: int | None = None
    text: str | None = None
    status: int | None = None
    body: Any = None
    error: str | None = None  # no answer: the connection failed or broke

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Seat:
    """A seat acting over HTTP through one process (its cookie in every request)."""

    name: str
    http: httpx.AsyncClient
    via: str
    seat_id: int | None = None
    counter: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    async def open(
        cls, name: str, room: Room, token: str, app: App, answer_within: float = HTTP_TIMEOUT
    ) -> "Seat":
        """The seat, acting through `app`; an action unanswered after `answer_within`
        seconds counts as failed."""
        http = httpx.AsyncClient(
            base_url=app.url, headers=room.cookie(token), timeout=answer_within
        )
        seat = cls(name, http, app.name)
        response = await http.get(f"/api/convenings/{room.cid}/events", params={"wait": 0})
        assert response.status_code == 200, response.text
        seat.seat_id = response.json()["snapshot"]["you"]["seat_id"]
        return seat

    def use(self, app: App) -> None:
        """Send the next actions to another process."""
        self.http.base_url = httpx.URL(app.url)
        self.via = app.name

    async def act(
        self, room: Room, action: str, item_id: int, inflight: dict[int, Outcome] | None = None
    ) -> Outcome:
        """Do one action; the answer (or the failure to get one) is in the outcome."""
        base = f"/api/convenings/{room.cid}"
        outcome = Outcome(self.name, action, self.via, self.seat_id)
        key = id(outcome)
        if inflight is not None:
            inflight[key] = outcome
        try:
            match action:
                case "raise":
                    response = await self.http.post(f"{base}/floor/hand", json={"kind": "hand"})
                case "lower":
                    response = await self.http.delete(f"{base}/floor/hand")
                case "contribute":
                    outcome.text = f"{self.name} point {next(self.counter)} {random.random()}"
                    response = await self.http.post(
                        f"{base}/contributions", json={"item_id": item_id, "text": outcome.text}
                    )
                case "next":
                    response = await self.http.post(f"{base}/floor/next")
                case _:
                    raise AssertionError(action)
            outcome.status = response.status_code
            with contextlib.suppress(ValueError):
                outcome.body = response.json()
        except httpx.TransportError as error:
            outcome.error = f"{type(error).__name__}: {error}"
        finally:
            if inflight is not None:
                inflight.pop(key, None)
        return outcome

    async def close(self) -> None:
        await self.http.aclose()


# What every user must find afterwards ------------------------------------------------------

EXPECTED = {
    "raise": {"floor.hand_raised"},
    "lower": {"floor.hand_lowered"},
    "contribute": {"record.contribution_added"},
    "next": {"floor.speaker_called", "floor.turn_ended"},
}


def event_log(database_url: str, cid: int) -> dict[int, dict[str, Any]]:
    """The convening's event log, read from the database: seq → {seq, kind, data}."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT seq, kind, data FROM event WHERE convening_id = %s ORDER BY seq", (cid,)
        ).fetchall()
    return {seq: {"seq": seq, "kind": kind, "data": data} for seq, kind, data in rows}


def last_seq(database_url: str, cid: int) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute("SELECT last_seq FROM convening WHERE id = %s", (cid,)).fetchone()
    assert row is not None
    return int(row[0])


async def fresh_state(app: App, room: Room) -> tuple[int, dict[str, Any]]:
    """A fresh snapshot through the API (the facilitator polling with no `since`)."""
    async with httpx.AsyncClient(
        base_url=app.url, headers=room.cookie(room.facilitator), timeout=HTTP_TIMEOUT
    ) as http:
        response = await http.get(f"/api/convenings/{room.cid}/events", params={"wait": 0})
    assert response.status_code == 200, response.text
    snapshot = response.json()["snapshot"]
    return snapshot["seq"], snapshot["state"]


async def room_record(app: App, room: Room) -> dict[str, Any]:
    """The record as the room sees it, through the API."""
    async with httpx.AsyncClient(
        base_url=app.url, headers=room.cookie(room.facilitator), timeout=HTTP_TIMEOUT
    ) as http:
        response = await http.get(f"/api/convenings/{room.cid}/record")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def check_acknowledged(
    outcomes: list[Outcome], log: dict[int, dict[str, Any]], record: dict[str, Any]
) -> list[str]:
    """Every action answered 2xx is in the log (the event its answer named, of its kind, by
    its seat) and, for a contribution, readable in the record with its text. Returns what
    is missing."""
    missing = []
    contributions = {c["id"]: c for c in record["contributions"]}
    for o in outcomes:
        if not o.acknowledged:
            continue
        seq = o.body["seq"]
        event = log.get(seq)
        if event is None or event["kind"] not in EXPECTED[o.action]:
            missing.append(f"{o.who} {o.action} via {o.via} answered {o.status} seq {seq}: {event}")
            continue
        data = event["data"]
        if o.action in ("raise", "lower") and data.get("seat_id") != o.seat_id:
            missing.append(f"{o.who} {o.action}: event {seq} is another seat's: {data}")
        if o.action == "contribute":
            if data.get("contribution_id") != o.body["id"]:
                missing.append(f"{o.who} contribution {o.body['id']}: event {seq} is {data}")
            found = contributions.get(o.body["id"])
            if found is None or found.get("text") != o.text:
                missing.append(f"{o.who} contribution {o.body['id']} not in the record: {found}")
    return missing


def check_record_matches_log(log: dict[int, dict[str, Any]], record: dict[str, Any]) -> list[str]:
    """Nothing is half-written: every contribution in the record has its event and every
    contribution event its row."""
    in_log = {
        e["data"]["contribution_id"]
        for e in log.values()
        if e["kind"] == "record.contribution_added"
    }
    in_record = {c["id"] for c in record["contributions"]}
    problems = []
    if in_record - in_log:
        problems.append(f"contributions without their event: {sorted(in_record - in_log)}")
    if in_log - in_record:
        problems.append(f"events of missing contributions: {sorted(in_log - in_record)}")
    return problems


def check_complete(
    follower: Any, log: dict[int, dict[str, Any]], final: int, state: dict[str, Any]
) -> list[str]:
    """A client ends with every event from its first snapshot to `final`, exactly once and in
    order, each as logged, and with the state a fresh snapshot gives."""
    problems = [f"{follower.name}: {p}" for p in follower.problems]
    seqs = [e["seq"] for e in follower.events]
    assert follower.start is not None, f"{follower.name} never got a snapshot"
    expected = list(range(follower.start + 1, final + 1))
    if seqs != expected:
        dupes = sorted({s for s in seqs if seqs.count(s) > 1})
        lost = sorted(set(expected) - set(seqs))
        problems.append(
            f"{follower.name}: events {seqs[:3]}...{seqs[-3:]} (duplicates {dupes[:10]}, "
            f"missing {lost[:10]}), expected {follower.start + 1}..{final}"
        )
    for event in follower.events:
        logged = log.get(event["seq"])
        if logged is None or (event["kind"], event["data"]) != (logged["kind"], logged["data"]):
            problems.append(f"{follower.name}: event {event['seq']} differs from the log")
            break
    if follower.state != state:
        problems.append(f"{follower.name}: its state differs from a fresh snapshot")
    return problems


def text_of(processes: Processes, *names: str) -> str:
    """The end of some processes' logs, to explain a failure."""
    return "\n".join(f"--- {name}\n{processes.log_tail(name, 30)}" for name in names)
