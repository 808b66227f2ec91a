"""Stakeholder groups and seats: who is at the table, in what role, for whom."""

from typing import Any

import httpx
import pytest


@pytest.fixture
async def cid(convening: dict[str, Any]) -> int:
    return int(convening["id"])


async def test_groups_from_presets_and_custom_names(convener: httpx.AsyncClient, cid: int) -> None:
    presets = (await convener.get("/api/group-presets")).json()
    assert set(presets) == {
        "government",
        "private_sector",
        "civil_society",
        "international_organization",
        "academia",
        "local_grassroots",
        "indigenous_peoples",
        "youth",
    }
    a = await convener.post(
        f"/api/convenings/{cid}/groups", json={"preset": "indigenous_peoples", "target_seats": 3}
    )
    b = await convener.post(
        f"/api/convenings/{cid}/groups", json={"name": "Faith communities", "target_seats": 1}
    )
    assert a.json()["name"] == "Indigenous peoples" and a.json()["preset"] == "indigenous_peoples"
    assert b.json()["preset"] is None
    listed = (await convener.get(f"/api/convenings/{cid}/groups")).json()
    assert [g["name"] for g in listed] == ["Indigenous peoples", "Faith communities"]


@pytest.mark.parametrize(
    "body",
    [{}, {"preset": "aliens"}, {"name": "x" * 101}, {"preset": "youth", "target_seats": -1}],
)
async def test_bad_groups_are_refused(
    convener: httpx.AsyncClient, cid: int, body: dict[str, Any]
) -> None:
    response = await convener.post(f"/api/convenings/{cid}/groups", json=body)
    assert response.status_code == 422
    assert (await convener.get(f"/api/convenings/{cid}/groups")).json() == []


async def test_duplicate_group_name_is_refused_case_insensitively(
    convener: httpx.AsyncClient, cid: int
) -> None:
    await convener.post(f"/api/convenings/{cid}/groups", json={"preset": "youth"})
    again = await convener.post(f"/api/convenings/{cid}/groups", json={"name": "YOUTH"})
    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "name"]


async def test_a_group_with_seats_cannot_be_removed(convener: httpx.AsyncClient, cid: int) -> None:
    group = (await convener.post(f"/api/convenings/{cid}/groups", json={"preset": "youth"})).json()
    seat = await convener.post(
        f"/api/convenings/{cid}/seats",
        json={"role": "participant", "holder_name": "Lea", "group_id": group["id"]},
    )
    assert (await convener.delete(f"/api/convenings/{cid}/groups/{group['id']}")).status_code == 409
    await convener.delete(f"/api/convenings/{cid}/seats/{seat.json()['id']}")
    assert (await convener.delete(f"/api/convenings/{cid}/groups/{group['id']}")).status_code == 204


async def test_seat_fields_round_trip(convener: httpx.AsyncClient, cid: int) -> None:
    group = (await convener.post(f"/api/convenings/{cid}/groups", json={"preset": "youth"})).json()
    body = {
        "role": "participant",
        "group_id": group["id"],
        "holder_name": "Ana Lima",
        "affiliation": "Youth Climate Network",
        "email": "Ana.Lima@Example.org",
        "speaks_for": "12 youth organizations",
        "attendance": "confirmed",
    }
    created = await convener.post(f"/api/convenings/{cid}/seats", json=body)
    assert created.status_code == 201
    seat = created.json()
    assert seat["email"] == "ana.lima@example.org"
    assert {k: seat[k] for k in ("role", "holder_name", "speaks_for", "attendance")} == {
        "role": "participant",
        "holder_name": "Ana Lima",
        "speaks_for": "12 youth organizations",
        "attendance": "confirmed",
    }
    updated = await convener.patch(
        f"/api/convenings/{cid}/seats/{seat['id']}", json={"attendance": "declined"}
    )
    assert updated.json()["attendance"] == "declined"


async def test_a_seat_cannot_join_another_convenings_group(
    convener: httpx.AsyncClient, cid: int
) -> None:
    from tests.conftest import CONVENING

    other = (await convener.post("/api/convenings", json=CONVENING)).json()
    foreign = (
        await convener.post(f"/api/convenings/{other['id']}/groups", json={"preset": "youth"})
    ).json()
    response = await convener.post(
        f"/api/convenings/{cid}/seats",
        json={"role": "participant", "holder_name": "X", "group_id": foreign["id"]},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "group_id"]
    assert (await convener.get(f"/api/convenings/{cid}/seats")).json() == []


async def test_duplicate_email_within_a_convening_is_refused(
    convener: httpx.AsyncClient, cid: int
) -> None:
    first = {"role": "participant", "holder_name": "A", "email": "same@example.org"}
    assert (await convener.post(f"/api/convenings/{cid}/seats", json=first)).status_code == 201
    second = {**first, "holder_name": "B", "email": "SAME@example.org"}
    response = await convener.post(f"/api/convenings/{cid}/seats", json=second)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]
    other = (
        await convener.post(
            f"/api/convenings/{cid}/seats", json={**second, "email": "b@example.org"}
        )
    ).json()
    clash = await convener.patch(
        f"/api/convenings/{cid}/seats/{other['id']}", json={"email": "same@example.org"}
    )
    assert clash.status_code == 422
    assert len((await convener.get(f"/api/convenings/{cid}/seats")).json()) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"role": "chair", "holder_name": "A"},
        {"role": "participant", "holder_name": ""},
        {"role": "participant", "holder_name": "A", "email": "not-an-email"},
        {"role": "participant", "holder_name": "A", "attendance": "maybe"},
        {"role": "participant", "holder_name": "A", "affiliation": "x" * 201},
        {"role": "participant", "holder_name": "A", "speaks_for": "x" * 501},
    ],
)
async def test_bad_seats_are_refused(
    convener: httpx.AsyncClient, cid: int, body: dict[str, Any]
) -> None:
    response = await convener.post(f"/api/convenings/{cid}/seats", json=body)
    assert response.status_code == 422
    assert (await convener.get(f"/api/convenings/{cid}/seats")).json() == []


async def test_seats_cannot_be_removed_once_live(convener: httpx.AsyncClient, cid: int) -> None:
    seat = (
        await convener.post(
            f"/api/convenings/{cid}/seats", json={"role": "participant", "holder_name": "A"}
        )
    ).json()
    await convener.post(f"/api/convenings/{cid}/schedule")
    await convener.post(f"/api/convenings/{cid}/open")
    response = await convener.delete(f"/api/convenings/{cid}/seats/{seat['id']}")
    assert response.status_code == 409
    assert len((await convener.get(f"/api/convenings/{cid}/seats")).json()) == 1


async def test_inclusion_shows_gaps_absences_and_missing_roles(
    convener: httpx.AsyncClient, cid: int
) -> None:
    gov = (
        await convener.post(
            f"/api/convenings/{cid}/groups", json={"preset": "government", "target_seats": 2}
        )
    ).json()
    await convener.post(
        f"/api/convenings/{cid}/groups", json={"preset": "indigenous_peoples", "target_seats": 2}
    )
    seats = [
        {"role": "facilitator", "holder_name": "Fac"},
        {"role": "participant", "holder_name": "Gov 1", "group_id": gov["id"]},
        {
            "role": "participant",
            "holder_name": "Gov 2",
            "group_id": gov["id"],
            "attendance": "declined",
        },
        {
            "role": "participant",
            "holder_name": "Gov 3",
            "group_id": gov["id"],
            "attendance": "absent",
        },
    ]
    for seat in seats:
        assert (await convener.post(f"/api/convenings/{cid}/seats", json=seat)).status_code == 201
    view = (await convener.get(f"/api/convenings/{cid}/inclusion")).json()
    by_name = {g["name"]: g for g in view["groups"]}
    assert by_name["Government"]["seated"] == 2  # the declined seat does not count
    assert by_name["Government"]["missing"] == 0
    assert by_name["Indigenous peoples"]["missing"] == 2
    assert view["empty_groups"] == ["Indigenous peoples"]
    assert [s["holder_name"] for s in view["declined"]] == ["Gov 2"]
    assert [s["holder_name"] for s in view["absent"]] == ["Gov 3"]
    assert view["missing_roles"] == ["rapporteur"]
    assert view["ungrouped_seats"] == 1
