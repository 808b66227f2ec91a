"""Subprocesses of the benchmark: started with the file limit raised, always killed at the end.

Every process is started in its own session (so it leads its own process group), with its
soft RLIMIT_NOFILE raised to the hard limit, and with its output in a log file. `stop_all`
ends each group this run started, by its id: SIGTERM, then SIGKILL after a grace period.
"""

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx


def raise_file_limit() -> None:
    """Raise this process's soft open-file limit to the hard limit (runs in each child)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_idle(pids: list[int], busy: float = 0.05, within: float = 60.0) -> bool:
    """Wait until the processes together use under `busy` of a core over one second."""
    deadline = time.monotonic() + within
    while True:
        used = sum(cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(1.0)
        if sum(cpu_seconds(pid) for pid in pids) - used < busy:
            return True
        if time.monotonic() > deadline:
            return False


def _log(path: Path) -> IO[bytes]:
    return path.open("ab")


class Processes:
    """The subprocesses this run started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: dict[str, asyncio.subprocess.Process] = {}

    async def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, pipe: bool = False
    ) -> asyncio.subprocess.Process:
        """Start a process; with `pipe`, its stdin and stdout are pipes (stderr: a log)."""
        log = _log(self.folder / f"{name}.log")
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if pipe else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE if pipe else log,
                stderr=log,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                preexec_fn=raise_file_limit,
                limit=2**26,
            )
        finally:
            log.close()
        self.running[name] = process
        return process

    async def stop(self, name: str, grace: float = 5.0) -> None:
        """End one process (and its group): SIGTERM, then SIGKILL after `grace` seconds."""
        process = self.running.pop(name, None)
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def stop_all(self) -> None:
        """End every process still running."""
        await asyncio.gather(*(self.stop(name) for name in list(self.running)))

    def kill_all_now(self) -> None:
        """SIGKILL every group at once (for exits where nothing can be awaited)."""
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The end of a process's log, to explain a failure."""
        path = self.folder / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def wait_http(url: str, process: asyncio.subprocess.Process, within: float = 30) -> None:
    """Wait until a GET on `url` answers 200 (fails early if the process died)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{url}: the server exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url, timeout=2)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {within} s")
            await asyncio.sleep(0.1)


async def wait_port(port: int, process: asyncio.subprocess.Process, within: float = 30) -> None:
    """Wait until something accepts TCP connections on the port."""
    deadline = time.monotonic() + within
    while True:
        if process.returncode is not None:
            raise RuntimeError(f"port {port}: the server exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {port} did not open within {within} s") from None
            await asyncio.sleep(0.1)
        else:
            writer.close()
            return


class ClientWorker:
    """A `bench.client` process, driven one JSON command at a time."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name

    @classmethod
    async def start(cls, processes: Processes, name: str) -> "ClientWorker":
        process = await processes.start(name, [sys.executable, "-m", "bench.client"], pipe=True)
        return cls(process, name)

    async def call(self, cmd: str, **arguments: Any) -> dict[str, Any]:
        """Send a command and return the worker's answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **arguments}) + "\n").encode())
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"client worker {self.name} exited")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"client worker {self.name}: {answer['error']}")
        return answer
