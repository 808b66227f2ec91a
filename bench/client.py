"""A light websocket client process holding thousands of connections.

    python -m bench.client        (driven by bench/__main__.py over stdin and stdout)

Each connection is a bare asyncio protocol: it writes a hand-made upgrade request (no
extensions offered, so no compression), then parses server frames minimally. A text
message is classified by its first bytes only: the app serializes `{"type":"snapshot",
"seq":…` and `{"type":"event","seq":…` with compact separators, and the baseline server
sends the same shapes; anything else (presence, the app's JSON pings) is skipped. Pings are
answered with masked pongs; nothing else is ever sent.

The process takes one JSON command per line on stdin and answers each with one JSON line
on stdout:

    {"cmd": "connect", "targets": [[port, path, cookie], ...], "parallel": 4,
     "within": 60}                   open connections (at most `parallel` handshakes in
                                     flight), each done when its first snapshot arrived
    {"cmd": "arm"}                   start a round: forget earlier arrivals, note CPU time
    {"cmd": "collect", "seq": 12, "within": 10}
                                     wait until every open connection has the event `seq`;
                                     answer each connection's arrival time (monotonic clock,
                                     shared by processes on Linux) and the CPU time spent
    {"cmd": "stall", "count": 25}    stop reading from `count` open connections (a slow
                                     consumer: its socket buffers fill up); `collect` no
                                     longer waits for them
    {"cmd": "resume", "seq": 40, "within": 30}
                                     read again from the stalled connections; wait until each
                                     is closed by the server or has received event `seq`;
                                     answer how each ended (close codes)
    {"cmd": "status"}                open and closed connections, close codes
    {"cmd": "close"}                 drop every connection
    {"cmd": "exit"}

The event loop is uvloop's when it is installed (as it is for uvicorn).
"""

import asyncio
import base64
import contextlib
import json
import os
import resource
import sys
import time
from collections import Counter
from typing import Any

SNAPSHOT = b'{"type":"snapshot","seq":'
EVENT = b'{"type":"event","seq":'
CONTINUATION, TEXT, CLOSE, PING, PONG = 0, 1, 8, 9, 10  # frame opcodes


def cpu_seconds() -> float:
    """User plus system CPU time of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A final client frame (clients must mask); payloads here are short (≤ 125 bytes)."""
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + key + body


class Fleet:
    """Every connection of this process, and what they received."""

    def __init__(self) -> None:
        self.open: set[Connection] = set()
        self.closed = 0
        self.close_codes: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.arrivals: dict[int, list[float]] = {}
        self.event_size: dict[int, int] = {}
        self.changed = asyncio.Event()
        self.stalled: set[Connection] = set()  # not reading (open ones only)
        self.stalled_codes: Counter[str] = Counter()  # how stalled connections ended
        self.resume_seq = 2**62  # stalled connections that reach this event have caught up

    def expected(self) -> int:
        """Connections that should receive each event: the open ones still reading."""
        return len(self.open) - len(self.stalled)

    def arrived(self, seq: int, at: float, size: int) -> None:
        times = self.arrivals.setdefault(seq, [])
        times.append(at)
        self.event_size.setdefault(seq, size)
        if len(times) >= self.expected():
            self.changed.set()

    def lost(self, connection: "Connection", reason: str) -> None:
        """A connection ended; it counts as closed if it had been established."""
        if connection in self.open:
            self.open.discard(connection)
            if connection in self.stalled:
                self.stalled.discard(connection)
                self.stalled_codes[reason] += 1
                self.changed.set()
                return
            ready = connection.ready
            if ready.done() and not ready.cancelled() and ready.exception() is None:
                self.closed += 1
                self.close_codes[reason] += 1
            self.changed.set()


class Connection(asyncio.Protocol):
    """One websocket client connection with a minimal frame parser."""

    def __init__(self, fleet: Fleet, host: str, port: int, path: str, cookie: str) -> None:
        self.fleet = fleet
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: "
            f"{base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Cookie: {cookie}\r\n" if cookie else "")
            + "\r\n"
        ).encode()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.message_kind = b""  # first bytes of a fragmented message in progress
        self.last_seq = 0  # the last event received
        self.ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    # asyncio callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.fleet.open.add(self)
        self.transport.write(self.request)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the snapshot: {exc}"))
        self.fleet.lost(self, "eof" if exc is None else type(exc).__name__)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if not status.startswith(b"HTTP/1.1 101"):
                self._fail(status.decode(errors="replace"))
                return
            self.upgraded = True
            del buffer[: end + 4]
        self._frames(now)

    # Frames -----------------------------------------------------------------------------

    def _frames(self, now: float) -> None:
        buffer = self.buffer
        size = len(buffer)
        pos = 0
        while size - pos >= 2:
            first, second = buffer[pos], buffer[pos + 1]
            length = second & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buffer[start : start + 2], "big")
                start += 2
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buffer[start : start + 8], "big")
                start += 8
            end = start + length
            if end > size:
                break
            self._frame(first & 0x0F, bool(first & 0x80), start, end, now)
            pos = end
        if pos:
            del buffer[:pos]

    def _frame(self, opcode: int, final: bool, start: int, end: int, now: float) -> None:
        buffer = self.buffer
        if opcode == TEXT:
            kind = bytes(buffer[start : min(end, start + len(SNAPSHOT) + 12)])
        elif opcode == CONTINUATION:
            kind = self.message_kind
        elif opcode == PING:
            if self.transport is not None:
                self.transport.write(masked_frame(PONG, bytes(buffer[start:end])))
            return
        elif opcode == CLOSE:
            code = int.from_bytes(buffer[start : start + 2], "big") if end - start >= 2 else 1005
            self._fail(f"close {code}")
            return
        else:
            return
        if not final:
            self.message_kind = kind
            return
        self.message_kind = b""
        if kind.startswith(EVENT):
            seq = int(kind[len(EVENT) :].split(b",", 1)[0])
            self.last_seq = seq
            if self in self.fleet.stalled:
                if seq >= self.fleet.resume_seq:
                    self.fleet.changed.set()
                return
            self.fleet.arrived(seq, now, end - start)
        elif kind.startswith(SNAPSHOT) and not self.ready.done():
            seq = int(kind[len(SNAPSHOT) :].split(b",", 1)[0].rstrip(b"}"))
            self.ready.set_result(seq)

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        self.fleet.lost(self, reason)
        if self.transport is not None:
            self.transport.abort()


class Worker:
    """Carries out the commands read from stdin."""

    def __init__(self) -> None:
        self.fleet = Fleet()
        self.armed_at = 0.0
        self.armed_cpu = 0.0

    async def connect(
        self, targets: list[list[Any]], parallel: int = 200, within: float = 60.0
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(parallel)
        seqs: list[int] = []
        fleet = self.fleet
        started = time.monotonic()
        cpu = cpu_seconds()

        async def one(port: int, path: str, cookie: str) -> None:
            async with gate:
                try:
                    _, connection = await loop.create_connection(
                        lambda: Connection(fleet, "127.0.0.1", port, path, cookie),
                        "127.0.0.1",
                        port,
                    )
                except OSError as error:
                    fleet.failures[type(error).__name__] += 1
                    return
                try:
                    seqs.append(await connection.ready)
                except ConnectionError as error:
                    fleet.failures[str(error)[:60]] += 1
                except asyncio.CancelledError:
                    # Out of time: a connection without its snapshot is dropped, not held.
                    if connection.transport is not None:
                        connection.transport.abort()
                    raise

        tasks = [asyncio.ensure_future(one(*target)) for target in targets]
        done, pending = await asyncio.wait(tasks, timeout=within)
        for task in pending:
            task.cancel()
        return {
            "connected": len(seqs),
            "timed_out": len(pending),
            "failures": dict(fleet.failures),
            "snapshot_seq": max(seqs, default=0),
            "seconds": time.monotonic() - started,
            "cpu": cpu_seconds() - cpu,
        }

    async def arm(self) -> dict[str, Any]:
        self.fleet.arrivals.clear()
        self.fleet.event_size.clear()
        self.armed_cpu = cpu_seconds()
        self.armed_at = time.monotonic()
        return {"armed": True}

    async def collect(self, seq: int, within: float = 10.0) -> dict[str, Any]:
        fleet = self.fleet
        deadline = time.monotonic() + within
        while len(fleet.arrivals.get(seq, ())) < fleet.expected():
            fleet.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fleet.changed.wait(), remaining)
        times = fleet.arrivals.get(seq, [])
        finished = max(times, default=time.monotonic())
        return {
            "times": times,
            "missing": max(0, fleet.expected() - len(times)),
            "size": fleet.event_size.get(seq, 0),
            "cpu": cpu_seconds() - self.armed_cpu,
            "window": max(finished - self.armed_at, 1e-6),
        }

    async def stall(self, count: int) -> dict[str, Any]:
        fleet = self.fleet
        chosen = [c for c in fleet.open if c not in fleet.stalled][:count]
        for connection in chosen:
            if connection.transport is not None:
                connection.transport.pause_reading()
            fleet.stalled.add(connection)
        return {"stalled": len(chosen)}

    async def resume(self, seq: int, within: float = 30.0) -> dict[str, Any]:
        fleet = self.fleet
        fleet.resume_seq = seq
        stalled = list(fleet.stalled)
        for connection in stalled:
            if connection.transport is not None:
                connection.transport.resume_reading()
        deadline = time.monotonic() + within

        def waiting() -> list[Connection]:
            return [c for c in fleet.stalled if c.last_seq < seq]

        while waiting():
            fleet.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fleet.changed.wait(), min(remaining, 1.0))
        caught_up = [c for c in fleet.stalled if c.last_seq >= seq]
        answer = {
            "stalled": len(stalled),
            "closed": dict(fleet.stalled_codes),
            "caught_up": len(caught_up),
            "still_waiting": len(waiting()),
        }
        fleet.stalled.clear()  # the ones still open count as ordinary connections again
        fleet.stalled_codes.clear()
        fleet.resume_seq = 2**62
        return answer

    async def status(self) -> dict[str, Any]:
        return {
            "open": len(self.fleet.open),
            "closed": self.fleet.closed,
            "close_codes": dict(self.fleet.close_codes),
            "failures": dict(self.fleet.failures),
        }

    async def close(self) -> dict[str, Any]:
        for connection in list(self.fleet.open):
            if connection.transport is not None:
                connection.transport.abort()
        await asyncio.sleep(0.2)
        self.fleet = Fleet()
        return {"closed": True}


async def serve() -> None:
    """Read commands from stdin until `exit` or end of input."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    worker = Worker()
    while line := await reader.readline():
        command = json.loads(line)
        name = command.pop("cmd")
        if name == "exit":
            break
        try:
            answer = await getattr(worker, name)(**command)
        except Exception as error:  # report, keep serving: the driver decides
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve())
    else:
        uvloop.run(serve())


if __name__ == "__main__":
    main()
