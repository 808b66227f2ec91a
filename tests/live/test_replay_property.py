"""Replaying the log from any point onto the state at that point gives the fresh state.

Random sequences of live actions go through the HTTP API (invalid ones are refused with
409/422 and are part of the randomness). After each action the fresh snapshot and its
sequence number are recorded; at the end, for every recorded (seq, state), the events
after seq (as the polling endpoint serves them) applied to state give the final snapshot.
Two snapshots at the same sequence number are equal (a refused action changes nothing).
"""

from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from tests.conftest import SeatBrowser
from tests.live.helpers import ACTIONS, apply_all, fresh_snapshot, make_room, perform

# Floor traffic mostly, so that most actions change the room; the rest now and then.
WEIGHTS = {"hand": 3, "next": 2, "attendance": 3, "start_item": 2}
WEIGHTED = sorted({name: WEIGHTS.get(name, 1) for name in ACTIONS}.items())
action = st.tuples(
    st.sampled_from([name for name, weight in WEIGHTED for _ in range(weight)]),
    st.integers(0, 7),
    st.integers(0, 7),
)

# One run through every action that succeeds, so each kind of event is always covered.
EVERY_ACTION = [
    ("attendance", 0, 0),  # participants 0, 1, 2 present (tours need present seats)
    ("attendance", 2, 1),
    ("attendance", 4, 2),
    ("hand", 0, 0),
    ("hand", 1, 1),  # a point of order: it goes first
    ("hand", 2, 0),
    ("reorder", 0, 3),
    ("next", 0, 0),  # participant 1 speaks to the point of order
    ("hand", 0, 2),  # participant 0 replies directly
    ("call", 0, 2),  # participant 2 is called out of turn
    ("end_turn", 0, 0),
    ("order", 0, 1),
    ("lower", 0, 3),  # participant 0 withdraws both requests
    ("hand", 0, 0),
    ("order", 0, 2),
    ("pause", 0, 0),
    ("resume", 0, 0),
    ("tour", 0, 1),
    ("pass", 1, 0),  # participant 1 passes ahead of its turn
    ("next", 0, 0),
    ("pass_for", 0, 2),
    ("end_tour", 0, 0),
    ("next", 0, 0),
    ("start_item", 0, 1),  # item 0 completes, item 1 opens
    ("complete_item", 0, 1),
]


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: keeps a failure bounded in time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(action, min_size=10, max_size=25))
@example(actions=EVERY_ACTION)
async def test_replaying_events_onto_any_snapshot_gives_the_fresh_snapshot(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser, actions: list[Any]
) -> None:
    room = await make_room(convener, seated, participants=3, items=3)
    seq, state = await fresh_snapshot(app, room.cid)
    recorded = [(seq, state, "start")]
    for name, a, b in actions:
        status = await perform(room, state, name, a, b)
        seq, state = await fresh_snapshot(app, room.cid)
        recorded.append((seq, state, f"{name}({a},{b})->{status}"))
    final_seq, final = await fresh_snapshot(app, room.cid)
    note(f"actions: {[r[2] for r in recorded]}")
    at_seq: dict[int, tuple[int, dict[str, Any], str]] = {}
    for at, (seq, state, label) in enumerate(recorded):
        if seq in at_seq:  # an action that changed nothing (refused, say) left no trace
            assert state == at_seq[seq][1], f"same seq {seq}, other state after {label}"
        else:
            at_seq[seq] = (at, state, label)
    for seq, (at, state, label) in at_seq.items():
        response = await convener.get(room.url("/events"), params={"since": seq, "wait": 0})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["snapshot"] is None
        assert body["last_seq"] == final_seq
        events = body["events"]
        assert [e["seq"] for e in events] == list(range(seq + 1, final_seq + 1))
        replayed = apply_all(state, events, seq)
        if replayed != final:
            kinds = [e["kind"] for e in events]
            parts = [k for k in final if replayed.get(k) != final[k]]
            raise AssertionError(
                f"replay from #{at} (after {label}, seq {seq}) differs in {parts}; "
                f"events replayed: {kinds}"
            )
