"""Another website cannot make a signed-in browser change anything: a change whose browser
says it comes from another site (Sec-Fetch-Site, Origin) is refused with 403, in plain words,
and nothing is changed. Convene's own pages, scripts without a browser, and bearer tokens
pass. A websocket opened from another site is refused too."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.csrf import REFUSAL
from app.main import create_app
from tests.conftest import (
    CONVENING,
    PASSWORD,
    SeatBrowser,
    _empty_tables,
    create_convener_account,
    make_settings,
)
from tests.operations.serving import Server, cookie_header, served, take_a_seat

EVIL = "https://evil.example"
FROM_ELSEWHERE = [
    {"Origin": EVIL},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "null"},  # a sandboxed frame, a data: page
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "https://testserver"},  # another scheme is another origin
    {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://testserver:not-a-port"},  # malformed: not ours
]
FROM_HERE = [
    {},  # a script, a command-line client: no browser headers
    {"Origin": "http://testserver"},
    {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},  # typed in the address bar
]


async def _titles(browser: httpx.AsyncClient) -> list[str]:
    return [c["title"] for c in (await browser.get("/api/convenings")).json()]


@pytest.mark.parametrize("headers", FROM_ELSEWHERE)
async def test_a_change_from_another_site_is_refused_and_changes_nothing(
    convener: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    refused = await convener.post("/api/convenings", json=CONVENING, headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {"detail": REFUSAL}
    assert "another website" in REFUSAL
    assert await _titles(convener) == []


@pytest.mark.parametrize("headers", FROM_HERE)
async def test_a_change_from_convenes_own_pages_or_a_script_passes(
    convener: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    made = await convener.post("/api/convenings", json=CONVENING, headers=headers)
    assert made.status_code == 201, made.text
    assert await _titles(convener) == [CONVENING["title"]]


async def test_every_unsafe_method_is_checked_and_reading_is_not(
    convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    cross = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    group = (await convener.post(f"/api/convenings/{cid}/groups", json={"name": "Youth"})).json()
    calls = [
        ("PATCH", f"/api/convenings/{cid}", {"title": "Taken over"}),
        ("PUT", f"/api/convenings/{cid}/agenda/order", {"item_ids": []}),
        ("DELETE", f"/api/convenings/{cid}/groups/{group['id']}", None),
        ("POST", "/api/auth/sign-out", None),
    ]
    for method, path, body in calls:
        answer = await convener.request(method, path, json=body, headers=cross)
        assert answer.status_code == 403, (method, path, answer.text)
    # A cross-site link that is followed (GET) still works, and nothing above happened.
    shown = await convener.get(f"/api/convenings/{cid}", headers=cross)
    assert shown.status_code == 200 and shown.json()["title"] == convening["title"]
    groups = (await convener.get(f"/api/convenings/{cid}/groups")).json()
    assert [g["name"] for g in groups] == ["Youth"]
    assert (await convener.get("/api/me")).status_code == 200  # still signed in


async def test_another_site_cannot_sign_a_browser_in(app: Any, client: httpx.AsyncClient) -> None:
    """Login CSRF: signing the victim's browser into the attacker's account is refused."""
    await create_convener_account(app, "attacker@example.org")
    body = {"email": "attacker@example.org", "password": PASSWORD}
    refused = await client.post("/api/auth/sign-in", json=body, headers={"Origin": EVIL})
    assert refused.status_code == 403
    assert "set-cookie" not in refused.headers
    assert (await client.get("/api/me")).status_code == 401


async def test_another_site_cannot_bind_a_browser_to_a_seat(
    convener: httpx.AsyncClient, client: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    seat = await convener.post(
        f"/api/convenings/{cid}/seats", json={"holder_name": "Ana", "role": "participant"}
    )
    issued = await convener.post(f"/api/convenings/{cid}/seats/{seat.json()['id']}/invitation")
    token = issued.json()["link"].rsplit("/", 1)[1]
    body = {"token": token, "accept_ground_rules": True}
    refused = await client.post(
        "/api/invitations/redeem", json=body, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert refused.status_code == 403
    assert not client.cookies
    taken = await client.post("/api/invitations/redeem", json=body)
    assert taken.status_code == 200  # the link was not used up by the refused attempt


async def test_a_seat_cookie_is_protected_too(seated: SeatBrowser, convening: Any) -> None:
    browser, _ = await seated(convening["id"])
    hand = await browser.post(
        f"/api/convenings/{convening['id']}/floor/hand", json={}, headers={"Origin": EVIL}
    )
    assert hand.status_code == 403
    assert hand.json() == {"detail": REFUSAL}


async def test_a_bearer_token_passes_whatever_the_origin(convener: httpx.AsyncClient) -> None:
    issued = await convener.post("/api/tokens", json={"name": "sync script"})
    token = issued.json()["token"]
    made = await convener.post(
        "/api/convenings",
        json=CONVENING,
        headers={"Authorization": f"Bearer {token}", "Origin": EVIL},
    )
    assert made.status_code == 201, made.text


async def test_base_url_is_an_own_origin_behind_a_proxy(
    convener: httpx.AsyncClient,
) -> None:
    """Behind a TLS proxy the app may see http://internal-host; BASE_URL is still home."""
    made = await convener.post(
        "/api/convenings",
        json=CONVENING,
        headers={"Host": "10.0.0.7:8000", "Origin": "http://testserver"},
    )
    assert made.status_code == 201, made.text


async def test_cookies_are_httponly_and_samesite(
    convener: httpx.AsyncClient, client: httpx.AsyncClient, app: Any, convening: Any
) -> None:
    await create_convener_account(app, "second@example.org")
    signed = await client.post(
        "/api/auth/sign-in", json={"email": "second@example.org", "password": PASSWORD}
    )
    cid = convening["id"]
    seat = await convener.post(
        f"/api/convenings/{cid}/seats", json={"holder_name": "Ana", "role": "participant"}
    )
    issued = await convener.post(f"/api/convenings/{cid}/seats/{seat.json()['id']}/invitation")
    redeemed = await client.post(
        "/api/invitations/redeem",
        json={"token": issued.json()["link"].rsplit("/", 1)[1], "accept_ground_rules": True},
    )
    for answer in (signed, redeemed):
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie, cookie
        assert "secure" not in cookie  # plain http in tests (Secure under https: below)


# Websockets, through a real server ----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served(Path(tmp_path_factory.mktemp("csrf")), "--no-access-log") as running:
        yield running


def test_a_websocket_from_another_site_is_refused(server: Server) -> None:
    seat = take_a_seat(server)
    url = server.url.replace("http://", "ws://") + f"/api/convenings/{seat.convening_id}/live"
    cookie = {"Cookie": cookie_header(seat.browser)}
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=EVIL, additional_headers=cookie, open_timeout=10)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    with connect(url, origin=server.url, additional_headers=cookie, open_timeout=10) as ws:  # type: ignore[arg-type]
        assert json.loads(ws.recv(timeout=10))["type"] == "snapshot"
    seat.browser.close()


async def test_cookies_are_secure_under_https(database_url: str) -> None:
    app = create_app(make_settings(database_url, base_url="https://convene.example.org"))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://convene.example.org"
        ) as browser,
    ):
        await create_convener_account(app, "tls@example.org")
        signed = await browser.post(
            "/api/auth/sign-in", json={"email": "tls@example.org", "password": PASSWORD}
        )
        cid = (await browser.post("/api/convenings", json=CONVENING)).json()["id"]
        seat = await browser.post(
            f"/api/convenings/{cid}/seats", json={"holder_name": "Ana", "role": "participant"}
        )
        issued = await browser.post(f"/api/convenings/{cid}/seats/{seat.json()['id']}/invitation")
        token = issued.json()["link"].rsplit("/", 1)[1]
        redeemed = await browser.post(
            "/api/invitations/redeem", json={"token": token, "accept_ground_rules": True}
        )
        signed_out = await browser.post("/api/auth/sign-out")
    for answer in (signed, redeemed, signed_out):
        cookie = answer.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie, cookie
    _empty_tables(database_url)
