"""A participant's way through Convene with the keyboard alone: open the invitation link,
accept the ground rules, take the seat, raise a hand, answer the consensus check that opens,
lower the hand; with Tab, Shift+Tab, Enter, Space and Escape only, and a visible focus
indicator on every control the focus lands on."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import LiveServer, NewContext

pytestmark = pytest.mark.browser

WAIT = 10_000
ITEM = "Access to the fishing grounds"
PROPOSAL = "Close the northern grounds from June to August."
MAX_STEPS = 120  # Tab presses allowed to reach one control

# What the focused element looks like: its name, its focus outline (app.css draws one of 3px on
# :focus-visible), the contrast of the outline against what is behind the element, and whether
# it is on screen.
FOCUS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const rgb = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let behind = el.parentElement;
  let background = [255, 255, 255];
  while (behind) {
    const c = rgb(getComputedStyle(behind).backgroundColor);
    if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) { background = c.slice(0, 3); break; }
    behind = behind.parentElement;
  }
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const [a, b] = [luminance(rgb(style.outlineColor)), luminance(background)];
  const rect = el.getBoundingClientRect();
  return {
    name: (el.getAttribute("aria-label") || el.textContent || el.value || el.id || el.tagName)
      .trim().replace(/\\s+/g, " ").slice(0, 60),
    outline: outlined ? `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}` : "",
    contrast: outlined ? (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) : 0,
    focusVisible: el.matches(":focus-visible"),
    onScreen: rect.bottom > 0 && rect.top < innerHeight && rect.right > 0 && rect.left < innerWidth,
  };
}
"""


def focus_is_visible(page: Page) -> dict[str, Any]:
    """The focused element shows a focus outline of 2px or more that contrasts 3:1 with what is
    behind it, and is on screen."""
    focused = page.evaluate(FOCUS)
    assert focused is not None, "the focus is on nothing"
    assert focused["focusVisible"], f"no :focus-visible on {focused}"
    assert focused["outline"], f"no focus outline on {focused}"
    assert focused["contrast"] >= 3, f"the focus outline contrasts too little: {focused}"
    assert focused["onScreen"], f"the focused element is off screen: {focused}"
    return focused  # type: ignore[no-any-return]


def is_focused(target: Locator) -> bool:
    return target.count() == 1 and bool(target.evaluate("(el) => el === document.activeElement"))


def press_until(page: Page, target: Locator, key: str = "Tab") -> None:
    """Press `key` until `target` has the focus, checking the focus indicator at every stop."""
    visited = []
    for _ in range(MAX_STEPS):
        page.keyboard.press(key)
        visited.append(focus_is_visible(page)["name"])
        if is_focused(target):
            return
    raise AssertionError(f"{key} never reached {target}; it went through {visited}")


def test_focus_check_sees_a_missing_outline(new_context: NewContext) -> None:
    """The focus check above fails where no focus indicator is drawn."""
    page = new_context(bypass_csp=True).new_page()  # for the inline style that hides it
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    focus_is_visible(page)
    page.add_style_tag(content=":focus-visible { outline: none !important; }")
    with pytest.raises(AssertionError, match="no focus outline"):
        focus_is_visible(page)


@dataclass(frozen=True)
class Room:
    cid: int
    token: str  # the keyboard user's invitation
    facilitator: httpx.Client
    item_id: int


@pytest.fixture
def room(live_server: LiveServer) -> Iterator[Room]:
    """A live convening, its item open, Bruno already waiting for the floor; the keyboard
    user's link not used yet."""
    with (
        httpx.Client(base_url=live_server.url, timeout=10) as api,
        httpx.Client(base_url=live_server.url, timeout=10) as facilitator,
        httpx.Client(base_url=live_server.url, timeout=10) as bruno,
    ):

        def ok(response: httpx.Response, code: int = 200) -> Any:
            assert response.status_code == code, response.text
            return response.json() if response.content else None

        ok(
            api.post(
                "/api/auth/sign-in",
                json={
                    "email": live_server.convener_email,
                    "password": live_server.convener_password,
                },
            )
        )
        cid = ok(
            api.post(
                "/api/convenings",
                json={
                    "title": "Roundtable for the keyboard",
                    "purpose_type": "consensus_building",
                    "attribution": "chatham_house",
                    "time_zone": "Africa/Nairobi",
                },
            ),
            201,
        )["id"]
        group = ok(
            api.post(f"/api/convenings/{cid}/groups", json={"preset": "civil_society"}), 201
        )["id"]
        tokens = {}
        for name, role in (
            ("Farida Facilitator", "facilitator"),
            ("Bruno Costa", "participant"),
            ("Kofi Mensah", "participant"),
        ):
            body = {"holder_name": name, "role": role}
            if role == "participant":
                body["group_id"] = group
            seat = ok(api.post(f"/api/convenings/{cid}/seats", json=body), 201)
            link = ok(api.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation"), 201)
            tokens[name] = link["link"].rsplit("/", 1)[-1]
        item = ok(
            api.post(
                f"/api/convenings/{cid}/agenda",
                json={"kind": "decision", "title": ITEM, "timebox_minutes": 30},
            ),
            201,
        )["id"]
        ok(api.post(f"/api/convenings/{cid}/schedule"))
        ok(api.post(f"/api/convenings/{cid}/open"))
        ok(api.post(f"/api/convenings/{cid}/agenda/{item}/start"))
        for client, name in ((facilitator, "Farida Facilitator"), (bruno, "Bruno Costa")):
            ok(
                client.post(
                    "/api/invitations/redeem",
                    json={"token": tokens[name], "accept_ground_rules": True},
                )
            )
        ok(bruno.post(f"/api/convenings/{cid}/floor/hand", json={"kind": "hand"}), 201)
        yield Room(cid, tokens["Kofi Mensah"], facilitator, item)


def test_a_participant_takes_part_with_the_keyboard_alone(
    new_context: NewContext, room: Room
) -> None:
    page = new_context().new_page()
    page.goto(f"/join/{room.token}")

    # The first Tab shows the skip link; Enter on it moves the focus to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    assert is_focused(skip)
    focus_is_visible(page)
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Accept the ground rules with Space, take the seat with Enter.
    accept = page.get_by_label("I have read and accept the ground rules")
    press_until(page, accept)
    page.keyboard.press("Space")
    expect(accept).to_be_checked()
    take = page.get_by_role("button", name="Take my seat")
    press_until(page, take)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/convenings/{room.cid}/room$"))
    expect(page.locator(".seat-line")).to_contain_text("You are at the table as Kofi Mensah")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=WAIT)

    # Raise a hand: Bruno was first, so Kofi is second; the button now lowers the hand.
    hand = page.get_by_role("button", name="Raise my hand")
    press_until(page, hand)
    page.keyboard.press("Enter")
    expect(page.locator("#my-position")).to_have_text("You are 2nd in the queue.", timeout=WAIT)
    lower = page.get_by_role("button", name="Lower my hand")
    expect(lower).to_be_focused()
    expect(page.locator("#queue li").nth(1)).to_contain_text("Kofi Mensah (you)")

    # The facilitator puts a proposal to the room; Kofi answers it from the keyboard.
    response = room.facilitator.post(
        f"/api/convenings/{room.cid}/checks", json={"item_id": room.item_id, "proposal": PROPOSAL}
    )
    assert response.status_code == 201, response.text
    card = page.locator("#checks .check-card")
    expect(card.locator(".proposal")).to_have_text(PROPOSAL, timeout=WAIT)
    expect(lower).to_be_focused()  # a check arriving does not move the focus
    endorse = card.get_by_label("Endorse")
    press_until(page, endorse)
    page.keyboard.press("Space")
    expect(endorse).to_be_checked()
    answer = card.get_by_role("button", name="Answer")
    press_until(page, answer)
    page.keyboard.press("Enter")
    expect(card.locator(".my-answer")).to_have_text(
        "Your answer: Endorse. You may change it while the check is open.", timeout=WAIT
    )
    expect(card.locator('td[data-answer="endorse"]').last).to_have_text("1")

    # Back up to the hand with Shift+Tab and lower it with Space.
    press_until(page, lower, "Shift+Tab")
    page.keyboard.press("Space")
    expect(page.locator("#my-position")).to_be_hidden(timeout=WAIT)
    expect(page.locator("#queue li")).to_have_count(1)
    expect(page.locator("#queue")).not_to_contain_text("Kofi Mensah")
    expect(page.get_by_role("button", name="Raise my hand")).to_be_focused()

    # A dialog opens on Enter with the focus inside it, and Escape gives the focus back.
    dissent = page.locator("#item").get_by_role("button", name=re.compile("^Dissent from"))
    press_until(page, dissent, "Shift+Tab")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Log dissent")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Your reason (required)")).to_be_focused()
    focus_is_visible(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(dissent).to_be_focused()
