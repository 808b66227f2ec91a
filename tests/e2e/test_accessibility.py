"""Every page of the product, in the states its users see, checked with axe-core (vendored in
frontend/static/vendor/axe/) against WCAG 2.2 AA and axe's best practices, in the light and the
dark colour scheme; and the live pages' polite live regions, which must say what changed when
someone else changes the room (and must not read the timer out every second).

To check a new page, add one line to PAGES: a name, and how a user reaches it (a function that
gets a `Visit` and returns the open page, in the state to check).
"""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from app.config import ROOT
from tests.e2e.conftest import LiveServer, NewContext

pytestmark = pytest.mark.browser

AXE = ROOT / "frontend" / "static" / "vendor" / "axe" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = {"serious", "critical"}
WAIT = 10_000  # ms any one live change may take to show
ZONE = "Africa/Nairobi"
LIVE_TITLE = "Accessible roundtable on the coastal fisheries"
DRAFT_TITLE = "Preparatory roundtable on the mangroves"
ITEM = "Access to the fishing grounds"
NEXT_ITEM = "The closed season"
PROPOSAL = "Close the northern grounds from June to August."
OPEN_PROPOSAL = "Share the landing data every month."


# The data: two convenings, built through the API ----------------------------------------------


@dataclass
class World:
    """A live convening in full swing and a draft one in preparation, with the cookies of the
    seats taken through the API and the links the pages need."""

    server: LiveServer
    live: int
    draft: int
    live_item: int
    tokens: dict[str, str] = field(default_factory=dict)  # holder name → invitation token
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)  # holder → seat cookies
    progress_path: str = ""
    reader_path: str = ""  # a report-back reader's link
    public_path: str = ""  # the report-back's public link

    def path(self, template: str) -> str:
        """A path with {live}, {draft}, {progress}, {reader}, {public} and {token[holder name]}
        filled in."""
        return template.format(
            live=self.live,
            draft=self.draft,
            progress=self.progress_path,
            reader=self.reader_path,
            public=self.public_path,
            token=self.tokens,
        )


def _ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


def _seat(api: httpx.Client, cid: int, name: str, role: str, **fields: Any) -> tuple[int, str]:
    """Add a seat and issue its link: its id and its invitation token."""
    seat = _ok(
        api.post(
            f"/api/convenings/{cid}/seats", json={"holder_name": name, "role": role, **fields}
        ),
        201,
    )
    link = _ok(api.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation"), 201)["link"]
    return seat["id"], link.rsplit("/", 1)[-1]


def _taken(server: LiveServer, token: str) -> httpx.Client:
    """A client that has taken the seat of `token` (and keeps its seat cookie)."""
    client = httpx.Client(base_url=server.url, timeout=10)
    _ok(client.post("/api/invitations/redeem", json={"token": token, "accept_ground_rules": True}))
    return client


def _build_live(api: httpx.Client, server: LiveServer, world: World) -> None:
    """A live convening: an item open with questions, Bruno speaking, Ana and Eve waiting, an
    outcome, an open check Bruno answered, a dissent, parked issues, a commitment reported on."""
    cid = world.live
    groups = {
        preset: _ok(
            api.post(f"/api/convenings/{cid}/groups", json={"preset": preset, "target_seats": 2}),
            201,
        )["id"]
        for preset in ("civil_society", "government")
    }
    seats = {}
    for name, role, group, extra in [
        ("Farida Facilitator", "facilitator", None, {}),
        ("Rita Rapporteur", "rapporteur", None, {}),
        ("Ana Lima", "participant", "civil_society", {"affiliation": "Coastal Fishers Union"}),
        ("Bruno Costa", "participant", "government", {"affiliation": "Ministry of Fisheries"}),
        ("Chiku Salim", "participant", "civil_society", {"speaks_for": "300 boat owners"}),
        ("Dalia Mendes", "participant", "government", {}),
        ("Eve Mwangi", "participant", "civil_society", {}),
        ("Olu Observer", "observer", None, {}),
    ]:
        body = {"group_id": groups[group] if group else None, **extra}
        seats[name], world.tokens[name] = _seat(api, cid, name, role, **body)
    item = _ok(
        api.post(
            f"/api/convenings/{cid}/agenda",
            json={
                "kind": "discussion",
                "title": ITEM,
                "description": "Who may fish where, and when.",
                "timebox_minutes": 30,
                "questions": ["Who fishes where, and when?", "What do the records show?"],
            },
        ),
        201,
    )
    _ok(
        api.post(
            f"/api/convenings/{cid}/agenda",
            json={"kind": "decision", "title": NEXT_ITEM, "timebox_minutes": 20},
        ),
        201,
    )
    world.live_item = item["id"]
    _ok(api.post(f"/api/convenings/{cid}/schedule"))
    _ok(api.post(f"/api/convenings/{cid}/open"))
    _ok(api.post(f"/api/convenings/{cid}/agenda/{item['id']}/start"))

    clients = {
        name: _taken(server, world.tokens[name])
        for name in (
            "Farida Facilitator",
            "Rita Rapporteur",
            "Ana Lima",
            "Bruno Costa",
            "Eve Mwangi",
            "Olu Observer",
        )
    }
    for name, client in clients.items():
        world.cookies[name] = dict(client.cookies)
    ana, bruno, eve = clients["Ana Lima"], clients["Bruno Costa"], clients["Eve Mwangi"]
    farida, rita = clients["Farida Facilitator"], clients["Rita Rapporteur"]
    base = f"/api/convenings/{cid}"
    item_id = item["id"]

    # The record: a proposal that reached consensus, an open check, dissent, parked issues.
    made = _ok(
        ana.post(
            f"{base}/contributions",
            json={"item_id": item_id, "kind": "proposal", "text": PROPOSAL},
        ),
        201,
    )
    _ok(
        bruno.post(
            f"{base}/contributions",
            json={"item_id": item_id, "text": "The ministry will publish the catch data."},
        ),
        201,
    )
    _ok(
        rita.post(
            f"{base}/contributions/captured",
            json={
                "item_id": item_id,
                "seat_id": seats["Eve Mwangi"],
                "kind": "question",
                "text": "Who checks the data?",
            },
        ),
        201,
    )
    first = _ok(
        farida.post(
            f"{base}/checks",
            json={"item_id": item_id, "proposal": PROPOSAL, "contribution_id": made["id"]},
        ),
        201,
    )
    for client, answer in ((ana, "endorse"), (bruno, "agree")):
        _ok(client.put(f"{base}/checks/{first['id']}/answer", json={"answer": answer}))
    _ok(farida.post(f"{base}/checks/{first['id']}/close", json={}))
    check = _ok(
        farida.post(f"{base}/checks", json={"item_id": item_id, "proposal": OPEN_PROPOSAL}), 201
    )
    _ok(
        bruno.put(
            f"{base}/checks/{check['id']}/answer",
            json={"answer": "agree_with_reservations", "reason": "Only aggregated by district."},
        )
    )
    _ok(
        eve.post(
            f"{base}/dissents",
            json={"target": "item", "target_id": item_id, "reason": "The north is not heard."},
        ),
        201,
    )
    _ok(
        rita.post(
            f"{base}/parking",
            json={"text": "Compensation for the closed season", "seat_id": seats["Ana Lima"]},
        ),
        201,
    )
    parked = _ok(rita.post(f"{base}/parking", json={"text": "Who pays for the patrols?"}), 201)
    _ok(
        farida.post(
            f"{base}/parking/{parked['id']}/resolution",
            json={"resolution": "The ministry, from the 2031 budget."},
        )
    )

    # A commitment, reported on through its owner's link.
    due = (datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=60)).isoformat()
    _ok(
        ana.post(
            f"{base}/commitments",
            json={
                "what": "Share our members' catch logs with the ministry",
                "owner": "Ana Lima",
                "due_date": due,
                "indicator": "Logs shared each month",
                "resources": "One data officer",
                "item_id": item_id,
            },
        ),
        201,
    )
    link = _ok(api.get(f"{base}/commitments"))[0]["progress_link"]
    world.progress_path = "/progress/" + link.rsplit("/", 1)[-1]
    _ok(
        api.post(
            f"/api/progress/{link.rsplit('/', 1)[-1]}",
            json={"status": "at_risk", "text": "Two of five cooperatives shared their logs."},
        ),
        201,
    )

    # The floor: Bruno speaks, Ana and Eve wait (Eve with a point of order).
    _ok(bruno.post(f"{base}/floor/hand", json={"kind": "hand"}), 201)
    _ok(farida.post(f"{base}/floor/next"))
    _ok(ana.post(f"{base}/floor/hand", json={"kind": "hand"}), 201)
    _ok(eve.post(f"{base}/floor/hand", json={"kind": "point_of_order"}), 201)
    for client in clients.values():
        client.close()


def _build_draft(api: httpx.Client, server: LiveServer, world: World) -> None:
    """A draft convening: groups (one empty), seats, links issued (one taken), an agenda over
    its time, no rapporteur."""
    cid = world.draft
    _ok(
        api.patch(
            f"/api/convenings/{cid}",
            json={"ground_rules": "Speak for your constituency.\n\nOne voice at a time."},
        )
    )
    civil = _ok(
        api.post(
            f"/api/convenings/{cid}/groups", json={"preset": "civil_society", "target_seats": 2}
        ),
        201,
    )["id"]
    _ok(
        api.post(
            f"/api/convenings/{cid}/groups", json={"name": "Mangrove cutters", "target_seats": 1}
        ),
        201,
    )
    _seat(api, cid, "Amina Odhiambo", "facilitator", email="amina@example.org")
    _, token = _seat(
        api,
        cid,
        "Baraka Mwangi",
        "participant",
        group_id=civil,
        affiliation="Coast Women's Network",
        email="baraka@example.org",
        speaks_for="women fish traders",
    )
    world.tokens["Baraka Mwangi"] = token
    _ok(
        api.post(
            f"/api/convenings/{cid}/seats",
            json={"holder_name": "Zawadi Ali", "role": "participant", "attendance": "declined"},
        ),
        201,
    )
    for title, minutes in (("Opening", 30), ("Who cuts where", 200), ("Next steps", 60)):
        _ok(
            api.post(
                f"/api/convenings/{cid}/agenda",
                json={"kind": "discussion", "title": title, "timebox_minutes": minutes},
            ),
            201,
        )
    client = _taken(server, token)
    world.cookies["Baraka Mwangi"] = dict(client.cookies)
    client.close()


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> Iterator[World]:
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        _ok(
            api.post(
                "/api/auth/sign-in",
                json={
                    "email": live_server.convener_email,
                    "password": live_server.convener_password,
                },
            )
        )
        common = {"purpose_type": "consensus_building", "time_zone": ZONE}
        live = _ok(
            api.post(
                "/api/convenings",
                json={
                    "title": LIVE_TITLE,
                    "purpose": "Agree on fair access to the fishing grounds.",
                    "attribution": "chatham_house",
                    **common,
                },
            ),
            201,
        )
        draft = _ok(
            api.post(
                "/api/convenings",
                json={
                    "title": DRAFT_TITLE,
                    "attribution": "attributed",
                    "starts_at": "2030-03-02T09:00:00+03:00",
                    "ends_at": "2030-03-02T13:00:00+03:00",
                    **common,
                },
            ),
            201,
        )
        built = World(live_server, live["id"], draft["id"], 0)
        _build_live(api, live_server, built)
        _build_draft(api, live_server, built)
        _build_report(api, built)
        yield built


def _build_report(api: httpx.Client, world: World) -> None:
    """Version 1 of the live convening's report-back, a reader and the public link."""
    cid = world.live
    _ok(api.post(f"/api/convenings/{cid}/report/draft/generate"))
    _ok(api.post(f"/api/convenings/{cid}/report/versions"), 201)
    reader = _ok(
        api.post(
            f"/api/convenings/{cid}/report/readers",
            json={"name": "Rita Reader", "email": "rita.reader@example.org"},
        ),
        201,
    )
    world.reader_path = "/read/" + reader["link"].rsplit("/", 1)[-1]
    public = _ok(api.put(f"/api/convenings/{cid}/report/public-link", json={"on": True}))
    world.public_path = "/public/report/" + public["link"].rsplit("/", 1)[-1]


# Reaching a page -------------------------------------------------------------------------------


@dataclass
class Visit:
    """How a test reaches pages: as nobody, as the convener, or as a seat of the world."""

    new_context: NewContext
    world: World

    def browser(self, **options: Any) -> BrowserContext:
        # The axe script is injected inline: bypass the page's Content-Security-Policy for it.
        return self.new_context(bypass_csp=True, **options)

    def anonymous(self, path: str, status: int = 200, **options: Any) -> Page:
        page = self.browser(**options).new_page()
        response = page.goto(self.world.path(path))
        assert response is not None and response.status == status, (path, response)
        return page

    def convener(self, path: str, status: int = 200, **options: Any) -> Page:
        context = self.browser(**options)
        server = self.world.server
        response = context.request.post(
            "/api/auth/sign-in",
            data={"email": server.convener_email, "password": server.convener_password},
        )
        assert response.ok, response.text()
        page = context.new_page()
        answer = page.goto(self.world.path(path))
        assert answer is not None and answer.status == status, (path, answer)
        return page

    def seat_context(self, name: str, **options: Any) -> BrowserContext:
        context = self.browser(**options)
        context.add_cookies(
            [
                {"name": key, "value": value, "url": self.world.server.url}
                for key, value in self.world.cookies[name].items()
            ]
        )
        return context

    def seat(self, name: str, path: str, status: int = 200, **options: Any) -> Page:
        page = self.seat_context(name, **options).new_page()
        response = page.goto(self.world.path(path))
        assert response is not None and response.status == status, (path, response)
        return page

    def live(self, name: str, page_name: str, **options: Any) -> Page:
        """A live page of the live convening, once its connection has delivered the room."""
        page = self.seat(name, f"/convenings/{{live}}/{page_name}", **options)
        expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
        return page


def room_in_full_swing(visit: Visit, **options: Any) -> Page:
    """Ana's room: the item open, Bruno speaking, her hand raised, a check to answer."""
    page = visit.live("Ana Lima", "room", **options)
    expect(page.locator("#my-position")).to_have_text("You are 2nd in the queue.")
    expect(page.locator("#checks .check-card .proposal")).to_have_text(OPEN_PROPOSAL)
    expect(page.locator("#commitments table")).to_be_visible()
    expect(page.get_by_role("button", name="Direct reply")).to_be_visible()
    return page


def room_dialog_open(visit: Visit) -> Page:
    """Ana's room with the dialog asking for the reason of a dissent, after a refused send."""
    page = room_in_full_swing(visit)
    page.locator("#item").get_by_role("button", name=re.compile("^Dissent from")).click()
    dialog = page.get_by_role("dialog", name="Log dissent")
    dialog.get_by_role("button", name="Log my dissent").click()
    expect(dialog.locator(".field-error")).to_be_visible()
    return page


def room_answer_refused(visit: Visit) -> Page:
    """Ana's room after answering "Block" without the reason it needs, the commitment form open."""
    page = room_in_full_swing(visit)
    card = page.locator("#checks .check-card")
    card.get_by_label("Block").check()
    card.get_by_role("button", name="Answer").click()
    expect(card.locator(".field-error")).to_be_visible()
    page.get_by_text("Make a commitment").click()
    expect(page.locator("#commitment-form")).to_be_visible()
    return page


def facilitator_console(visit: Visit, **options: Any) -> Page:
    page = visit.live("Farida Facilitator", "facilitate", **options)
    expect(page.locator("#queue-body tr")).to_have_count(2)
    expect(page.locator("#checks .check-card")).to_be_visible()
    expect(page.locator("#commitments table")).to_be_visible()
    page.get_by_text("Record a commitment on behalf of a seat").click()
    return page


def room_display(visit: Visit) -> Page:
    page = visit.live("Farida Facilitator", "display")
    expect(page.locator("#speaker")).to_have_text("Bruno Costa")
    expect(page.locator("#next li")).to_have_count(2)
    return page


def rapporteur_desk(visit: Visit) -> Page:
    page = visit.live("Rita Rapporteur", "desk")
    expect(page.locator("#captured li")).to_have_count(3)
    page.keyboard.type("Zed")
    page.keyboard.press("Alt+KeyT")
    page.keyboard.type("Nobody said this.")
    page.keyboard.press("Enter")
    expect(page.locator("#capture .field-error")).to_be_visible()
    return page


def room_before_opening(visit: Visit) -> Page:
    page = visit.seat("Baraka Mwangi", "/convenings/{draft}/room")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(page.locator("#phase")).to_contain_text("has not started yet")
    return page


def join_after_accepting(visit: Visit) -> Page:
    """Dalia takes her seat through the form, then opens her link again."""
    page = visit.anonymous("/join/{token[Dalia Mendes]}")
    page.get_by_label("I have read and accept the ground rules").check()
    page.get_by_role("button", name="Take my seat").click()
    expect(page).to_have_url(re.compile(r"/room$"))
    page.goto(visit.world.path("/join/{token[Dalia Mendes]}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You have your seat")
    return page


def sign_in_refused(visit: Visit) -> Page:
    page = visit.anonymous("/sign-in")
    page.get_by_label("Email").fill(visit.world.server.convener_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    return page


def console_form_refused(visit: Visit) -> Page:
    """The preparation console after adding a group whose name is taken."""
    page = visit.convener("/console/convenings/{draft}")
    groups = page.locator("#groups")
    groups.get_by_label("Custom name").fill("mangrove cutters")
    groups.get_by_role("button", name="Add the group").click()
    expect(groups.get_by_label("Custom name")).to_have_attribute("aria-invalid", "true")
    return page


def live_console(visit: Visit) -> Page:
    page = visit.convener("/console/convenings/{live}")
    expect(page.locator("#invitations")).to_contain_text("Seat taken")
    return page


Reach = Callable[[Visit], Page]
PHONE = {"viewport": {"width": 390, "height": 844}}

# Every page of the product, in the states its users see. One line per page (or state).
PAGES: list[tuple[str, Reach]] = [
    ("sign-in", lambda v: v.anonymous("/sign-in")),
    ("sign-in, wrong password", sign_in_refused),
    ("console index", lambda v: v.convener("/console")),
    ("console, convening in preparation", lambda v: v.convener("/console/convenings/{draft}")),
    ("console, a form refused", console_form_refused),
    ("console, live convening with seats taken", live_console),
    ("console on a phone", lambda v: v.convener("/console/convenings/{draft}", **PHONE)),
    ("join, before accepting", lambda v: v.anonymous("/join/{token[Chiku Salim]}")),
    ("join, after accepting", join_after_accepting),
    ("join, link used elsewhere", lambda v: v.anonymous("/join/{token[Ana Lima]}", 409)),
    ("join, link not valid", lambda v: v.anonymous("/join/not-a-real-invitation-token", 404)),
    ("room, item open, hand raised, check open", room_in_full_swing),
    ("room, dissent dialog with an error", room_dialog_open),
    ("room, answer refused, commitment form open", room_answer_refused),
    ("room on a phone", lambda v: room_in_full_swing(v, **PHONE)),
    ("room, observer", lambda v: v.live("Olu Observer", "room")),
    ("room, before the convening opens", room_before_opening),
    ("facilitator console", facilitator_console),
    ("facilitator console on a phone", lambda v: facilitator_console(v, **PHONE)),
    ("room display", room_display),
    ("rapporteur's desk", rapporteur_desk),
    ("commitments, convener", lambda v: v.convener("/convenings/{live}/commitments")),
    ("commitments, seat", lambda v: v.seat("Bruno Costa", "/convenings/{live}/commitments")),
    ("commitments, phone", lambda v: v.seat("Ana Lima", "/convenings/{live}/commitments", **PHONE)),
    ("progress page", lambda v: v.anonymous("{progress}")),
    ("progress page on a phone", lambda v: v.anonymous("{progress}", **PHONE)),
    ("report-back, reader", lambda v: v.anonymous("{reader}")),
    ("report-back, reader on a phone", lambda v: v.anonymous("{reader}", **PHONE)),
    ("report-back, seat", lambda v: v.seat("Ana Lima", "/convenings/{live}/report")),
    ("report-back editor", lambda v: v.convener("/convenings/{live}/report/edit")),
    ("report-back publishing and reach", lambda v: v.convener("/convenings/{live}/report/manage")),
    ("report-back, public link", lambda v: v.anonymous("{public}")),
    ("404 page", lambda v: v.anonymous("/convenings/999999/room", 404)),
    ("404 page, unknown address", lambda v: v.anonymous("/no-such-page", 404)),
    ("404 page, malformed address", lambda v: v.anonymous("/convenings/abc/room", 404)),
    ("403 page", lambda v: v.seat("Ana Lima", "/convenings/{live}/facilitate", 403)),
]

# Pages known to fail, and why: each fails its test until it is fixed (strict xfail), so that
# the line here is removed with the fix.
KNOWN_GAPS: dict[str, str] = {}


# Checking a page -------------------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; its violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, {
            runOnly: { type: "tag", values: tags },
            resultTypes: ["violations"],
          });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({
              target: n.target.map(String).join(" "), summary: n.failureSummary,
            })),
          }));
        }""",
        AXE_TAGS,
    )
    return result  # type: ignore[no-any-return]


def describe(violations: list[dict[str, Any]]) -> str:
    """Each violation's id, impact and help, and the nodes it was found on."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str) -> None:
    """No serious or critical axe violation, in the light and the dark colour scheme (lesser
    ones are printed)."""
    found = []
    for scheme in ("light", "dark"):
        # Without transitions, so that colours are read as they end up, not halfway.
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        for violation in axe_violations(page):
            violation["scheme"] = scheme
            found.append(violation)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    lesser = [v for v in found if v["impact"] not in BLOCKING]
    if lesser:
        print(f"{name}: lesser violations:\n{describe(lesser)}")
    by_scheme = "\n".join(
        f"{scheme} scheme:\n{describe([v for v in blocking if v['scheme'] == scheme])}"
        for scheme in ("light", "dark")
        if any(v["scheme"] == scheme for v in blocking)
    )
    assert not blocking, (
        f"{name} ({page.url}): axe found serious or critical violations:\n{by_scheme}"
    )


@pytest.mark.parametrize(
    ("name", "reach"),
    [
        pytest.param(
            name,
            reach,
            id=name,
            marks=[pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True)]
            if name in KNOWN_GAPS
            else [],
        )
        for name, reach in PAGES
    ],
)
def test_every_page_passes_axe(
    name: str, reach: Reach, new_context: NewContext, world: World
) -> None:
    page = reach(Visit(new_context, world))
    assert_accessible(page, name)


# Live regions ----------------------------------------------------------------------------------

# Keeps what every live region (and status) of the page said, in order, in window.__said.
LISTEN = """
(() => {
  window.__said = [];
  const LIVE = '[aria-live]:not([aria-live="off"]), [role="status"], [role="log"], [role="alert"]';
  const last = new Map();
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      const node = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      const region = node && node.closest(LIVE);
      if (!region) continue;
      const text = region.textContent.trim().replace(/\\s+/g, " ");
      const key = region.id || region.className;
      if (!text || last.get(key) === text) continue;
      last.set(key, text);
      window.__said.push({ region: region.id, text, at: Date.now() });
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""


def listening(context: BrowserContext) -> BrowserContext:
    context.add_init_script(LISTEN)
    return context


def said(page: Page, region: str) -> list[str]:
    """Everything the region has said so far."""
    found = page.evaluate("(id) => window.__said.filter((s) => s.region === id)", region)
    return [s["text"] for s in found]


def hears(page: Page, region: str, text: str, timeout: int = WAIT) -> None:
    """The polite live region `region` of the page says `text` (it may say more)."""
    live = page.locator(f"#{region}")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_attribute("role", re.compile("^(status|log)$"))
    try:
        page.wait_for_function(
            "([id, text]) => window.__said.some((s) => s.region === id && s.text.includes(text))",
            arg=[region, text],
            timeout=timeout,
        )
    except PlaywrightTimeoutError as error:  # say what was heard instead
        raise AssertionError(
            f"#{region} on {page.url} never said {text!r}; it said {json.dumps(said(page, region))}"
        ) from error


@pytest.fixture
def floor(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    """A live convening of its own (two items, a 2-minute one first), for changes to the floor."""
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        _ok(
            api.post(
                "/api/auth/sign-in",
                json={
                    "email": live_server.convener_email,
                    "password": live_server.convener_password,
                },
            )
        )
        cid = _ok(
            api.post(
                "/api/convenings",
                json={
                    "title": "Roundtable heard, not only seen",
                    "purpose_type": "consensus_building",
                    "attribution": "attributed",
                    "time_zone": ZONE,
                },
            ),
            201,
        )["id"]
        group = _ok(
            api.post(f"/api/convenings/{cid}/groups", json={"preset": "civil_society"}), 201
        )["id"]
        tokens = {
            name: _seat(api, cid, name, role, group_id=group if role == "participant" else None)[1]
            for name, role in (
                ("Farida Facilitator", "facilitator"),
                ("Ana Lima", "participant"),
                ("Bruno Costa", "participant"),
            )
        }
        items = [
            _ok(
                api.post(
                    f"/api/convenings/{cid}/agenda",
                    json={"kind": "discussion", "title": title, "timebox_minutes": minutes},
                ),
                201,
            )["id"]
            for title, minutes in ((ITEM, 2), (NEXT_ITEM, 15))
        ]
        _ok(api.post(f"/api/convenings/{cid}/schedule"))
        _ok(api.post(f"/api/convenings/{cid}/open"))
        _ok(api.post(f"/api/convenings/{cid}/agenda/{items[0]}/start"))
        yield {"cid": cid, "tokens": tokens, "items": items}


def seated(new_context: NewContext, floor: dict[str, Any], name: str) -> BrowserContext:
    context = listening(new_context())
    response = context.request.post(
        "/api/invitations/redeem",
        data={"token": floor["tokens"][name], "accept_ground_rules": True},
    )
    assert response.ok, response.text()
    return context


def open_live(page: Page, cid: int, path: str) -> None:
    page.goto(f"/convenings/{cid}/{path}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")


def test_live_changes_are_announced_politely(
    new_context: NewContext, floor: dict[str, Any]
) -> None:
    cid = floor["cid"]
    ana = seated(new_context, floor, "Ana Lima").new_page()
    bruno = seated(new_context, floor, "Bruno Costa").new_page()
    farida_context = seated(new_context, floor, "Farida Facilitator")
    facilitator = farida_context.new_page()
    display = farida_context.new_page()
    open_live(ana, cid, "room")
    open_live(facilitator, cid, "facilitate")
    open_live(display, cid, "display")
    open_live(bruno, cid, "room")

    # The timer is shown, never spoken: it is not in a live region, and ticking adds nothing.
    for page in (ana, facilitator, display):
        timer = page.locator("#timer")
        expect(timer).to_have_text(re.compile(r"\d:\d\d left"))
        assert timer.evaluate(
            """(el) => !el.closest('[aria-live]:not([aria-live="off"]), [role=status], [role=log]')
                 && (el.getAttribute('aria-live') || 'off') === 'off'"""
        ), f"the timer of {page.url} is in a live region"

    # Bruno raises his hand in his browser: Ana, the facilitator and the projector hear it.
    bruno.get_by_role("button", name="Raise my hand").click()
    hears(ana, "announce", "Bruno Costa raised a hand.")
    hears(facilitator, "announce", "Bruno Costa raised a hand.")
    hears(display, "announce", "Bruno Costa raised a hand.")
    # Ana raises hers: Bruno hears it, and Ana hears her own place.
    ana.get_by_role("button", name="Raise my hand").click()
    hears(bruno, "announce", "Ana Lima raised a hand.")
    hears(ana, "announce", "You are 2nd in the queue.")
    # Bruno lowers his: the others hear that too, and Ana her new place.
    bruno.get_by_role("button", name="Lower my hand").click()
    hears(facilitator, "announce", "Bruno Costa lowered a hand.")
    hears(ana, "announce", "You are 1st in the queue.")

    # The facilitator gives Ana the floor.
    facilitator.get_by_role("button", name="Call next").click()
    hears(ana, "announce", "You have the floor.")
    hears(bruno, "announce", "Ana Lima has the floor.")
    hears(display, "announce", "Ana Lima has the floor.")

    # A consensus check tabled in the facilitator's browser is announced in the room.
    facilitator.get_by_label("Proposal to put to the room").fill(OPEN_PROPOSAL)
    facilitator.get_by_role("button", name="Table the check").click()
    hears(ana, "record-announce", f"A consensus check is open: {OPEN_PROPOSAL}")
    hears(bruno, "record-announce", "A consensus check is open")

    # The next item: its title and its time are announced everywhere.
    facilitator.get_by_role("button", name=f"Start the next item: {NEXT_ITEM}").click()
    for page in (ana, bruno, facilitator, display):
        hears(page, "announce", f"Now on the floor: {NEXT_ITEM}, 15 minutes.")

    # Over the seconds that follow the timer ticks on screen, and no region reads it out.
    before = {id(page): len(page.evaluate("window.__said")) for page in (ana, facilitator)}
    ana.wait_for_timeout(3_500)
    for page in (ana, facilitator):
        after = page.evaluate("window.__said")[before[id(page)] :]
        ticking = [s for s in after if re.search(r"\d:\d\d", s["text"])]
        assert not ticking, f"{page.url} read the timer out: {ticking}"


def test_the_timer_is_announced_at_its_moments(
    new_context: NewContext, floor: dict[str, Any]
) -> None:
    """On a 2-minute item: nothing while it runs, then one minute left, then time over (the
    browser's clock is moved on, the server's is not)."""
    context = seated(new_context, floor, "Ana Lima")
    context.clock.install()
    room = context.new_page()
    open_live(room, floor["cid"], "room")
    expect(room.locator("#timer")).to_have_text(re.compile(r"^[12]:\d\d left$"))
    room.clock.run_for(2_000)
    assert not [s for s in said(room, "announce") if "left" in s or "over" in s]
    room.clock.fast_forward("01:05")
    expect(room.locator("#timer")).to_have_text(re.compile(r"^0:\d\d left$"))
    hears(room, "announce", "One minute left on this item.")
    room.clock.fast_forward("01:00")
    expect(room.locator("#timer")).to_have_text(re.compile(r"^\+\d:\d\d over$"))
    hears(room, "announce", "Time is up for this item: it is running over.")
    moments = [s for s in said(room, "announce") if "minute left" in s or "Time is up" in s]
    assert len(moments) == 2, moments
