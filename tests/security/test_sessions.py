"""Each sign-in starts a new session: a token a browser held before (or had planted in it)
stops working, on the server, and other browsers' sessions are not touched."""

import httpx
from fastapi import FastAPI

from tests.conftest import PASSWORD, Browser, create_convener_account


async def test_the_previous_session_token_dies_when_the_browser_signs_in_again(
    app: FastAPI, new_browser: Browser
) -> None:
    await create_convener_account(app, "ada@example.org")
    body = {"email": "ada@example.org", "password": PASSWORD}
    browser = await new_browser()
    await browser.post("/api/auth/sign-in", json=body)
    before = browser.cookies["convene_session"]
    again = await browser.post("/api/auth/sign-in", json=body)
    assert again.headers["cache-control"] == "no-store"
    assert browser.cookies["convene_session"] != before
    assert (await browser.get("/api/me")).status_code == 200
    thief = await new_browser()
    thief.cookies.set("convene_session", before)
    assert (await thief.get("/api/me")).status_code == 401


async def test_a_planted_session_cookie_is_replaced_not_adopted(
    app: FastAPI, new_browser: Browser
) -> None:
    """Session fixation: an attacker who set the cookie's value before sign-in learns nothing."""
    await create_convener_account(app, "ada@example.org")
    planted = "attacker-chosen-session-value-0123456789abcdef"
    victim = await new_browser()
    signed = await victim.post(
        "/api/auth/sign-in",
        json={"email": "ada@example.org", "password": PASSWORD},
        headers={"Cookie": f"convene_session={planted}"},
    )
    issued = signed.cookies["convene_session"]
    assert issued != planted
    for token, status in ((planted, 401), (issued, 200)):
        caller = await new_browser()
        caller.cookies.set("convene_session", token)
        assert (await caller.get("/api/me")).status_code == status


async def test_signing_into_another_account_ends_the_first_and_spares_other_browsers(
    app: FastAPI, new_browser: Browser
) -> None:
    await create_convener_account(app, "ada@example.org", "Ada")
    await create_convener_account(app, "bea@example.org", "Bea")
    laptop, phone = await new_browser(), await new_browser()
    for browser in (laptop, phone):
        await browser.post(
            "/api/auth/sign-in", json={"email": "ada@example.org", "password": PASSWORD}
        )
    ada_on_laptop = laptop.cookies["convene_session"]
    await laptop.post("/api/auth/sign-in", json={"email": "bea@example.org", "password": PASSWORD})
    assert (await laptop.get("/api/me")).json()["name"] == "Bea"
    assert (await phone.get("/api/me")).json()["name"] == "Ada"  # the phone stays signed in
    replay = httpx.Cookies({"convene_session": ada_on_laptop})
    stale = await new_browser()
    stale.cookies = replay
    assert (await stale.get("/api/me")).status_code == 401


async def test_sign_out_ends_the_session_on_the_server(app: FastAPI, new_browser: Browser) -> None:
    await create_convener_account(app, "ada@example.org")
    browser = await new_browser()
    await browser.post("/api/auth/sign-in", json={"email": "ada@example.org", "password": PASSWORD})
    token = browser.cookies["convene_session"]
    out = await browser.post("/api/auth/sign-out")
    assert out.status_code == 204
    assert (
        'convene_session=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    copy = await new_browser()
    copy.cookies.set("convene_session", token)
    assert (await copy.get("/api/me")).status_code == 401
