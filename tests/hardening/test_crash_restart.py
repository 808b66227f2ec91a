"""The app process dies (SIGKILL) in the middle of a live convening and is started again on
the same port: nothing acknowledged is lost, and every seat's screen resumes exactly.

PostgreSQL and Redis, as deployed. Fifty seats follow the room over websockets while eight
participants raise and lower hands and make points, and the facilitator calls speakers, all
over HTTP, without pause. The process is killed while requests are in flight; the actions
keep coming (and failing) while it is down; it comes back on the same port.
"""

import asyncio
import itertools
import random
from pathlib import Path

from bench.procs import Processes
from tests.hardening.helpers import (
    NEEDS_POSTGRES_AND_REDIS,
    SETTLE,
    STARTUP,
    LiveClient,
    Outcome,
    Seat,
    behind,
    check_acknowledged,
    check_complete,
    check_record_matches_log,
    event_log,
    fresh_state,
    kill,
    last_seq,
    prepare,
    room_record,
    start_app,
    text_of,
    wait_until,
)

pytestmark = NEEDS_POSTGRES_AND_REDIS

REDIS_URL = "redis://127.0.0.1:6379/13"
SEATS = 50
ACTING = 8  # participants acting over HTTP (they follow the room over websockets as well)
BEFORE_KILL = 40  # actions acknowledged before the kill
AFTER_RESTART = 20  # ... and after the restart


async def test_a_killed_process_loses_nothing_acknowledged_and_every_seat_resumes_exactly(
    processes: Processes, database: str, tmp_path: Path
) -> None:
    room = await prepare(database, tmp_path, SEATS)
    app = await start_app(processes, "app", database, REDIS_URL)
    port = app.port
    facilitator = await Seat.open("facilitator", room, room.facilitator, app)
    actors = [await Seat.open(f"seat{n}", room, room.participants[n], app) for n in range(ACTING)]
    _, state = await fresh_state(app, room)
    item_id = state["agenda"][0]["id"]

    clients = [
        LiveClient(f"seat{n}", room, token, port) for n, token in enumerate(room.participants)
    ]
    for client in clients:
        client.begin()
    await wait_until(
        lambda: all(c.connected for c in clients),
        STARTUP,
        lambda: f"not every seat connected: {[c.drops for c in clients if not c.connected]}",
    )

    outcomes: list[Outcome] = []
    inflight: dict[int, Outcome] = {}
    stop = asyncio.Event()

    async def keep_acting(seat: Seat, cycle: tuple[str, ...], pause: float) -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            outcome = await seat.act(room, cycle[n % len(cycle)], item_id, inflight)
            outcomes.append(outcome)
            # While the process is down, try again a little later, as a person would.
            await asyncio.sleep(0.3 if outcome.error else random.uniform(0, pause))

    def acknowledged_after(seq: int) -> int:
        return sum(1 for o in outcomes if o.acknowledged and o.body["seq"] > seq)

    participant_cycle = ("raise", "contribute", "lower", "contribute")
    acting = [asyncio.create_task(keep_acting(seat, participant_cycle, 0.1)) for seat in actors]
    acting.append(asyncio.create_task(keep_acting(facilitator, ("next",), 0.4)))
    try:
        await wait_until(
            lambda: acknowledged_after(0) >= BEFORE_KILL,
            STARTUP,
            lambda: f"actions were not acknowledged: {outcomes[-5:]}",
        )
        # Kill the process while requests are in flight.
        await wait_until(lambda: bool(inflight), STARTUP, "no request was ever in flight")
        in_flight_at_kill = list(inflight.values())  # kill() sends SIGKILL before it waits
        await kill(processes, "app")
        seq_at_kill = last_seq(database, room.cid)

        await asyncio.sleep(1.0)  # down for a while: actions fail, seats retry
        app = await start_app(processes, "app-again", database, REDIS_URL, port=port)
        await wait_until(
            lambda: acknowledged_after(seq_at_kill) >= AFTER_RESTART,
            STARTUP,
            lambda: (
                f"no action acknowledged after the restart: {outcomes[-5:]}\n"
                + text_of(processes, "app-again")
            ),
        )
    finally:
        stop.set()
        await asyncio.gather(*acting)

    final = last_seq(database, room.cid)
    await wait_until(
        lambda: all(c.seq == final for c in clients),
        SETTLE,
        lambda: behind(clients, final) + "\n" + text_of(processes, "app-again"),
    )
    for client in clients:
        await client.stop()
    for seat in (facilitator, *actors):
        await seat.close()

    log = event_log(database, room.cid)
    record = await room_record(app, room)
    fresh_seq, fresh = await fresh_state(app, room)
    assert fresh_seq == final == max(log)
    assert sorted(log) == list(range(1, final + 1)), "the event log has a gap"

    # Every action answered 2xx before the kill (or after the restart) is there.
    assert check_acknowledged(outcomes, log, record) == []
    assert check_record_matches_log(log, record) == []
    # What was in flight at the kill got no answer, or an answer and it is there.
    assert in_flight_at_kill, "nothing was in flight at the kill"
    assert check_acknowledged(in_flight_at_kill, log, record) == []
    unanswered = [o for o in outcomes if o.error is not None]
    assert unanswered, "no action failed while the process was down"
    assert final > seq_at_kill, "nothing happened after the restart"

    # Every seat came back by itself, from the last event it applied, and holds every
    # event exactly once, in order, up to the last one, and the room as it is.
    for client in clients:
        assert client.opened >= 2 and client.resumed, (client.name, client.drops)
    problems = [p for c in clients for p in check_complete(c, log, final, fresh)]
    assert problems == []
