"""Redis goes away during a live convening served by two app processes, and comes back.

A Redis server of the test's own (the shared one on 6379 is left alone), killed and started
again on the same port, or frozen (SIGSTOP) and thawed.

Killed: twenty seats follow the room over websockets, half through each process, and one
seat long-polls each process; participants act through both. While Redis is down, writes
keep working, each process's clients keep receiving what is caused through it, and events
caused on the other process reach them from the database when they reconnect or poll. When
Redis is back, changes made through one process reach the clients of the other again
without them reconnecting, and every client ends with every event, once each, in order.

Frozen: writes are still answered and new connections still get the room.
"""

import signal
from collections.abc import Sequence
from pathlib import Path

from bench.procs import Processes, free_port
from tests.hardening.helpers import (
    NEEDS_POSTGRES_AND_REDIS,
    SETTLE,
    STARTUP,
    App,
    LiveClient,
    Outcome,
    Poller,
    Room,
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
    send_signal,
    start_app,
    start_redis,
    text_of,
    wait_until,
)

pytestmark = NEEDS_POSTGRES_AND_REDIS

SEATS = 20
POLL_WAIT = 2.0  # seconds a long poll may wait (live.js waits longer; this keeps the test short)


async def one_round(seats: list[Seat], room: Room, item_id: int) -> list[Outcome]:
    """Each acting seat raises its hand, then makes a point, then lowers its hand, through
    the process it uses: every one of these must be acknowledged."""
    outcomes = []
    for action in ("raise", "contribute", "lower"):
        for seat in seats:
            outcome = await seat.act(room, action, item_id)
            assert outcome.acknowledged, (outcome, "a write failed")
            outcomes.append(outcome)
    return outcomes


def last_caused_via(outcomes: list[Outcome], app: App) -> int:
    return max(o.body["seq"] for o in outcomes if o.via == app.name)


async def test_writes_and_delivery_survive_losing_redis_and_live_push_resumes(
    processes: Processes, database: str, tmp_path: Path
) -> None:
    redis_port = free_port()
    await start_redis(processes, "redis", redis_port)
    broker = f"redis://127.0.0.1:{redis_port}/0"
    room = await prepare(database, tmp_path, SEATS)
    a = await start_app(processes, "a", database, broker)
    b = await start_app(processes, "b", database, broker)
    logs = ("a", "b")
    _, state = await fresh_state(a, room)
    item_id = state["agenda"][0]["id"]

    # Even seats follow the room through A, odd ones through B. The first half never
    # reconnects during the test; the second half is made to reconnect during the outage.
    clients = [
        LiveClient(f"seat{n}@{(a, b)[n % 2].name}", room, token, (a, b)[n % 2].port)
        for n, token in enumerate(room.participants)
    ]
    steady, reconnecting = clients[: SEATS // 2], clients[SEATS // 2 :]
    pollers = [
        Poller("poller@a", room, room.participants[0], a.url, POLL_WAIT),
        Poller("poller@b", room, room.participants[1], b.url, POLL_WAIT),
    ]
    followers: list[LiveClient | Poller] = [*clients, *pollers]
    for follower in followers:
        follower.begin()
    await wait_until(
        lambda: all(c.connected for c in clients) and all(p.seq for p in pollers),
        STARTUP,
        lambda: f"not every seat connected: {[c.drops for c in clients if not c.connected]}",
    )
    acting = [
        await Seat.open(f"seat{n}", room, room.participants[n], (a, b)[n % 2]) for n in range(2, 6)
    ]
    outcomes: list[Outcome] = []

    async def all_reach(seq: int, who: Sequence[LiveClient | Poller]) -> None:
        await wait_until(
            lambda: all(f.seq is not None and f.seq >= seq for f in who),
            SETTLE,
            lambda: behind(list(who), seq) + "\n" + text_of(processes, *logs),
        )

    try:
        # Redis up: a change through either process reaches every client.
        outcomes += await one_round(acting, room, item_id)
        await all_reach(last_seq(database, room.cid), followers)

        # Redis down. Writes keep working through both processes.
        await kill(processes, "redis")
        outage = await one_round(acting, room, item_id)
        outcomes += outage
        during = last_seq(database, room.cid)
        # Each process's clients keep receiving what is caused through it...
        for app in (a, b):
            mine = [c for c in steady if c.port == app.port]
            await all_reach(last_caused_via(outage, app), mine)
        # ... and everything, from the database, when they poll or reconnect.
        await all_reach(during, pollers)
        for client in reconnecting:
            await client.reconnect()
        await wait_until(
            lambda: all(c.connected and c.resumed for c in reconnecting),
            SETTLE,
            lambda: f"seats did not reconnect: {[c.drops for c in reconnecting]}",
        )
        await all_reach(during, reconnecting)

        # Redis back. Without reconnecting, the clients of each process get what is
        # caused through the other again: one change through B, then one through A.
        await start_redis(processes, "redis-again", redis_port)
        for seat in (acting[1], acting[0]):
            outcome = await seat.act(room, "contribute", item_id)
            assert outcome.acknowledged, outcome
            outcomes.append(outcome)
            await all_reach(outcome.body["seq"], followers)
        outcomes += await one_round(acting, room, item_id)
        final = last_seq(database, room.cid)
        await all_reach(final, followers)
        # The steady half never lost its connection: live push, not reconnection, brought
        # it every event, including those caused on the other process around the outage.
        assert all(c.opened == 1 and not c.drops for c in steady), [c.drops for c in steady]
    finally:
        for follower in followers:
            await follower.stop()
        for seat in acting:
            await seat.close()

    log = event_log(database, room.cid)
    record = await room_record(b, room)
    fresh_seq, fresh = await fresh_state(a, room)
    assert fresh_seq == final == max(log)
    assert check_acknowledged(outcomes, log, record) == []
    assert check_record_matches_log(log, record) == []
    problems = [p for f in followers for p in check_complete(f, log, final, fresh)]
    assert problems == []


FROZEN_SEATS = 10
ANSWER_WITHIN = 15.0  # seconds a write may take while Redis does not answer (a hang is forever)


async def test_a_redis_that_stops_answering_holds_up_neither_writes_nor_new_connections(
    processes: Processes, database: str, tmp_path: Path
) -> None:
    """Redis frozen (SIGSTOP), as a hung host or a network partition that drops packets: its
    port still accepts connections, nothing answers. Writes must still be answered, and a seat
    connecting to a process that has no subscription for the convening yet must still get
    the room; once Redis answers again, every client gets every event."""
    redis_port = free_port()
    await start_redis(processes, "redis", redis_port)
    broker = f"redis://127.0.0.1:{redis_port}/0"
    room = await prepare(database, tmp_path, FROZEN_SEATS)
    a = await start_app(processes, "a", database, broker)
    b = await start_app(processes, "b", database, broker)
    _, state = await fresh_state(a, room)
    item_id = state["agenda"][0]["id"]
    early = [LiveClient(f"seat{n}@a", room, room.participants[n], a.port) for n in range(5)]
    for client in early:
        client.begin()
    await wait_until(lambda: all(c.connected for c in early), STARTUP, "seats did not connect")
    # Both act; only A has the convening open (B is written to, nobody follows it there).
    acting = [
        await Seat.open(f"seat{n}", room, room.participants[n], a, answer_within=ANSWER_WITHIN)
        for n in (5, 6)
    ]
    acting[1].use(b)
    late: list[LiveClient] = []
    outcomes: list[Outcome] = []
    try:
        send_signal(processes, "redis", signal.SIGSTOP)
        try:
            for seat, action in ((acting[0], "raise"), (acting[1], "contribute")):
                outcome = await seat.act(room, action, item_id)
                assert outcome.acknowledged, (outcome, "a write waited for a frozen Redis")
                outcomes.append(outcome)
            # A's clients get what is caused through A.
            mine = last_caused_via(outcomes, a)
            await wait_until(
                lambda: all(c.seq is not None and c.seq >= mine for c in early),
                SETTLE,
                lambda: behind(early, mine),
            )
            # Seats connecting to B now get the room (B opens the convening's channel).
            late = [
                LiveClient(f"seat{n}@b", room, room.participants[n], b.port)
                for n in range(7, FROZEN_SEATS)
            ]
            for client in late:
                client.begin()
            await wait_until(
                lambda: all(c.connected for c in late),
                ANSWER_WITHIN,
                lambda: (
                    "seats connecting while Redis is frozen never got the room: "
                    f"{[c.drops for c in late]}\n" + text_of(processes, "b")
                ),
            )
        finally:
            send_signal(processes, "redis", signal.SIGCONT)

        # Redis answers again: everyone ends with every event.
        for seat, action in ((acting[1], "raise"), (acting[0], "lower")):
            outcome = await seat.act(room, action, item_id)
            assert outcome.acknowledged, outcome
            outcomes.append(outcome)
        final = last_seq(database, room.cid)
        followers = [*early, *late]
        await wait_until(
            lambda: all(c.seq == final for c in followers),
            SETTLE,
            lambda: behind(followers, final) + "\n" + text_of(processes, "a", "b"),
        )
    finally:
        for client in [*early, *late]:
            await client.stop()
        for seat in acting:
            await seat.close()

    log = event_log(database, room.cid)
    record = await room_record(a, room)
    _, fresh = await fresh_state(b, room)
    assert check_acknowledged(outcomes, log, record) == []
    problems = [p for c in followers for p in check_complete(c, log, final, fresh)]
    assert problems == []
