"""The live-room fan-out benchmark: the app against a bare `websockets` broadcast server.

Cases, each printed as one JSON line on stdout (progress goes to stderr):

* `app`, N = 100, 1,000, 5,000: one uvicorn process (SQLite, memory broker) and N seat
  cookies, each connected to the room's websocket. A round: a participant raises (then,
  next round, lowers) a hand over HTTP; a seat's latency is the time from just before the
  request until its client received the event with the sequence number the request
  answered.
* `baseline`, same N: `bench/baseline_server.py`, triggered over a control websocket to
  broadcast a message the size of the app's event.
* `app-redis`, N = 1,000: two uvicorn processes on one PostgreSQL database sharing a
  Redis broker; half the clients on each, the action made through the first.
* `slow`, N = 1,000: the `app` case with 50 clients that stop reading from their sockets.
  A flood of growing events (300 hands raised, then lowered) fills their socket buffers;
  then the usual rounds measure the others. At the end the stalled clients read again and
  the case counts how they ended: closed with 4008 (dropped as too slow) or caught up.
* `report-draft`, `report-pdf`: the report-back benchmarks (`python -m bench.report_draft`,
  `python -m bench.report_pdf`, each printing one JSON line), run as they are; `report-pdf`
  only if its module exists when the run starts.

Per round: p50 and p99 over the clients, and the times until the first and the last one.
A case reports the median over its rounds of each (and the worst round's p99), plus: the
server's resident memory per idle connection (VmRSS once all N are connected and the
server is idle, minus VmRSS before, over N; `rss_warm_per_conn_kib` the same from after a
warm-up of a few connections opened and closed, so one-off costs such as the first snapshot
built are left out); the server CPU per round (the action and its fan-out); how long the
connections took to open and
the server CPU they cost; the median time the action itself took (until the HTTP
response, or the control message's answer); the busiest client process's CPU use while
the events were in flight, in per cent of one core; and errors: connections that failed or
did not open in time, connections the server closed, seats that missed an event, failed
actions. `load` is the machine's one-minute load average when the case ended: other work
on the machine skews the figures.

See BENCHMARKS.md for the figures and how to read them.
"""

import argparse
import asyncio
import atexit
import contextlib
import importlib.util
import json
import math
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import connect as ws_connect

from bench.procs import (
    ClientWorker,
    Processes,
    cpu_seconds,
    free_port,
    rss_kib,
    wait_http,
    wait_idle,
    wait_port,
)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "convene_bench"
REDIS_URL = "redis://127.0.0.1:6379/15"  # pub/sub only: no key is written, none flushed
BUDGET = 14.5 * 60  # seconds; every wait is cut short so that the run ends before this
CONNECT_CAP = 240.0  # seconds the connections of one case may take to open, at most
WORKERS = 2  # client processes; each holds its share of the connections
PARALLEL = 4  # websocket handshakes in flight per client process
IDLE_WAIT = 30.0  # seconds to wait for the server to go idle once the clients are connected
PAUSE = 0.2  # seconds between rounds
WARMUP = 2  # rounds run first and not counted
WARM_CONNECTIONS = 10  # opened and closed before memory is measured from a warm process
SLOW_CLIENTS = 50  # clients of the `slow` case that stop reading
FLOOD = 300  # hands raised (then lowered) while they do not read
REPORT_CASES = {"report-draft": "bench.report_draft", "report-pdf": "bench.report_pdf"}
REPORT_TIMEOUT = 240.0  # seconds a report-back benchmark may take
APP = "app.main:create_app"
DEFAULT_CASES = "report-draft,report-pdf,app,baseline,slow,app-redis"

Trigger = Callable[[int], Awaitable[int]]


def log(message: str) -> None:
    """Progress, on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of the values."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def median(values: list[float]) -> float | None:
    """The median, rounded to 0.1, or None for no values."""
    return round(statistics.median(values), 1) if values else None


@dataclass
class Case:
    """What one case measured."""

    case: str
    n: int
    rounds: int = 0
    round_p50: list[float] = field(default_factory=list)
    round_p99: list[float] = field(default_factory=list)
    round_max: list[float] = field(default_factory=list)
    round_first: list[float] = field(default_factory=list)
    action_ms: list[float] = field(default_factory=list)
    server_cpu: float = 0.0  # seconds, over the counted rounds
    client_cpu: dict[str, float] = field(default_factory=dict)
    client_window: dict[str, float] = field(default_factory=dict)
    rss_per_conn_kib: float | None = None
    rss_warm_per_conn_kib: float | None = None
    connected: int = 0
    connect_seconds: float | None = None
    connect_cpu_ms: float | None = None
    event_bytes: int = 0
    errors: int = 0
    last_seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The JSON line for this case."""
        busiest = max(
            (
                self.client_cpu[name] / self.client_window[name]
                for name in self.client_cpu
                if self.client_window[name] > 0
            ),
            default=None,
        )
        return {
            "case": self.case,
            "n": self.n,
            "p50_ms": median(self.round_p50),
            "p99_ms": median(self.round_p99),
            "worst_p99_ms": round(max(self.round_p99), 1) if self.round_p99 else None,
            "first_ms": median(self.round_first),
            "all_ms": median(self.round_max),
            "action_ms": median(self.action_ms),
            "server_cpu_ms": (
                round(1000 * self.server_cpu / self.rounds, 1) if self.rounds else None
            ),
            "rounds": self.rounds,
            "client_cpu_pct": round(100 * busiest, 1) if busiest is not None else None,
            "rss_per_conn_kib": (
                round(self.rss_per_conn_kib, 1) if self.rss_per_conn_kib is not None else None
            ),
            "rss_warm_per_conn_kib": (
                round(self.rss_warm_per_conn_kib, 1)
                if self.rss_warm_per_conn_kib is not None
                else None
            ),
            "connected": self.connected,
            "connect_s": round(self.connect_seconds, 1) if self.connect_seconds else None,
            "connect_cpu_ms": (
                round(self.connect_cpu_ms, 1) if self.connect_cpu_ms is not None else None
            ),
            "event_bytes": self.event_bytes,
            "errors": self.errors,
            "load": round(os.getloadavg()[0], 1),
            **self.extra,
            **({"notes": self.notes} if self.notes else {}),
        }


@dataclass
class Room:
    """A prepared convening: where its websocket is and the cookies of its seats."""

    convening_id: int
    cookie_name: str
    participants: list[str]
    snapshot_bytes: int
    hand_raised: bool = False  # the first participant's hand, which the rounds toggle

    @property
    def path(self) -> str:
        return f"/api/convenings/{self.convening_id}/live"

    def cookie(self, token: str) -> str:
        return f"{self.cookie_name}={token}"


class Bench:
    """Runs the cases in order within the time budget; every process is killed at the end."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.folder = Path(tempfile.mkdtemp(prefix="convene-bench-"))
        self.processes = Processes(self.folder)
        self.workers: list[ClientWorker] = []
        self.started = time.monotonic()
        self.secret = secrets.token_hex(24)
        self.event_bytes: dict[int, int] = {}
        self.results: list[dict[str, Any]] = []

    def remaining(self) -> float:
        """Seconds left in the budget (teardown takes a few more)."""
        return BUDGET - (time.monotonic() - self.started)

    # Processes --------------------------------------------------------------------------

    def env(self, database_url: str, broker_url: str = "memory://") -> dict[str, str]:
        """The environment of the app and of the setup commands."""
        return {
            "DATABASE_URL": database_url,
            "BROKER_URL": broker_url,
            "SECRET_KEY": self.secret,
            "ENVIRONMENT": "production",
            "SMTP_HOST": "",
        }

    async def run_to_end(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        """Run a short command to completion; raise with its log if it fails."""
        process = await self.processes.start(name, argv, env)
        code = await process.wait()
        self.processes.running.pop(name, None)
        if code != 0:
            raise RuntimeError(f"{name} failed ({code}):\n{self.processes.log_tail(name)}")

    async def prepare(self, name: str, database_url: str, sizes: list[int]) -> dict[int, Room]:
        """Migrate the database and create one room per size (bench/setup_room.py)."""
        env = self.env(database_url)
        await self.run_to_end(f"{name}-migrate", [sys.executable, "-m", "app.cli", "migrate"], env)
        out = self.folder / f"{name}-rooms.json"
        sizes_arg = ",".join(map(str, sizes))
        await self.run_to_end(
            f"{name}-setup",
            [sys.executable, "-m", "bench.setup_room", "--sizes", sizes_arg, "--out", str(out)]
            + ["--unique-ids"],
            env,
        )
        rooms = json.loads(out.read_text())["rooms"]
        return {
            room["size"]: Room(
                room["convening_id"],
                room["cookie_name"],
                room["participants"],
                room["snapshot_bytes"],
            )
            for room in rooms
        }

    async def start_app(self, name: str, env: dict[str, str]) -> tuple[int, int]:
        """One uvicorn process serving the app; returns its port and process id."""
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", self.args.app, "--factory"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--backlog", "4096"]
        argv += ["--no-access-log", "--log-level", "warning"]
        argv += ["--ws", self.args.ws, "--ws-per-message-deflate", "false"]
        process = await self.processes.start(name, argv, env)
        await wait_http(f"http://127.0.0.1:{port}/healthz", process)
        return port, process.pid

    # Measuring --------------------------------------------------------------------------

    async def hold(self, case: Case, pids: list[int], shares: list[list[list[Any]]]) -> None:
        """Open every connection, wait for the servers to go idle, measure their memory:
        from the fresh process, and from after a warm-up (a few connections opened and
        closed: what the first connection costs once, such as building the room's snapshot,
        is then left out)."""
        cold = sum(rss_kib(pid) for pid in pids)
        await asyncio.gather(
            *(
                worker.call("connect", targets=share[:WARM_CONNECTIONS], parallel=2, within=30)
                for worker, share in zip(self.workers, shares, strict=True)
            )
        )
        await asyncio.gather(*(worker.call("close") for worker in self.workers))
        await wait_idle(pids, within=min(10.0, max(1.0, self.remaining() - 60)))
        before = sum(rss_kib(pid) for pid in pids)
        cpu = sum(cpu_seconds(pid) for pid in pids)
        within = min(30 + 0.12 * case.n, CONNECT_CAP, max(10.0, self.remaining() - 90))
        answers = await asyncio.gather(
            *(
                worker.call("connect", targets=share, parallel=self.args.parallel, within=within)
                for worker, share in zip(self.workers, shares, strict=True)
            )
        )
        case.connect_seconds = max(a["seconds"] for a in answers)
        case.connected = sum(a["connected"] for a in answers)
        if case.connected:
            spent = sum(cpu_seconds(pid) for pid in pids) - cpu
            case.connect_cpu_ms = 1000 * spent / case.connected
        failed = case.n - case.connected
        if failed:
            case.errors += failed
            reasons: dict[str, int] = {}
            for answer in answers:
                for reason, count in answer["failures"].items():
                    reasons[reason] = reasons.get(reason, 0) + count
                if answer["timed_out"]:
                    reasons["not open in time"] = (
                        reasons.get("not open in time", 0) + answer["timed_out"]
                    )
            case.notes.append(f"{failed} of {case.n} connections failed: {reasons}")
        log(f"{case.case} n={case.n}: {case.connected} connected in {case.connect_seconds:.1f} s")
        idle = min(IDLE_WAIT, max(1.0, self.remaining() - 60))
        if not await wait_idle(pids, within=idle):
            case.notes.append(f"the server was still busy {idle:.0f} s after connecting")
        if case.connected:
            after = sum(rss_kib(pid) for pid in pids)
            case.rss_per_conn_kib = (after - cold) / case.connected
            case.rss_warm_per_conn_kib = (after - before) / case.connected

    async def rounds(
        self, case: Case, count: int, trigger: Trigger, pids: list[int] | None = None
    ) -> None:
        """Run WARMUP + count rounds; `trigger(i)` causes one event and returns its seq.
        The servers' CPU time is summed over the counted rounds."""
        within = 5.0 + case.n / 250
        for index in range(WARMUP + count):
            if self.remaining() < within + 5:
                case.notes.append(f"stopped after {case.rounds} rounds: out of time")
                break
            await asyncio.gather(*(w.call("arm") for w in self.workers))
            server_cpu = sum(cpu_seconds(pid) for pid in pids or [])
            started = time.monotonic()
            try:
                seq = await trigger(index)
            except Exception as error:
                case.errors += 1
                case.notes.append(f"action failed: {error!r}")
                continue
            acted = time.monotonic()
            answers = await asyncio.gather(
                *(w.call("collect", seq=seq, within=within) for w in self.workers)
            )
            latencies = [1000 * (t - started) for a in answers for t in a["times"]]
            case.event_bytes = max([case.event_bytes] + [a["size"] for a in answers])
            case.last_seq = seq
            if index >= WARMUP:
                case.server_cpu += sum(cpu_seconds(pid) for pid in pids or []) - server_cpu
                case.rounds += 1
                case.errors += sum(a["missing"] for a in answers)
                case.action_ms.append(1000 * (acted - started))
                if latencies:
                    case.round_p50.append(percentile(latencies, 0.50))
                    case.round_p99.append(percentile(latencies, 0.99))
                    case.round_max.append(max(latencies))
                    case.round_first.append(min(latencies))
                for worker, answer in zip(self.workers, answers, strict=True):
                    cpu, window = case.client_cpu, case.client_window
                    cpu[worker.name] = cpu.get(worker.name, 0.0) + answer["cpu"]
                    window[worker.name] = window.get(worker.name, 0.0) + answer["window"]
            await asyncio.sleep(PAUSE)

    async def release(self, case: Case) -> None:
        """Count the connections the server closed during the case, then drop the rest."""
        answers = await asyncio.gather(*(w.call("status") for w in self.workers))
        closed = sum(a["closed"] for a in answers)
        if closed:
            codes: dict[str, int] = {}
            for answer in answers:
                for code, count in answer["close_codes"].items():
                    codes[code] = codes.get(code, 0) + count
            case.errors += closed
            case.notes.append(f"{closed} connections closed by the server: {codes}")
        await asyncio.gather(*(w.call("close") for w in self.workers))

    def split(self, targets: list[list[Any]]) -> list[list[list[Any]]]:
        """Share targets among the client processes."""
        return [targets[i :: len(self.workers)] for i in range(len(self.workers))]

    @contextlib.asynccontextmanager
    async def hand(self, port: int, room: Room) -> AsyncIterator[Trigger]:
        """A trigger: the first participant raises a hand, next round lowers it, and so on
        (from where the previous case left it)."""
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Cookie": room.cookie(room.participants[0])},
            timeout=30,
        ) as http:
            url = f"/api/convenings/{room.convening_id}/floor/hand"

            async def trigger(index: int) -> int:
                if room.hand_raised:
                    response = await http.delete(url)
                else:
                    response = await http.post(url, json={})
                response.raise_for_status()
                room.hand_raised = not room.hand_raised
                return int(response.json()["seq"])

            yield trigger

    # Cases ------------------------------------------------------------------------------

    async def app_case(self, room: Room, n: int, rounds: int, database_url: str) -> Case:
        """N seats on one app process."""
        case = Case("app", n)
        name = f"app-{n}"
        port, pid = await self.start_app(name, self.env(database_url))
        try:
            targets = [[port, room.path, room.cookie(c)] for c in room.participants[:n]]
            await self.hold(case, [pid], self.split(targets))
            async with self.hand(port, room) as trigger:
                await self.rounds(case, rounds, trigger, [pid])
            await self.release(case)
        finally:
            await self.processes.stop(name)
        self.event_bytes[n] = case.event_bytes
        return case

    async def slow_case(self, room: Room, n: int, rounds: int, database_url: str) -> Case:
        """N seats on one app process; SLOW_CLIENTS of them stop reading."""
        case = Case("slow", n)
        name = f"slow-{n}"
        port, pid = await self.start_app(name, self.env(database_url))
        try:
            targets = [[port, room.path, room.cookie(c)] for c in room.participants[:n]]
            await self.hold(case, [pid], self.split(targets))
            share = SLOW_CLIENTS // len(self.workers)
            stalled = await asyncio.gather(*(w.call("stall", count=share) for w in self.workers))
            slow = sum(a["stalled"] for a in stalled)
            log(f"slow n={n}: {slow} clients stopped reading; flooding")
            flood = await self.flood(case, port, room)
            log(f"slow n={n}: flood of {flood['flood_events']} events in {flood['flood_s']} s")
            async with self.hand(port, room) as trigger:
                await self.rounds(case, rounds, trigger, [pid])
            within = min(60.0, max(5.0, self.remaining() - 60))
            ends = await asyncio.gather(
                *(w.call("resume", seq=case.last_seq, within=within) for w in self.workers)
            )
            closed: dict[str, int] = {}
            for answer in ends:
                for reason, count in answer["closed"].items():
                    closed[reason] = closed.get(reason, 0) + count
            case.extra = {
                "slow_clients": slow,
                "slow_dropped_4008": closed.pop("close 4008", 0),
                "slow_caught_up": sum(a["caught_up"] for a in ends),
                "slow_other_ends": closed,
                "slow_still_waiting": sum(a["still_waiting"] for a in ends),
                **flood,
            }
            await self.release(case)
        finally:
            await self.processes.stop(name)
        return case

    async def flood(self, case: Case, port: int, room: Room) -> dict[str, Any]:
        """FLOOD participants raise a hand, one request after the other (each event carries
        the whole queue, so they grow), then lower it; the reading clients must get all."""
        count = min(FLOOD, len(room.participants) - 1)
        url = f"/api/convenings/{room.convening_id}/floor/hand"
        started = time.monotonic()
        seq = 0
        peak_bytes = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for phase in ("raise", "lower"):
                for token in room.participants[1 : count + 1]:
                    if self.remaining() < 120:
                        case.notes.append("flood cut short: out of time")
                        break
                    headers = {"Cookie": room.cookie(token)}
                    if phase == "raise":
                        response = await http.post(url, json={}, headers=headers)
                    else:
                        response = await http.delete(url, headers=headers)
                    if response.status_code >= 400:
                        case.errors += 1
                        case.notes.append(f"flood action failed: {response.status_code}")
                        break
                    seq = int(response.json()["seq"])
                answers = await asyncio.gather(
                    *(w.call("collect", seq=seq, within=60) for w in self.workers)
                )
                missing = sum(a["missing"] for a in answers)
                if missing:
                    case.errors += missing
                    case.notes.append(f"{missing} reading clients missed flood event {seq}")
                if phase == "raise":
                    peak_bytes = max(a["size"] for a in answers)
        return {
            "flood_events": 2 * count,
            "flood_s": round(time.monotonic() - started, 1),
            "flood_peak_event_kib": round(peak_bytes / 1024, 1),
        }

    async def baseline_case(self, n: int, rounds: int) -> Case:
        """N clients on the bare websockets server, events the size of the app's."""
        case = Case("baseline", n)
        name = f"baseline-{n}"
        port = free_port()
        argv = [sys.executable, "-m", "bench.baseline_server", "--port", str(port)]
        process = await self.processes.start(name, argv)
        try:
            await wait_port(port, process)
            await self.hold(case, [process.pid], self.split([[port, "/live", ""]] * n))
            size = self.event_bytes.get(n) or max(self.event_bytes.values(), default=600)
            async with ws_connect(f"ws://127.0.0.1:{port}/control", compression=None) as control:

                async def trigger(index: int) -> int:
                    seq = index + 1
                    await control.send(f"{seq} {size}")
                    await control.recv()
                    return seq

                await self.rounds(case, rounds, trigger, [process.pid])
            await self.release(case)
        finally:
            await self.processes.stop(name)
        return case

    async def redis_case(self, n: int, rounds: int) -> Case:
        """N seats split over two app processes on PostgreSQL, joined by Redis."""
        case = Case("app-redis", n)
        url = f"postgresql://postgres@127.0.0.1:5432/{PG_DATABASE}"
        await asyncio.to_thread(recreate_database)
        try:
            room = (await self.prepare("pg", url, [n]))[n]
            env = self.env(url, REDIS_URL)
            first, one = await self.start_app("app-redis-1", env)
            second, two = await self.start_app("app-redis-2", env)
            try:
                cookies = room.participants[:n]
                half = n // 2
                # Client process 1 holds the seats on app process 1, client 2 those on app 2.
                shares = [
                    [[first, room.path, room.cookie(c)] for c in cookies[:half]],
                    [[second, room.path, room.cookie(c)] for c in cookies[half:]],
                ]
                await self.hold(case, [one, two], shares)
                async with self.hand(first, room) as trigger:
                    await self.rounds(case, rounds, trigger, [one, two])
                await self.release(case)
            finally:
                await self.processes.stop("app-redis-1")
                await self.processes.stop("app-redis-2")
        finally:
            await asyncio.to_thread(drop_database)
        return case

    async def run(self) -> None:
        """Every case in turn, then the summary tables."""
        sizes = [int(s) for s in self.args.sizes.split(",")]
        sqlite_url = f"sqlite:///{self.folder / 'convene.db'}"
        cases = set(self.args.cases.split(","))
        unknown = cases - {"app", "baseline", "slow", "app-redis", *REPORT_CASES}
        if unknown:
            raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
        # The report-back benchmarks first: each is one bounded subprocess.
        for label, module in REPORT_CASES.items():
            if label not in cases:
                continue
            if importlib.util.find_spec(module) is None:
                log(f"{label}: {module} does not exist, skipped")
                continue
            result = await self.report_case(label, module)
            self.results.append(result)
            print(json.dumps(result), flush=True)
        slow_size = 1000 if 1000 in sizes else max(sizes)
        room_sizes = sizes if "app" in cases else []
        if "slow" in cases and slow_size not in room_sizes:
            room_sizes = [*room_sizes, slow_size]
        if room_sizes:
            log(f"setting up rooms of {room_sizes} seats in {self.folder}")
        rooms = await self.prepare("sqlite", sqlite_url, room_sizes) if room_sizes else {}
        plan: list[tuple[str, int, Callable[[], Awaitable[Case]]]] = []
        for n in sizes:
            count = self.args.rounds if n <= 1000 else max(1, self.args.rounds // 2)
            if "app" in cases:
                plan.append(("app", n, partial(self.app_case, rooms[n], n, count, sqlite_url)))
            if "baseline" in cases:
                plan.append(("baseline", n, partial(self.baseline_case, n, count)))
            if "slow" in cases and n == slow_size:
                # Last for its room: the flood leaves it as it found it, but it is the heaviest.
                slow = partial(self.slow_case, rooms[n], n, count, sqlite_url)
                plan.append(("slow", n, slow))
        if "app-redis" in cases:
            plan.append(("app-redis", 1000, partial(self.redis_case, 1000, self.args.rounds)))
        if plan:
            self.workers = [
                await ClientWorker.start(self.processes, f"client-{i}") for i in range(WORKERS)
            ]
        for label, n, run_case in plan:
            if self.remaining() < 120:
                log(f"skipping {label} n={n}: out of time")
                case = Case(label, n, errors=1, notes=["skipped: the time budget ran out"])
            else:
                log(f"{label} n={n}")
                try:
                    case = await run_case()
                except Exception as error:
                    log(f"{label} n={n} failed: {error}")
                    case = Case(label, n, errors=1, notes=[f"failed: {error}"])
            summary = case.summary()
            self.results.append(summary)
            print(json.dumps(summary), flush=True)
        total = time.monotonic() - self.started
        log(f"done in {total:.0f} s")
        print(table(self.results, total), file=sys.stderr)
        if self.args.out:
            report = {
                "seconds": round(total),
                "ws": self.args.ws,
                "app": self.args.app,
                "cases": self.results,
            }
            self.args.out.write_text(json.dumps(report, indent=1))

    async def report_case(self, label: str, module: str) -> dict[str, Any]:
        """Run a report-back benchmark (`python -m <module>`, one JSON line on stdout)."""
        log(label)
        started = time.monotonic()
        within = max(10.0, min(REPORT_TIMEOUT, self.remaining() - 300))
        process = await self.processes.start(label, [sys.executable, "-m", module], pipe=True)
        result: dict[str, Any] = {"case": label}
        try:
            stdout, _ = await asyncio.wait_for(process.communicate(), within)
        except TimeoutError:
            await self.processes.stop(label)
            return {**result, "errors": 1, "notes": [f"did not finish within {within:.0f} s"]}
        self.processes.running.pop(label, None)
        lines = [line for line in stdout.decode(errors="replace").splitlines() if line.strip()]
        try:
            measured = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            tail = self.processes.log_tail(label)
            return {**result, "errors": 1, "exit": process.returncode, "notes": [tail]}
        return {
            **result,
            **measured,
            "exit": process.returncode,  # the benchmark's own verdict on its target
            "wall_s": round(time.monotonic() - started, 1),
            "errors": 0,
            "load": round(os.getloadavg()[0], 1),
        }

    async def close(self) -> None:
        """Stop every process and remove the temporary folder."""
        for worker in self.workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.call("exit"), 2)
        await self.processes.stop_all()
        if self.args.keep:
            log(f"logs and database kept in {self.folder}")
        else:
            shutil.rmtree(self.folder, ignore_errors=True)


def create_app_with_live_room() -> Any:
    """The app with `app.live.routes.LiveRoom` installed the way BENCHMARKS.md proposes for
    app/main.py: just outside the GZip middleware, inside every other one (so the CSRF
    check still sees the handshake). For `--app bench.harness:create_app_with_live_room`."""
    from fastapi.middleware.gzip import GZipMiddleware
    from starlette.middleware import Middleware

    from app.live.routes import LiveRoom
    from app.main import create_app

    application = create_app()
    if not any(m.cls is LiveRoom for m in application.user_middleware):
        index = next(
            i for i, m in enumerate(application.user_middleware) if m.cls is GZipMiddleware
        )
        application.user_middleware.insert(index, Middleware(LiveRoom))
    return application


def recreate_database() -> None:
    """A fresh, empty PostgreSQL database for the Redis case."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def drop_database() -> None:
    """Drop the Redis case's database."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


COLUMNS = [
    "case",
    "n",
    "p50_ms",
    "p99_ms",
    "worst_p99_ms",
    "first_ms",
    "all_ms",
    "action_ms",
    "server_cpu_ms",
    "rounds",
    "client_cpu_pct",
    "rss_per_conn_kib",
    "rss_warm_per_conn_kib",
    "connected",
    "connect_s",
    "connect_cpu_ms",
    "errors",
    "load",
]


def table(results: list[dict[str, Any]], seconds: float) -> str:
    """The results as Markdown tables (for BENCHMARKS.md): the live cases, then the others
    (their JSON fields as they are)."""
    live = [r for r in results if "p99_ms" in r]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for result in live:
        cells = ("" if result.get(c) is None else str(result[c]) for c in COLUMNS)
        lines.append("| " + " | ".join(cells) + " |")
    slow = [r for r in live if "slow_clients" in r]
    for result in slow:
        extra = {k: v for k, v in result.items() if k.startswith(("slow_", "flood_"))}
        lines.append(f"\n{result['case']} n={result['n']}: {json.dumps(extra)}")
    for result in results:
        if "p99_ms" not in result:
            lines.append(f"\n{result['case']}: {json.dumps(result)}")
    lines.append(f"\nFull run: {seconds:.0f} s")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="100,1000,5000", help="seat counts (default: %(default)s)"
    )
    parser.add_argument(
        "--rounds", type=int, default=20, help="rounds per case, half above 1,000 seats (20)"
    )
    parser.add_argument(
        "--ws",
        default="websockets-sansio",
        choices=["websockets", "websockets-sansio"],
        help="uvicorn's websocket implementation (default: %(default)s)",
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=PARALLEL,
        help="handshakes in flight per client process (default: %(default)s)",
    )
    parser.add_argument(
        "--cases",
        default=DEFAULT_CASES,
        help="which cases to run (default: %(default)s)",
    )
    parser.add_argument(
        "--app",
        default=APP,
        help="the app factory uvicorn serves (default: %(default)s; "
        "bench.harness:create_app_with_live_room adds the live-room middleware)",
    )
    parser.add_argument("--out", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the logs and the SQLite file")
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> None:
    """Run the benchmark; SIGINT or SIGTERM cancels it, and the cleanup still runs."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    bench = Bench(args)
    atexit.register(bench.processes.kill_all_now)
    try:
        await bench.run()
    finally:
        await bench.close()


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark; every subprocess is killed at the end, also on failure."""
    args = parse_args(argv)
    try:
        asyncio.run(amain(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(130)
