"""Invitation links: one per seat, hashed at rest, expiring, revocable, one browser each."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update

from app.convenings.models import Invitation
from app.db import utcnow
from tests.conftest import Browser


@pytest.fixture
async def seat(convener: httpx.AsyncClient, convening: dict[str, Any]) -> dict[str, Any]:
    group = (
        await convener.post(f"/api/convenings/{convening['id']}/groups", json={"preset": "youth"})
    ).json()
    response = await convener.post(
        f"/api/convenings/{convening['id']}/seats",
        json={
            "role": "participant",
            "holder_name": "Lea Moreau",
            "group_id": group["id"],
            "speaks_for": "the youth caucus",
        },
    )
    return response.json()  # type: ignore[no-any-return]


async def issue(convener: httpx.AsyncClient, seat: dict[str, Any]) -> str:
    response = await convener.post(
        f"/api/convenings/{seat['convening_id']}/seats/{seat['id']}/invitation"
    )
    assert response.status_code == 201
    assert response.json()["state"] == "active"
    return str(response.json()["link"].rsplit("/", 1)[1])


async def redeem(browser: httpx.AsyncClient, token: str, accept: bool = True) -> httpx.Response:
    return await browser.post(
        "/api/invitations/redeem", json={"token": token, "accept_ground_rules": accept}
    )


async def test_link_is_random_and_only_its_hash_is_stored(
    app: FastAPI, convener: httpx.AsyncClient, seat: dict[str, Any]
) -> None:
    token = await issue(convener, seat)
    assert len(bytes.fromhex(token)) * 8 >= 128
    async with app.state.sessionmaker() as session:
        rows = (await session.exec(text("SELECT * FROM invitation"))).all()  # type: ignore[call-overload]
    assert rows and all(token not in str(tuple(row)) for row in rows)


async def test_landing_tells_the_seat_who_they_are(
    client: httpx.AsyncClient, convener: httpx.AsyncClient, seat: dict[str, Any]
) -> None:
    token = await issue(convener, seat)
    landing = (await client.get(f"/api/invitations/{token}")).json()
    assert landing["holder_name"] == "Lea Moreau"
    assert landing["role"] == "participant"
    assert landing["group_name"] == "Youth"
    assert landing["speaks_for"] == "the youth caucus"
    assert "Chatham House Rule" in landing["ground_rules_text"]
    assert landing["state"] == "active" and landing["bound_here"] is False


async def test_redeeming_binds_the_browser_to_the_seat(
    client: httpx.AsyncClient, convener: httpx.AsyncClient, seat: dict[str, Any]
) -> None:
    token = await issue(convener, seat)
    cid = seat["convening_id"]
    assert (await client.get(f"/api/convenings/{cid}")).status_code == 404
    refused = await redeem(client, token, accept=False)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "accept_ground_rules"]
    response = await redeem(client, token)
    assert response.status_code == 200
    assert response.json()["bound_here"] is True
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert (await client.get(f"/api/convenings/{cid}")).status_code == 200
    # Opening the link again in the same browser is fine.
    assert (await redeem(client, token)).status_code == 200
    seats = (await convener.get(f"/api/convenings/{cid}/seats")).json()
    assert seats[0]["attendance"] == "confirmed"
    assert seats[0]["ground_rules_accepted_at"] is not None


async def test_a_second_browser_is_refused_until_the_link_is_reissued(
    new_browser: Browser, convener: httpx.AsyncClient, seat: dict[str, Any]
) -> None:
    first, second = await new_browser(), await new_browser()
    token = await issue(convener, seat)
    assert (await redeem(first, token)).status_code == 200
    refused = await redeem(second, token)
    assert refused.status_code == 409
    assert "reissue" in refused.json()["detail"]
    new_token = await issue(convener, seat)
    assert new_token != token
    assert (await redeem(second, token)).status_code == 410
    assert (await redeem(second, new_token)).status_code == 200
    cid = seat["convening_id"]
    assert (await second.get(f"/api/convenings/{cid}")).status_code == 200
    # The browser that held the old link no longer holds the seat.
    assert (await first.get(f"/api/convenings/{cid}")).status_code == 404


async def test_revoked_and_expired_links_are_gone(
    app: FastAPI, client: httpx.AsyncClient, convener: httpx.AsyncClient, seat: dict[str, Any]
) -> None:
    cid = seat["convening_id"]
    token = await issue(convener, seat)
    revoked = await convener.delete(f"/api/convenings/{cid}/seats/{seat['id']}/invitation")
    assert revoked.json()["state"] == "revoked" and revoked.json()["link"] is None
    assert (await redeem(client, token)).status_code == 410
    token = await issue(convener, seat)
    async with app.state.sessionmaker() as session:
        await session.exec(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    response = await redeem(client, token)
    assert response.status_code == 410 and "expired" in response.text
    listing = (await convener.get(f"/api/convenings/{cid}/invitations")).json()
    assert listing[0]["state"] == "expired"


async def test_unknown_token_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/invitations/" + "0" * 64)).status_code == 404
    assert (await redeem(client, "0" * 64)).status_code == 404


async def test_revoking_unbinds_the_browser(
    client: httpx.AsyncClient, convener: httpx.AsyncClient, seat: dict[str, Any]
) -> None:
    cid = seat["convening_id"]
    await redeem(client, await issue(convener, seat))
    assert (await client.get(f"/api/convenings/{cid}")).status_code == 200
    await convener.delete(f"/api/convenings/{cid}/seats/{seat['id']}/invitation")
    assert (await client.get(f"/api/convenings/{cid}")).status_code == 404


async def test_the_convener_sees_every_seats_invitation_state(
    client: httpx.AsyncClient, convener: httpx.AsyncClient, seat: dict[str, Any]
) -> None:
    cid = seat["convening_id"]
    other = (
        await convener.post(
            f"/api/convenings/{cid}/seats", json={"role": "observer", "holder_name": "Obs"}
        )
    ).json()
    token = await issue(convener, seat)
    listing = {
        r["seat_id"]: r for r in (await convener.get(f"/api/convenings/{cid}/invitations")).json()
    }
    assert listing[other["id"]]["state"] == "none"
    assert listing[seat["id"]]["link"].endswith(token)
    await redeem(client, token)
    listing = {
        r["seat_id"]: r for r in (await convener.get(f"/api/convenings/{cid}/invitations")).json()
    }
    assert listing[seat["id"]]["state"] == "redeemed"
    assert listing[seat["id"]]["link"] is None
