"""The floor: a fair speakers' queue, run by the facilitator, pushed to every seat."""

from typing import Any

import httpx
import pytest

from tests.conftest import SeatBrowser


@pytest.fixture
async def room(
    convener: httpx.AsyncClient, convening: dict[str, Any], seated: SeatBrowser
) -> dict[str, Any]:
    """A live convening with its first item open: a facilitator, three participants, an observer."""
    cid = convening["id"]
    gov = (
        await convener.post(f"/api/convenings/{cid}/groups", json={"preset": "government"})
    ).json()
    civ = (
        await convener.post(f"/api/convenings/{cid}/groups", json={"preset": "civil_society"})
    ).json()
    items = []
    for title in ("Opening", "Discussion"):
        response = await convener.post(
            f"/api/convenings/{cid}/agenda", json={"kind": "discussion", "title": title}
        )
        items.append(response.json())
    facilitator, _ = await seated(cid, "facilitator")
    a, seat_a = await seated(cid, "participant", group_id=gov["id"], holder_name="Ana")
    b, seat_b = await seated(cid, "participant", group_id=civ["id"], holder_name="Ben")
    c, seat_c = await seated(cid, "participant", group_id=gov["id"], holder_name="Cy")
    observer, _ = await seated(cid, "observer")
    await convener.post(f"/api/convenings/{cid}/schedule")
    await convener.post(f"/api/convenings/{cid}/open")
    started = await facilitator.post(f"/api/convenings/{cid}/agenda/{items[0]['id']}/start")
    assert started.status_code == 200, started.text
    return {
        "cid": cid,
        "facilitator": facilitator,
        "a": a,
        "b": b,
        "c": c,
        "seats": {"a": seat_a, "b": seat_b, "c": seat_c},
        "observer": observer,
        "items": items,
        "groups": {"gov": gov, "civ": civ},
    }


async def floor(client: httpx.AsyncClient, cid: int) -> dict[str, Any]:
    response = await client.get(f"/api/convenings/{cid}/events", params={"wait": 0})
    assert response.status_code == 200, response.text
    return response.json()["snapshot"]["state"]["floor"]  # type: ignore[no-any-return]


def queue_names(state_floor: dict[str, Any], seats: dict[str, Any]) -> list[str]:
    names = {s["id"]: key for key, s in seats.items()}
    return [names[e["seat_id"]] for e in state_floor["queue"]]


async def test_hands_queue_in_order_and_point_of_order_goes_first(room: dict[str, Any]) -> None:
    cid = room["cid"]
    for who in ("a", "b"):
        assert (
            await room[who].post(f"/api/convenings/{cid}/floor/hand", json={})
        ).status_code == 201
    response = await room["c"].post(
        f"/api/convenings/{cid}/floor/hand", json={"kind": "point_of_order"}
    )
    assert response.status_code == 201
    assert queue_names(await floor(room["a"], cid), room["seats"]) == ["c", "a", "b"]
    again = await room["a"].post(f"/api/convenings/{cid}/floor/hand", json={})
    assert again.status_code == 409


async def test_facilitator_calls_next_and_airtime_is_measured(room: dict[str, Any]) -> None:
    cid, fac = room["cid"], room["facilitator"]
    await room["a"].post(f"/api/convenings/{cid}/floor/hand", json={})
    await room["b"].post(f"/api/convenings/{cid}/floor/hand", json={})
    assert (await fac.post(f"/api/convenings/{cid}/floor/next")).status_code == 200
    state = await floor(room["b"], cid)
    assert state["speaker"]["seat_id"] == room["seats"]["a"]["id"]
    assert queue_names(state, room["seats"]) == ["b"]
    await fac.post(f"/api/convenings/{cid}/floor/next")
    state = await floor(room["b"], cid)
    assert state["speaker"]["seat_id"] == room["seats"]["b"]["id"]
    assert str(room["seats"]["a"]["id"]) in state["airtime"]["seats"]
    assert str(room["groups"]["gov"]["id"]) in state["airtime"]["groups"]


async def test_direct_reply_needs_a_speaker_and_goes_before_hands(room: dict[str, Any]) -> None:
    cid, fac = room["cid"], room["facilitator"]
    refused = await room["b"].post(
        f"/api/convenings/{cid}/floor/hand", json={"kind": "direct_reply"}
    )
    assert refused.status_code == 409
    await room["a"].post(f"/api/convenings/{cid}/floor/hand", json={})
    await room["c"].post(f"/api/convenings/{cid}/floor/hand", json={})
    await fac.post(f"/api/convenings/{cid}/floor/next")  # a speaks
    reply = await room["b"].post(f"/api/convenings/{cid}/floor/hand", json={"kind": "direct_reply"})
    assert reply.status_code == 201
    assert queue_names(await floor(fac, cid), room["seats"]) == ["b", "c"]


async def test_lowering_a_hand_leaves_the_queue(room: dict[str, Any]) -> None:
    cid = room["cid"]
    await room["a"].post(f"/api/convenings/{cid}/floor/hand", json={})
    assert (await room["a"].delete(f"/api/convenings/{cid}/floor/hand")).status_code == 200
    assert (await floor(room["a"], cid))["queue"] == []
    assert (await room["a"].delete(f"/api/convenings/{cid}/floor/hand")).status_code == 409


async def test_least_heard_group_first(room: dict[str, Any]) -> None:
    cid, fac = room["cid"], room["facilitator"]
    assert (
        await fac.put(
            f"/api/convenings/{cid}/floor/order", json={"queue_order": "least_heard_group"}
        )
    ).status_code == 200
    await fac.post(f"/api/convenings/{cid}/floor/call", json={"seat_id": room["seats"]["a"]["id"]})
    await fac.post(f"/api/convenings/{cid}/floor/end-turn")  # government has now been heard
    await room["c"].post(f"/api/convenings/{cid}/floor/hand", json={})  # government, first
    await room["b"].post(f"/api/convenings/{cid}/floor/hand", json={})  # civil society, second
    assert queue_names(await floor(fac, cid), room["seats"]) == ["b", "c"]
    await fac.put(f"/api/convenings/{cid}/floor/order", json={"queue_order": "first_come"})
    assert queue_names(await floor(fac, cid), room["seats"]) == ["c", "b"]


async def test_facilitator_reorders_the_queue(room: dict[str, Any]) -> None:
    cid, fac = room["cid"], room["facilitator"]
    for who in ("a", "b", "c"):
        await room[who].post(f"/api/convenings/{cid}/floor/hand", json={})
    entries = (await floor(fac, cid))["queue"]
    new_order = [entries[2]["id"], entries[0]["id"], entries[1]["id"]]
    assert (
        await fac.put(f"/api/convenings/{cid}/floor/queue", json={"entry_ids": new_order})
    ).status_code == 200
    assert queue_names(await floor(fac, cid), room["seats"]) == ["c", "a", "b"]
    bad = await fac.put(f"/api/convenings/{cid}/floor/queue", json={"entry_ids": new_order[:2]})
    assert bad.status_code == 422


async def test_tour_de_table_alternates_groups_and_records_passes(room: dict[str, Any]) -> None:
    cid, fac, seats = room["cid"], room["facilitator"], room["seats"]
    for who in ("a", "b", "c"):
        await fac.put(
            f"/api/convenings/{cid}/seats/{seats[who]['id']}/attendance",
            json={"attendance": "present"},
        )
    started = await fac.post(
        f"/api/convenings/{cid}/floor/tour", json={"order": "alternating_groups"}
    )
    assert started.status_code == 201
    tour = (await floor(fac, cid))["tour"]
    assert tour["seat_ids"] == [seats["a"]["id"], seats["b"]["id"], seats["c"]["id"]]
    assert (await room["b"].post(f"/api/convenings/{cid}/floor/tour/pass")).status_code == 200
    await fac.post(f"/api/convenings/{cid}/floor/next")
    assert (await floor(fac, cid))["speaker"]["seat_id"] == seats["a"]["id"]
    await fac.post(f"/api/convenings/{cid}/floor/next")  # b passed: c is next
    state = await floor(fac, cid)
    assert state["speaker"]["seat_id"] == seats["c"]["id"]
    assert state["tour"]["passed"] == [seats["b"]["id"]]
    await fac.post(f"/api/convenings/{cid}/floor/next")  # the tour is over
    assert (await floor(fac, cid))["tour"] is None


async def test_timer_pause_resume_and_completion(room: dict[str, Any]) -> None:
    cid, fac, items = room["cid"], room["facilitator"], room["items"]
    first = items[0]["id"]
    assert (await fac.post(f"/api/convenings/{cid}/agenda/{first}/pause")).status_code == 200
    assert (await fac.post(f"/api/convenings/{cid}/agenda/{first}/pause")).status_code == 409
    assert (await fac.post(f"/api/convenings/{cid}/agenda/{first}/resume")).status_code == 200
    await room["a"].post(f"/api/convenings/{cid}/floor/hand", json={})
    assert (
        await fac.post(f"/api/convenings/{cid}/agenda/{items[1]['id']}/start")
    ).status_code == 200
    snapshot = (await fac.get(f"/api/convenings/{cid}/events", params={"wait": 0})).json()[
        "snapshot"
    ]
    statuses = [i["status"] for i in snapshot["state"]["agenda"]]
    assert statuses == ["done", "active"]
    assert snapshot["state"]["floor"]["queue"] == []  # hands lapse with their item
    assert snapshot["state"]["agenda"][1]["run_started_at"] is not None


async def test_roles_are_enforced_on_the_floor(room: dict[str, Any]) -> None:
    cid = room["cid"]
    assert (await room["a"].post(f"/api/convenings/{cid}/floor/next")).status_code == 403
    assert (
        await room["observer"].post(f"/api/convenings/{cid}/floor/hand", json={})
    ).status_code == 403
    assert (
        await room["facilitator"].post(f"/api/convenings/{cid}/floor/hand", json={})
    ).status_code == 403


async def test_the_floor_needs_a_live_convening_and_an_open_item(room: dict[str, Any]) -> None:
    cid, fac = room["cid"], room["facilitator"]
    await fac.post(f"/api/convenings/{cid}/agenda/{room['items'][0]['id']}/complete")
    response = await room["a"].post(f"/api/convenings/{cid}/floor/hand", json={})
    assert response.status_code == 409 and "no agenda item is open" in response.text
