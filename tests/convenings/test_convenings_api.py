"""A convener creates, edits and moves a convening through its lifecycle."""

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import CONVENING


async def test_created_convening_is_a_draft_with_ground_rules_stating_the_rule(
    convener: httpx.AsyncClient,
) -> None:
    response = await convener.post(
        "/api/convenings", json={**CONVENING, "ground_rules": "Phones on silent."}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert "Chatham House Rule" in body["ground_rules_text"]
    assert body["ground_rules_text"].endswith("Phones on silent.")
    listed = await convener.get("/api/convenings")
    assert [c["id"] for c in listed.json()] == [body["id"]]


@pytest.mark.parametrize(
    ("rule", "phrase"),
    [
        ("attributed", "on the record"),
        ("chatham_house", "neither the identity nor the affiliation"),
        ("anonymous", "nothing recorded links"),
    ],
)
async def test_each_attribution_rule_is_stated_in_plain_words(
    convener: httpx.AsyncClient, rule: str, phrase: str
) -> None:
    response = await convener.post("/api/convenings", json={**CONVENING, "attribution": rule})
    assert phrase in response.json()["ground_rules_text"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"purpose": "x" * 10_001}, "purpose"),
        ({"purpose_type": "lobbying"}, "purpose_type"),
        ({"attribution": "off_the_record"}, "attribution"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"language": "English!"}, "language"),
        ({"starts_at": "2030-03-02T09:00:00"}, "starts_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_convening_fields_are_named_and_nothing_is_created(
    convener: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    response = await convener.post("/api/convenings", json={**CONVENING, **change})
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert (await convener.get("/api/convenings")).json() == []


async def test_end_before_start_is_refused(convener: httpx.AsyncClient) -> None:
    response = await convener.post(
        "/api/convenings",
        json={**CONVENING, "ends_at": "2030-03-02T08:00:00+03:00"},
    )
    assert response.status_code == 422
    assert "ends_at must be after starts_at" in response.text


async def test_update_keeps_the_schedule_in_order(
    convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    url = f"/api/convenings/{convening['id']}"
    response = await convener.patch(url, json={"ends_at": "2030-03-01T10:00:00+00:00"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "ends_at"]
    unchanged = (await convener.get(url)).json()
    assert datetime.fromisoformat(unchanged["ends_at"]) == datetime.fromisoformat(
        CONVENING["ends_at"]
    )
    renamed = await convener.patch(url, json={"title": "Second sitting"})
    assert renamed.json()["title"] == "Second sitting"


async def test_lifecycle_moves_forward_and_refuses_skips_with_409(
    convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    base = f"/api/convenings/{convening['id']}"
    assert (await convener.post(f"{base}/open")).status_code == 409
    assert (await convener.post(f"{base}/close")).status_code == 409
    assert (await convener.post(f"{base}/mark-reported")).status_code == 409
    for step, status in [
        ("schedule", "scheduled"),
        ("unschedule", "draft"),
        ("schedule", "scheduled"),
        ("open", "live"),
        ("close", "closed"),
        ("mark-reported", "reported"),
    ]:
        response = await convener.post(f"{base}/{step}")
        assert response.status_code == 200, (step, response.text)
        assert response.json()["status"] == status
    assert (await convener.post(f"{base}/open")).status_code == 409
    assert (await convener.get(base)).json()["status"] == "reported"


async def test_attribution_rule_is_fixed_once_live(
    convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    base = f"/api/convenings/{convening['id']}"
    await convener.post(f"{base}/schedule")
    await convener.post(f"{base}/open")
    response = await convener.patch(base, json={"attribution": "attributed"})
    assert response.status_code == 409
    assert (await convener.get(base)).json()["attribution"] == "chatham_house"


async def test_every_change_is_in_the_event_log_with_gap_free_numbers(
    app: Any, convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    from sqlmodel import select

    from app.live.models import Event

    base = f"/api/convenings/{convening['id']}"
    await convener.post(f"{base}/groups", json={"preset": "youth"})
    await convener.patch(base, json={"title": "Renamed"})
    await convener.post(f"{base}/schedule")
    async with app.state.sessionmaker() as session:
        events = (await session.exec(select(Event).order_by(Event.seq))).all()
    assert [e.kind for e in events] == [
        "convening.created",
        "group.added",
        "convening.updated",
        "convening.status_changed",
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert (await convener.get(base)).json()["last_seq"] == 4
