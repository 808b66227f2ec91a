"""The Content-Security-Policy breaks nothing: every page, opened in Chromium, loads its
scripts and styles and connects to the live room without a single policy violation."""

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.e2e.conftest import (  # noqa: F401 (fixtures)
    LiveServer,
    NewContext,
    browser,
    convener_context,
    live_server,
    new_context,
)

pytestmark = pytest.mark.browser

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status == status, answer.text()
    return answer.json()


def _open(context: BrowserContext, path: str, complaints: list[str]) -> Page:
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            complaints.append(f"{path}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    answer = page.goto(path)
    assert answer is not None and answer.status == 200, (path, answer and answer.status)
    page.wait_for_load_state("networkidle")
    complaints.extend(f"{path}: {v}" for v in page.evaluate("window.__violations"))
    return page


def test_every_page_loads_without_a_policy_violation(
    convener_context: BrowserContext,  # noqa: F811
    new_context: NewContext,  # noqa: F811
) -> None:
    api = convener_context.request
    convening = _ok(
        api.post(
            "/api/convenings",
            data={
                "title": "Policy check",
                "purpose_type": "consensus_building",
                "attribution": "chatham_house",
                "time_zone": "Africa/Nairobi",
            },
        ),
        201,
    )
    cid = convening["id"]
    seat = _ok(
        api.post(
            f"/api/convenings/{cid}/seats",
            data={"holder_name": "Farida", "role": "facilitator"},
        ),
        201,
    )
    link = _ok(api.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation"), 201)["link"]
    token = link.rsplit("/", 1)[1]

    complaints: list[str] = []
    convener_context.add_init_script(WATCH_VIOLATIONS)
    for path in ["/console", f"/console/convenings/{cid}"]:
        _open(convener_context, path, complaints)

    anonymous = new_context()
    anonymous.add_init_script(WATCH_VIOLATIONS)
    _open(anonymous, "/sign-in", complaints)

    facilitator = new_context()
    facilitator.add_init_script(WATCH_VIOLATIONS)
    _open(facilitator, f"/join/{token}", complaints)
    _ok(
        facilitator.request.post(
            "/api/invitations/redeem", data={"token": token, "accept_ground_rules": True}
        )
    )
    for page in ["room", "facilitate", "display", "desk", "commitments"]:
        opened = _open(facilitator, f"/convenings/{cid}/{page}", complaints)
        if page == "room":
            status = opened.get_by_role("status").first
            status.wait_for()
    assert not complaints, complaints
