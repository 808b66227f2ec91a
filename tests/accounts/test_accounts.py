"""Convener accounts: sign-in with a session cookie, sign-out, and bearer tokens for scripts."""

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests.conftest import CONVENING, PASSWORD, Browser, create_convener_account


async def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_convener_account(app, "Ada@Example.org", "Ada")
    wrong = await client.post(
        "/api/auth/sign-in", json={"email": "ada@example.org", "password": "nope"}
    )
    assert wrong.status_code == 401
    assert (await client.get("/api/me")).status_code == 401
    response = await client.post(
        "/api/auth/sign-in", json={"email": "ADA@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert (await client.get("/api/me")).json()["name"] == "Ada"
    assert (await client.post("/api/auth/sign-out")).status_code == 204
    assert (await client.get("/api/me")).status_code == 401


async def test_a_stolen_cookie_stops_working_after_sign_out(
    app: FastAPI, new_browser: Browser
) -> None:
    await create_convener_account(app, "ada@example.org")
    browser = await new_browser()
    await browser.post("/api/auth/sign-in", json={"email": "ada@example.org", "password": PASSWORD})
    stolen = browser.cookies["convene_session"]
    await browser.post("/api/auth/sign-out")
    thief = await new_browser()
    thief.cookies.set("convene_session", stolen)
    assert (await thief.get("/api/me")).status_code == 401


async def test_sign_in_rotates_the_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    await create_convener_account(app, "ada@example.org")
    body = {"email": "ada@example.org", "password": PASSWORD}
    await client.post("/api/auth/sign-in", json=body)
    first = client.cookies["convene_session"]
    await client.post("/api/auth/sign-in", json=body)
    assert client.cookies["convene_session"] != first
    async with app.state.sessionmaker() as session:
        count = (await session.exec(text("SELECT count(*) FROM account_session"))).one()  # type: ignore[call-overload]
    assert count[0] == 1


async def test_bearer_tokens_work_for_scripts_and_can_be_revoked(
    app: FastAPI, convener: httpx.AsyncClient, new_browser: Browser
) -> None:
    issued = await convener.post("/api/tokens", json={"name": "seat sync"})
    assert issued.status_code == 201
    token = issued.json()["token"]
    script = await new_browser()
    script.headers["Authorization"] = f"Bearer {token}"
    created = await script.post("/api/convenings", json=CONVENING)
    assert created.status_code == 201
    listed = (await convener.get("/api/tokens")).json()
    assert listed[0]["name"] == "seat sync" and "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    async with app.state.sessionmaker() as session:
        rows = (await session.exec(text("SELECT * FROM api_token"))).all()  # type: ignore[call-overload]
    assert all(token not in str(tuple(row)) for row in rows)
    await convener.delete(f"/api/tokens/{issued.json()['id']}")
    assert (await script.get("/api/convenings")).status_code == 401


async def test_anonymous_callers_cannot_list_or_create(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/convenings")).status_code == 401
    assert (await client.post("/api/convenings", json=CONVENING)).status_code == 401
    bad = httpx.Headers({"Authorization": "Bearer not-a-token"})
    assert (await client.get("/api/convenings", headers=bad)).status_code == 401


async def test_passwords_are_stored_as_argon2_hashes(app: FastAPI) -> None:
    await create_convener_account(app, "ada@example.org")
    async with app.state.sessionmaker() as session:
        row = (await session.exec(text("SELECT password_hash FROM convener"))).one()  # type: ignore[call-overload]
    assert row[0].startswith("$argon2id$") and PASSWORD not in row[0]
