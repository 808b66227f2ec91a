"""Connections share one snapshot per sequence number instead of each reading the database."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

import app.live.hub as hub_module
from tests.live.helpers import LiveServer, Room, apply_all, fresh_snapshot, recv


async def test_a_wave_of_connections_builds_the_snapshot_once(
    app: FastAPI, room: Room, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    build = hub_module.snapshot_state

    async def counted(session: Any, convening_id: int) -> tuple[int, dict[str, Any]]:
        result = await build(session, convening_id)
        builds.append(result[0])
        return result

    monkeypatch.setattr(hub_module, "snapshot_state", counted)
    # Everyone is already present, so connecting appends no attendance event.
    for seat in [*room.seats, room.facilitator_seat, room.observer_seat]:
        marked = await room.facilitator.put(
            room.url(f"/seats/{seat['id']}/attendance"), json={"attendance": "present"}
        )
        assert marked.status_code == 200
    async with live_server.connect(room.cid, room.observer) as first:
        assert (await recv(first))["type"] == "snapshot"  # the channel now exists
        builds.clear()
        clients = [room.participants[0], room.participants[1], room.facilitator]
        sockets = [live_server.connect(room.cid, c) for c in clients]
        opened = [await s.__aenter__() for s in sockets]
        try:
            snapshots = await asyncio.gather(*(recv(ws) for ws in opened))
            assert {s["type"] for s in snapshots} == {"snapshot"}
            assert len({s["seq"] for s in snapshots}) == 1
            assert all(s["state"] == snapshots[0]["state"] for s in snapshots)
            assert len(builds) <= 1  # one build for the wave, or none if already cached
            seq, fresh = await fresh_snapshot(app, room.cid)
            assert apply_all(snapshots[0]["state"], [], snapshots[0]["seq"]) == fresh
            # After a change, the next connection gets the newer state.
            raised = await room.participants[0].post(room.url("/floor/hand"), json={})
            assert raised.status_code == 201
            await recv(first)  # the event reached this process's channel
            async with live_server.connect(room.cid, room.participants[2]) as late:
                snapshot = await recv(late)
                assert snapshot["seq"] == raised.json()["seq"]
                assert len(snapshot["state"]["floor"]["queue"]) == 1
        finally:
            for s in sockets:
                await s.__aexit__(None, None, None)
