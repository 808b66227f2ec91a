"""The live room's read side: a websocket that pushes, and a long-polling fallback.

Actions are HTTP calls elsewhere; these endpoints only deliver. Both start from a snapshot
(or replay the events after the client's last sequence number), then stream, in order, with
no gap and no duplicate.
"""

import asyncio
import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel
from starlette.requests import HTTPConnection

from app.authz import Access, Action, Watch, allows, resolve_access
from app.db import SessionDep, commit
from app.live import service
from app.live.hub import DROPPED, LEFT, UNBOUND, Client, Hub

router = APIRouter(prefix="/api/convenings/{convening_id}", tags=["live"])

CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4008  # the client fell too far behind; reconnect with `since`
CLOSE_GOING_AWAY = 1012  # the server is restarting; reconnect


class Poll(BaseModel):
    """What a poll returns: a snapshot when the client must start again, then events."""

    snapshot: dict[str, Any] | None
    events: list[dict[str, Any]]
    presence: list[int]
    last_seq: int


def _hub(connection: HTTPConnection) -> Hub:
    return connection.app.state.hub  # type: ignore[no-any-return]


def _you(access: Access) -> dict[str, Any]:
    return {
        "actor": access.actor.value,
        "seat_id": access.seat.id if access.seat else None,
    }


async def _authorize(connection: HTTPConnection, convening_id: int) -> Access | int:
    """The caller's access to watch the room, or the close code that refuses it."""
    async with connection.app.state.sessionmaker() as session:
        try:
            access = await resolve_access(connection, session, convening_id)  # type: ignore[arg-type]
        except HTTPException:
            return CLOSE_NOT_FOUND
        if not allows(access.actor, Action.watch):
            return CLOSE_FORBIDDEN
        if access.seat is not None:
            session.info["convene.publisher"] = _hub(connection)
            await service.mark_present(session, convening_id, access.seat.id)  # type: ignore[arg-type]
            await commit(session)
        return access


@router.websocket("/live")
async def live(
    websocket: WebSocket, convening_id: int, since: Annotated[int | None, Query()] = None
) -> None:
    """Push the room: a snapshot or the missed events, then every event as it happens."""
    access = await _authorize(websocket, convening_id)
    if isinstance(access, int):
        await websocket.close(code=access)
        return
    await websocket.accept()
    hub = _hub(websocket)
    client = Client(seat_id=access.seat.id if access.seat else None)
    channel = await hub.attach(convening_id, client)
    # The receiver reads (and ignores) what the client sends; when the client leaves it puts
    # LEFT in the queue, so the loop below needs one plain `await` per message and no
    # task or timer of its own (heartbeats come from the hub's timer, to every client).
    receiver = asyncio.create_task(_drain_incoming(websocket, client))
    try:
        last_sent = await _catch_up(websocket, convening_id, since, channel.presence(), access)
        while True:
            seq, text = await client.queue.get()
            if (seq, text) == LEFT:
                return
            if (seq, text) == UNBOUND:
                await websocket.close(code=CLOSE_NOT_FOUND)
                return
            if (seq, text) == DROPPED:
                await websocket.close(code=CLOSE_TOO_SLOW if client.dropped else CLOSE_GOING_AWAY)
                return
            if seq == 0:  # presence: not part of the log
                await websocket.send_text(text)
                continue
            if seq <= last_sent:
                continue
            if seq > last_sent + 1:
                last_sent = await _send_missing(websocket, convening_id, last_sent, seq)
            await websocket.send_text(text)
            last_sent = seq
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver
        await hub.detach(convening_id, client)


async def _drain_incoming(websocket: WebSocket, client: Client) -> None:
    """Read and ignore what the client sends (the socket only pushes); when it leaves, tell
    the sending loop."""
    try:
        await _read_until_gone(websocket)
    finally:
        client.leave()


async def _read_until_gone(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _catch_up(
    websocket: WebSocket, convening_id: int, since: int | None, presence: list[int], access: Access
) -> int:
    async with websocket.app.state.sessionmaker() as session:
        needs_snapshot = await service.needs_snapshot(session, convening_id, since)
    if needs_snapshot:
        # The state is serialized once per sequence number and shared by every connection.
        seq, state_text = await _hub(websocket).snapshot(convening_id)
        extra = json.dumps({"presence": presence, "you": _you(access)}, separators=(",", ":"))
        await websocket.send_text(
            f'{{"type":"snapshot","seq":{seq},"state":{state_text},{extra[1:]}'
        )
        return seq
    async with websocket.app.state.sessionmaker() as session:
        assert since is not None
        last_sent = since
        await websocket.send_text(
            json.dumps({"type": "resume", "seq": since, "presence": presence, "you": _you(access)})
        )
        while True:
            events = await service.events_after(session, convening_id, last_sent)
            for event in events:
                await websocket.send_text(json.dumps(event, separators=(",", ":")))
                last_sent = event["seq"]
            if len(events) < service.MAX_REPLAY:
                return last_sent


async def _send_missing(websocket: WebSocket, convening_id: int, last_sent: int, upto: int) -> int:
    async with websocket.app.state.sessionmaker() as session:
        for event in await service.events_after(
            session, convening_id, last_sent, upto - last_sent - 1
        ):
            await websocket.send_text(json.dumps(event, separators=(",", ":")))
            last_sent = event["seq"]
    return last_sent


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
    maker = request.app.state.sessionmaker
    hub = _hub(request)
    if access.seat is not None:
        await service.mark_present(session, convening_id, access.seat.id)  # type: ignore[arg-type]
    # End the request's transaction now: a long poll must not hold the database.
    await commit(session)
    client = Client()
    channel = await hub.attach(convening_id, client)
    if access.seat is not None:
        await hub.touch(convening_id, access.seat.id)  # type: ignore[arg-type]
    try:
        async with maker() as reader:
            if await service.needs_snapshot(reader, convening_id, since):
                seq, state = await service.snapshot(reader, convening_id)
                snap = {"type": "snapshot", "seq": seq, "state": state, "you": _you(access)}
                return Poll(snapshot=snap, events=[], presence=channel.presence(), last_seq=seq)
            assert since is not None
            events = await service.events_after(reader, convening_id, since)
        if not events and wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_next_event(client), wait)
            async with maker() as reader:
                events = await service.events_after(reader, convening_id, since)
        last = events[-1]["seq"] if events else since
        return Poll(snapshot=None, events=events, presence=channel.presence(), last_seq=last)
    finally:
        await hub.detach(convening_id, client)


async def _next_event(client: Client) -> None:
    while True:
        seq, _ = await client.queue.get()
        if seq != 0:
            return
