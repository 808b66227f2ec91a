"""The agenda: ordered items with timeboxes and questions, editable while a draft."""

from typing import Any

import httpx
import pytest


@pytest.fixture
async def base(convening: dict[str, Any]) -> str:
    return f"/api/convenings/{convening['id']}/agenda"


ITEMS = [
    {"kind": "opening", "title": "Welcome", "timebox_minutes": 15},
    {
        "kind": "discussion",
        "title": "Dry-season allocation",
        "timebox_minutes": 120,
        "questions": ["Who gives up what?", "How is it checked?"],
    },
    {"kind": "closing", "title": "Commitments", "timebox_minutes": 30},
]


async def add_all(convener: httpx.AsyncClient, base: str) -> list[dict[str, Any]]:
    items = []
    for body in ITEMS:
        response = await convener.post(base, json=body)
        assert response.status_code == 201, response.text
        items.append(response.json())
    return items


async def test_items_keep_their_order_and_sum_against_the_schedule(
    convener: httpx.AsyncClient, base: str
) -> None:
    await add_all(convener, base)
    agenda = (await convener.get(base)).json()
    assert [i["title"] for i in agenda["items"]] == [
        "Welcome",
        "Dry-season allocation",
        "Commitments",
    ]
    assert agenda["items"][1]["questions"] == ["Who gives up what?", "How is it checked?"]
    assert agenda["total_minutes"] == 165
    assert agenda["scheduled_minutes"] == 240
    assert agenda["spare_minutes"] == 75


async def test_over_long_agenda_shows_negative_spare_time(
    convener: httpx.AsyncClient, base: str
) -> None:
    await add_all(convener, base)
    await convener.post(
        base, json={"kind": "presentation", "title": "Data", "timebox_minutes": 100}
    )
    assert (await convener.get(base)).json()["spare_minutes"] == -25


async def test_edit_reorder_and_delete(convener: httpx.AsyncClient, base: str) -> None:
    welcome, discussion, closing = await add_all(convener, base)
    edited = await convener.patch(
        f"{base}/{discussion['id']}", json={"timebox_minutes": 90, "kind": "decision"}
    )
    assert edited.json()["timebox_minutes"] == 90 and edited.json()["kind"] == "decision"
    order = [closing["id"], welcome["id"], discussion["id"]]
    reordered = await convener.put(f"{base}/order", json={"item_ids": order})
    assert [i["id"] for i in reordered.json()["items"]] == order
    assert [i["id"] for i in (await convener.get(base)).json()["items"]] == order
    assert (await convener.delete(f"{base}/{welcome['id']}")).status_code == 204
    assert [i["title"] for i in (await convener.get(base)).json()["items"]] == [
        "Commitments",
        "Dry-season allocation",
    ]


@pytest.mark.parametrize(
    "order", [[], "missing-one", "duplicate", "foreign"], ids=["empty", "missing", "dup", "foreign"]
)
async def test_reorder_must_name_every_item_once(
    convener: httpx.AsyncClient, base: str, order: Any
) -> None:
    items = await add_all(convener, base)
    ids = [i["id"] for i in items]
    body = (
        {
            "missing-one": ids[:2],
            "duplicate": [ids[0], ids[0], ids[1]],
            "foreign": [*ids[:2], 9999],
        }.get(order, order)
        if isinstance(order, str)
        else order
    )
    response = await convener.put(f"{base}/order", json={"item_ids": body})
    assert response.status_code == 422
    assert [i["id"] for i in (await convener.get(base)).json()["items"]] == ids


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "coffee", "title": "Break"},
        {"kind": "discussion", "title": ""},
        {"kind": "discussion", "title": "T", "timebox_minutes": 0},
        {"kind": "discussion", "title": "T", "timebox_minutes": 601},
        {"kind": "discussion", "title": "T", "questions": ["x" * 501]},
        {"kind": "discussion", "title": "T", "questions": [""]},
    ],
)
async def test_bad_items_are_refused(
    convener: httpx.AsyncClient, base: str, body: dict[str, Any]
) -> None:
    assert (await convener.post(base, json=body)).status_code == 422
    assert (await convener.get(base)).json()["items"] == []


async def test_agenda_is_frozen_outside_draft(
    convener: httpx.AsyncClient, base: str, convening: dict[str, Any]
) -> None:
    items = await add_all(convener, base)
    await convener.post(f"/api/convenings/{convening['id']}/schedule")
    attempts = [
        convener.post(base, json=ITEMS[0]),
        convener.patch(f"{base}/{items[0]['id']}", json={"title": "Changed"}),
        convener.delete(f"{base}/{items[0]['id']}"),
        convener.put(f"{base}/order", json={"item_ids": [i["id"] for i in reversed(items)]}),
    ]
    for attempt in attempts:
        assert (await attempt).status_code == 409
    agenda = (await convener.get(base)).json()["items"]
    assert [i["title"] for i in agenda] == ["Welcome", "Dry-season allocation", "Commitments"]


async def test_items_of_another_convening_are_not_found(
    convener: httpx.AsyncClient, base: str
) -> None:
    from tests.conftest import CONVENING

    items = await add_all(convener, base)
    other = (await convener.post("/api/convenings", json=CONVENING)).json()
    response = await convener.patch(
        f"/api/convenings/{other['id']}/agenda/{items[0]['id']}", json={"title": "Hijack"}
    )
    assert response.status_code == 404
