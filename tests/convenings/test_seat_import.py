"""CSV import of a seat list: everything or nothing, each bad row named by line and reason."""

from typing import Any

import httpx
import pytest


@pytest.fixture
async def cid(convener: httpx.AsyncClient, convening: dict[str, Any]) -> int:
    for body in ({"preset": "government"}, {"name": "Faith communities"}):
        assert (
            await convener.post(f"/api/convenings/{convening['id']}/groups", json=body)
        ).status_code == 201
    return int(convening["id"])


async def upload(client: httpx.AsyncClient, cid: int, text: str) -> httpx.Response:
    return await client.post(
        f"/api/convenings/{cid}/seats/import",
        files={"file": ("seats.csv", text.encode(), "text/csv")},
    )


GOOD = """name,role,group,affiliation,email,speaks_for,attendance
Grace Wanjiru,participant,Government,Ministry of Water,grace@example.org,the Ministry,confirmed
Peter Mwangi,participant,faith communities,Council of Churches,,,
Amina Diallo,facilitator,,Independent,amina@example.org,,
"""


async def test_a_good_list_is_seated_in_order(convener: httpx.AsyncClient, cid: int) -> None:
    response = await upload(convener, cid, GOOD)
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 3
    seats = (await convener.get(f"/api/convenings/{cid}/seats")).json()
    groups = {
        g["id"]: g["name"] for g in (await convener.get(f"/api/convenings/{cid}/groups")).json()
    }
    assert [(s["holder_name"], s["role"], groups.get(s["group_id"])) for s in seats] == [
        ("Grace Wanjiru", "participant", "Government"),
        ("Peter Mwangi", "participant", "Faith communities"),
        ("Amina Diallo", "facilitator", None),
    ]
    assert seats[0]["attendance"] == "confirmed" and seats[1]["attendance"] == "invited"


async def test_bad_rows_are_each_reported_and_nothing_is_imported(
    convener: httpx.AsyncClient, cid: int
) -> None:
    await convener.post(
        f"/api/convenings/{cid}/seats",
        json={"role": "participant", "holder_name": "Old", "email": "taken@example.org"},
    )
    text = """name,role,group,email
Good Row,participant,Government,good@example.org
,participant,Government,
Bad Role,chairperson,Government,
Bad Group,participant,Martians,
Taken,participant,,taken@example.org
Twice,participant,,good@example.org
Bad Mail,participant,,not-an-email
"""
    response = await upload(convener, cid, text)
    assert response.status_code == 422
    problems = {(d["line"], d["field"]) for d in response.json()["detail"]}
    assert problems == {
        (3, "holder_name"),
        (4, "role"),
        (5, "group"),
        (6, "email"),
        (7, "email"),
        (8, "email"),
    }
    reasons = {d["line"]: d["msg"] for d in response.json()["detail"]}
    assert "Martians" in reasons[5]
    assert "line 2" in reasons[7]
    seats = (await convener.get(f"/api/convenings/{cid}/seats")).json()
    assert [s["holder_name"] for s in seats] == ["Old"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("email,group\nx@example.org,Government\n", "no holder_name column"),
        ("name,role,shoe_size\nA,participant,42\n", "unknown column"),
        ("name,role\n", "no seats"),
        ("name,role\nA,participant,extra\n", "more cells"),
    ],
)
async def test_malformed_files_are_refused_with_a_reason(
    convener: httpx.AsyncClient, cid: int, text: str, reason: str
) -> None:
    response = await upload(convener, cid, text)
    assert response.status_code == 422
    assert reason in response.text
    assert (await convener.get(f"/api/convenings/{cid}/seats")).json() == []


async def test_non_utf8_file_is_refused(convener: httpx.AsyncClient, cid: int) -> None:
    response = await convener.post(
        f"/api/convenings/{cid}/seats/import",
        files={
            "file": ("seats.csv", "name,role\nJosé,participant\n".encode("latin-1"), "text/csv")
        },
    )
    assert response.status_code == 422
    assert "UTF-8" in response.text


async def test_bom_and_header_variants_are_accepted(convener: httpx.AsyncClient, cid: int) -> None:
    text = "\ufeffHolder_Name,Role,Organization,E-mail\nZoé,observer,OECD,zoe@example.org\n"
    response = await upload(convener, cid, text)
    assert response.status_code == 201, response.text
    seat = response.json()["seats"][0]
    assert (seat["holder_name"], seat["role"], seat["affiliation"]) == ("Zoé", "observer", "OECD")
