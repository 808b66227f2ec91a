"""The live room's read side: a websocket that pushes, and a long-polling fallback.

Actions are HTTP calls elsewhere; these endpoints only deliver. Both start from a snapshot
(or replay the events after the client's last sequence number), then stream, in order, with
no gap and no duplicate.

The websocket is a bare ASGI app (`LiveSocket`), not a FastAPI endpoint: an open connection
holds only what it needs (its `Client`: a few ids and the ASGI `send`), and the channel's
task writes each event to its socket directly. It authorizes with the one permission table
(`app.authz`), like every route. `LiveRoom` serves the same socket as an ASGI middleware,
ahead of FastAPI's middleware and routing, for a lighter connection still.
"""

import asyncio
import contextlib
import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from starlette.requests import HTTPConnection
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.authz import Action, Actor, Watch, allows, resolve_access
from app.convenings.models import Attendance, ConveningStatus
from app.db import SessionDep, commit
from app.live import service
from app.live.hub import (
    CLOSE_FORBIDDEN,
    CLOSE_GOING_AWAY,
    CLOSE_NOT_FOUND,
    CLOSE_TOO_SLOW,
    Client,
    Hub,
    raw_socket,
)
from app.live.log import PUBLISHER

__all__ = [
    "CLOSE_FORBIDDEN",
    "CLOSE_GOING_AWAY",
    "CLOSE_NOT_FOUND",
    "CLOSE_TOO_SLOW",
    "LIVE_PATH",
    "LiveRoom",
    "LiveSocket",
    "router",
]

LIVE_PATH = "/api/convenings/{convening_id}/live"
_LIVE_PATH = re.compile(r"/api/convenings/(?P<convening_id>[^/]+)/live")

router = APIRouter(prefix="/api/convenings/{convening_id}", tags=["live"])


class Poll(BaseModel):
    """What a poll returns: a snapshot when the client must start again, then events."""

    snapshot: dict[str, Any] | None
    events: list[dict[str, Any]]
    presence: list[int]
    last_seq: int


def _hub(app: Any) -> Hub:
    return app.state.hub  # type: ignore[no-any-return]


def _you(actor: Actor, seat_id: int | None) -> dict[str, Any]:
    return {"actor": actor.value, "seat_id": seat_id}


# The websocket ------------------------------------------------------------------------------


class LiveSocket:
    """`GET /api/convenings/{id}/live` as a bare ASGI app, mounted by the router."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve(scope, receive, send, str(scope.get("path_params", {}).get("convening_id")))


class LiveRoom:
    """ASGI middleware serving the room's websocket before the rest of the stack (FastAPI's
    exception handling, dependency stack and routing), everything else passed through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            match = _LIVE_PATH.fullmatch(scope["path"])
            if match is not None:
                await serve(scope, receive, send, match["convening_id"])
                return
        await self.app(scope, receive, send)


router.routes.append(WebSocketRoute(LIVE_PATH, LiveSocket(), name="live"))


async def serve(scope: Scope, receive: Receive, send: Send, convening: str) -> None:
    """Push the room: a snapshot or the missed events, then every event as it happens.

    The seat cookie authorizes the connection (anyone who may not watch is refused with
    4404, or 4403). The client is attached to the channel first, so events arriving while
    its snapshot or replay goes out wait in its backlog; then the channel sends directly.
    """
    if (await receive())["type"] != "websocket.connect":
        return
    app = scope["app"]
    hub = _hub(app)
    convening_id = int(convening) if convening.isdigit() else None
    who = await _authorize(app, hub, scope, convening_id) if convening_id else CLOSE_NOT_FOUND
    if isinstance(who, int):
        await send({"type": "websocket.close", "code": who, "reason": ""})
        return
    assert convening_id is not None
    since = _since(scope)
    # The request's headers are not needed any more: not kept for the connection's life.
    scope["headers"] = []
    await send({"type": "websocket.accept"})
    actor, seat_id = who
    client = Client(send, seat_id, raw_socket(receive))
    try:
        await hub.attach(convening_id, client)
        await _start(hub, client, convening_id, since, _you(actor, seat_id))
        await client.drain()  # what arrived meanwhile; from now on the channel sends
        # The socket only pushes: what the client sends is read and ignored, until it goes.
        while (await receive())["type"] != "websocket.disconnect":
            pass
    except (OSError, RuntimeError):  # the client went away while we were sending
        pass
    finally:
        client.end()


def _since(scope: Scope) -> int | None:
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name == "since":
            with contextlib.suppress(ValueError):
                return int(value)
    return None


async def _authorize(
    app: Any, hub: Hub, scope: Scope, convening_id: int
) -> tuple[Actor, int | None] | int:
    """The caller's role and seat if it may watch the room, or the close code refusing it.
    Reads without the write lock; a seat joining a live room is then marked present."""
    connection = HTTPConnection(scope)
    async with hub.reader() as session:
        try:
            access = await resolve_access(connection, session, convening_id)  # type: ignore[arg-type]
        except HTTPException:
            return CLOSE_NOT_FOUND
        finally:
            scope.pop("convene.convener", None)  # cached by resolve_access: not kept
        if not allows(access.actor, Action.watch):
            return CLOSE_FORBIDDEN
        seat = access.seat
        seat_id = seat.id if seat is not None else None
        mark = (
            seat is not None
            and seat.attendance != Attendance.present
            and access.convening.status == ConveningStatus.live
        )
        actor = access.actor
    if mark:
        assert seat_id is not None
        async with app.state.sessionmaker() as session:
            session.info[PUBLISHER] = hub
            await service.mark_present(session, convening_id, seat_id)
            await commit(session)
    return actor, seat_id


async def _start(
    hub: Hub, client: Client, convening_id: int, since: int | None, you: dict[str, Any]
) -> None:
    """Send the snapshot (shared by every connection at that sequence number), or `resume`
    and the events after `since` from the log."""
    channel = client.channel
    presence = channel.presence_json() if channel is not None else "[]"
    mine = json.dumps(you, separators=(",", ":"))
    if since is None or since < 0:
        needs_snapshot = True
    else:
        async with hub.reader() as session:
            needs_snapshot = await service.needs_snapshot(session, convening_id, since)
    if needs_snapshot:
        seq, state = await hub.snapshot(convening_id)
        client.last_seq = seq
        text = (  # one string built once: the state is the bulk of it
            f'{{"type":"snapshot","seq":{seq},"state":{state},"presence":{presence},"you":{mine}}}'
        )
        del state
        await client.send({"type": "websocket.send", "text": text})
        return
    assert since is not None
    client.last_seq = since
    resume = f'{{"type":"resume","seq":{since},"presence":{presence},"you":{mine}}}'
    await client.send({"type": "websocket.send", "text": resume})
    while not client.closing:
        async with hub.reader() as session:
            events = await service.events_after(session, convening_id, client.last_seq)
        for event in events:
            await client.send(
                {"type": "websocket.send", "text": json.dumps(event, separators=(",", ":"))}
            )
            client.last_seq = event["seq"]
        if len(events) < service.MAX_REPLAY:
            return


# Long polling -------------------------------------------------------------------------------


@router.get("/events", response_model=Poll)
async def poll(
    request: Request,
    access: Watch,
    session: SessionDep,
    since: Annotated[int | None, Query(ge=0)] = None,
    wait: Annotated[float, Query(ge=0, le=30)] = 25.0,
) -> Poll:
    """Long-polling fallback: events after `since` (waiting up to `wait` seconds for one),
    or a snapshot when the client has none or is too far behind."""
    convening_id = access.convening.id
    assert convening_id is not None
    hub = _hub(request.app)
    seat_id = access.seat.id if access.seat is not None else None
    you = _you(access.actor, seat_id)
    if seat_id is not None:
        await service.mark_present(session, convening_id, seat_id)
    # End the request's transaction now: a long poll must not hold the database.
    await commit(session)
    async with hub.watching(convening_id) as channel:
        if seat_id is not None:
            await hub.touch(convening_id, seat_id)
        async with hub.reader() as reader:
            if await service.needs_snapshot(reader, convening_id, since):
                seq, state = await service.snapshot(reader, convening_id)
                snap = {"type": "snapshot", "seq": seq, "state": state, "you": you}
                return Poll(snapshot=snap, events=[], presence=channel.presence(), last_seq=seq)
            assert since is not None
            events = await service.events_after(reader, convening_id, since)
        if not events and wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(channel.wait_past(since), wait)
            async with hub.reader() as reader:
                events = await service.events_after(reader, convening_id, since)
        last = events[-1]["seq"] if events else since
        return Poll(snapshot=None, events=events, presence=channel.presence(), last_seq=last)
