"""Convene as it runs in production (uvicorn, `--factory`, in its own process): its log is JSON
lines that never hold a link token, and when it is told to stop (SIGTERM) it closes live
clients with 1012 ("service restart", so they reconnect) and exits cleanly."""

import json
import signal
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.operations.serving import cookie_header, served, take_a_seat

# uvicorn shuts down gracefully, then lets the signal end the process as it would have.
STOPPED = (0, -signal.SIGTERM)
LEAKY_QUERY = "k7Qm2xVb9RtY4pLw8NcZ3sHd6FjG5aUe"


def test_the_log_is_json_lines_without_link_tokens(tmp_path: Path) -> None:
    with served(tmp_path) as server:  # uvicorn's access log on, as by default
        seat = take_a_seat(server)
        progress = "UHJvZ3Jlc3MtbGluay10b2tlbi10aGF0LW11c3Qtbm90LWxlYWs"
        with server.client() as anyone:
            assert anyone.get(f"/join/{seat.token}").status_code == 409  # taken: by the seat
            assert anyone.get(f"/api/invitations/{seat.token}").status_code == 200
            assert anyone.get(f"/progress/{progress}").status_code == 404
            assert anyone.get(f"/sign-in?next=/join/{seat.token}").status_code == 200
            assert anyone.get(f"/sign-in?token={LEAKY_QUERY}").status_code == 200
        seat.browser.close()
        assert server.terminate() in STOPPED
        output = server.output()

    for secret in (seat.token, progress, LEAKY_QUERY):
        assert secret not in output
    lines = server.json_lines()  # every line parses
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    paths = {(line["method"], line["path"], line["status"]) for line in access}
    assert ("GET", "/join/[redacted]", 409) in paths
    assert ("GET", "/api/invitations/[redacted]", 200) in paths
    assert ("GET", "/progress/[redacted]", 404) in paths
    assert ("POST", "/api/invitations/redeem", 200) in paths  # no token there: kept
    assert ("GET", "/sign-in?token=[redacted]", 200) in paths
    assert any(line["message"].startswith("Application startup complete") for line in lines)


def test_sigterm_tells_live_clients_to_reconnect_and_exits_cleanly(tmp_path: Path) -> None:
    with served(tmp_path, "--no-access-log") as server:
        seat = take_a_seat(server)
        with server.client() as probe:
            assert probe.get("/readyz").json()["status"] == "ok"
        url = server.url.replace("http://", "ws://") + f"/api/convenings/{seat.convening_id}/live"
        headers = {"Cookie": cookie_header(seat.browser)}
        with connect(url, additional_headers=headers, open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
            assert server.terminate() in STOPPED
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012  # service restart: live.js reconnects
        seat.browser.close()
        lines = server.json_lines()
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]  # as asked
    messages = [line["message"] for line in lines]
    for step in ("Shutting down", "Application shutdown complete.", "Finished server process"):
        assert any(m.startswith(step) for m in messages), (step, messages)
