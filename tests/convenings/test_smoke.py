"""A convener prepares a convening end to end through the API."""

from typing import Any

import httpx


async def test_prepare_a_convening(
    convener: httpx.AsyncClient, convening: dict[str, Any], seated: Any
) -> None:
    cid = convening["id"]
    group = await convener.post(
        f"/api/convenings/{cid}/groups", json={"preset": "government", "target_seats": 2}
    )
    assert group.status_code == 201, group.text
    browser, seat = await seated(cid, "participant", group_id=group.json()["id"])
    me = await browser.get(f"/api/convenings/{cid}")
    assert me.status_code == 200
    inclusion = await convener.get(f"/api/convenings/{cid}/inclusion")
    assert inclusion.json()["groups"][0]["seated"] == 1
    assert inclusion.json()["missing_roles"] == ["facilitator", "rapporteur"]
