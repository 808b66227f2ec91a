"""Every answer tells the browser what it may load, frame, send and keep: a Content-Security-
Policy without inline script, no Referer (links carry tokens), no framing, no sniffing; HSTS
under https only; pages reached by a link token are never cached."""

import re
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from app.config import ROOT
from app.main import create_app
from app.security_headers import CSP
from tests.conftest import SeatBrowser, make_settings

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
EVERYWHERE = {
    "content-security-policy": EXPECTED_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
}


def assert_protected(response: httpx.Response) -> None:
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, (response.request.url, name)


async def test_pages_api_and_errors_carry_the_security_headers(
    convener: httpx.AsyncClient, client: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    answers = [
        await client.get("/sign-in"),  # a page
        await convener.get(f"/console/convenings/{cid}"),  # the console
        await convener.get(f"/api/convenings/{cid}"),  # the JSON API
        await client.get(f"/api/convenings/{cid}"),  # a refusal
        await client.get("/no-such-page"),  # nothing there
        await client.get("/static/js/live.js"),  # a script
        await client.get("/healthz"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 404, 200, 200]
    for answer in answers:
        assert_protected(answer)
        assert "strict-transport-security" not in answer.headers  # plain http here


def test_the_policy_allows_no_inline_script_or_style() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in CSP


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    """What the policy would block: the templates must not need it."""
    found = []
    for template in sorted((ROOT / "frontend" / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern, what in [
            # A data block (type="application/json") is not run, so the policy allows it.
            (r"<script(?![^>]*\b(src=|type=\"application/(ld\+)?json\"))[^>]*>", "inline <script>"),
            (r"<style\b", "<style> element"),
            (r"\sstyle\s*=", "style attribute"),
            (r"\son[a-z]+\s*=", "event handler attribute"),
            (r"javascript:", "javascript: URL"),
        ]:
            if re.search(pattern, text, re.IGNORECASE):
                found.append(f"{template.relative_to(ROOT)}: {what}")
    assert not found, found


async def test_pages_reached_by_a_link_token_are_never_cached(
    client: httpx.AsyncClient, convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    seat = await convener.post(
        f"/api/convenings/{cid}/seats", json={"holder_name": "Ana", "role": "participant"}
    )
    issued = await convener.post(f"/api/convenings/{cid}/seats/{seat.json()['id']}/invitation")
    token = issued.json()["link"].rsplit("/", 1)[1]
    for path in [
        f"/join/{token}",
        f"/api/invitations/{token}",
        "/join/not-a-token",
        "/progress/not-a-token",
        "/api/progress/not-a-token",
    ]:
        answer = await client.get(path)
        assert answer.headers["cache-control"] == "no-store", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
    redeemed = await client.post(
        "/api/invitations/redeem", json={"token": token, "accept_ground_rules": True}
    )
    assert redeemed.status_code == 200
    assert redeemed.headers["cache-control"] == "no-store"


async def test_the_live_room_page_carries_the_policy(seated: SeatBrowser, convening: Any) -> None:
    browser, _ = await seated(convening["id"])
    page = await browser.get(f"/convenings/{convening['id']}/room")
    assert page.status_code == 200
    assert_protected(page)


async def test_the_api_documentation_gets_its_own_policy(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy and "frame-ancestors 'none'" in policy
    assert (await client.get("/openapi.json")).headers["content-security-policy"] == CSP


async def test_hsts_only_when_served_over_https(database_url: str) -> None:
    app = create_app(make_settings(database_url, base_url="https://convene.example.org"))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://convene.example.org"
        ) as https,
    ):
        answer = await https.get("/sign-in")
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert_protected(answer)
