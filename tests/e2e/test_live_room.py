"""The live room in the browser: a hand raised by one participant reaches the others and the
facilitator without a reload, the facilitator gives the floor, the timer runs, and a page
whose websocket is cut falls back to long polling and stays current."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Response, WebSocketRoute, expect

from tests.e2e.conftest import LiveServer, NewContext

pytestmark = pytest.mark.browser

WAIT = 10_000  # ms any one change may take to show
FIRST_LOAD_BUDGET = 150_000  # bytes transferred (headers and encoded bodies) on first load
ITEM = "Access to the fishing grounds"


@dataclass(frozen=True)
class LiveRoom:
    """A live convening with its first item open, and each seat's invitation token."""

    cid: int
    tokens: dict[str, str]  # seat holder's name → invitation token
    item_id: int


def _ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json() if response.content else None


@pytest.fixture
def live_room(live_server: LiveServer) -> Iterator[LiveRoom]:
    """Through the API: two groups, a facilitator, two participants and an observer, one item,
    the convening opened and its item started."""
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
        convening = _ok(
            api.post(
                "/api/convenings",
                json={
                    "title": "Live roundtable on the coastal fisheries",
                    "purpose_type": "consensus_building",
                    "attribution": "chatham_house",
                    "time_zone": "Africa/Nairobi",
                },
            ),
            201,
        )
        cid = convening["id"]
        groups = {
            preset: _ok(api.post(f"/api/convenings/{cid}/groups", json={"preset": preset}), 201)
            for preset in ("civil_society", "government")
        }
        seats = [
            ("Farida Facilitator", "facilitator", None),
            ("Ana Lima", "participant", groups["civil_society"]["id"]),
            ("Bruno Costa", "participant", groups["government"]["id"]),
            ("Olu Observer", "observer", None),
        ]
        tokens = {}
        for name, role, group_id in seats:
            seat = _ok(
                api.post(
                    f"/api/convenings/{cid}/seats",
                    json={"holder_name": name, "role": role, "group_id": group_id},
                ),
                201,
            )
            invitation = _ok(api.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation"), 201)
            tokens[name] = invitation["link"].rsplit("/", 1)[-1]
        item = _ok(
            api.post(
                f"/api/convenings/{cid}/agenda",
                json={
                    "kind": "discussion",
                    "title": ITEM,
                    "timebox_minutes": 10,
                    "questions": ["Who fishes where, and when?"],
                },
            ),
            201,
        )
        _ok(api.post(f"/api/convenings/{cid}/schedule"))
        _ok(api.post(f"/api/convenings/{cid}/open"))
        _ok(api.post(f"/api/convenings/{cid}/agenda/{item['id']}/start"))
        yield LiveRoom(cid, tokens, item["id"])


def seated(new_context: NewContext, room: LiveRoom, name: str) -> BrowserContext:
    """A browser that has taken the named seat (through the redemption API)."""
    context = new_context()
    response = context.request.post(
        "/api/invitations/redeem", data={"token": room.tokens[name], "accept_ground_rules": True}
    )
    assert response.ok, response.text()
    return context


def open_room(page: Page, room: LiveRoom, path: str = "room") -> None:
    """Open a live page and wait until its websocket has delivered the room."""
    page.goto(f"/convenings/{room.cid}/{path}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=WAIT)


def first_load_bytes(page: Page, url: str) -> int:
    """Bytes transferred for every response the page needs on its first load, until it is
    live: headers plus bodies as sent (compressed where the server compresses)."""
    responses: list[Response] = []

    def collect(response: Response) -> None:
        responses.append(response)

    page.on("response", collect)
    page.goto(url)
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=WAIT)
    page.wait_for_load_state("networkidle")
    page.remove_listener("response", collect)
    sizes = {}
    for response in responses:
        sent = response.request.sizes()
        sizes[response.url] = sent["responseHeadersSize"] + sent["responseBodySize"]
    assert any(u.endswith("/static/js/live.js") for u in sizes), sizes
    return sum(sizes.values())


def test_hands_reach_everyone_live_and_polling_takes_over(
    new_context: NewContext, live_room: LiveRoom, tmp_path: Path
) -> None:
    facilitator = seated(new_context, live_room, "Farida Facilitator").new_page()
    ana_context = seated(new_context, live_room, "Ana Lima")
    ana = ana_context.new_page()
    bruno = seated(new_context, live_room, "Bruno Costa").new_page()

    # Bruno's websocket goes through a route the test can cut, like a proxy that drops it.
    cut = False
    sockets: list[WebSocketRoute] = []

    def proxy(ws: WebSocketRoute) -> None:
        if cut:
            ws.close(code=4000, reason="blocked by the test")
            return
        ws.connect_to_server()
        sockets.append(ws)

    bruno.route_web_socket(re.compile(r"/api/convenings/\d+/live"), proxy)

    room_url = f"/convenings/{live_room.cid}/room"
    size = first_load_bytes(ana, room_url)
    print(f"first load of the room: {size} bytes")
    assert size <= FIRST_LOAD_BUDGET, f"the room's first load is {size} bytes"
    open_room(bruno, live_room)
    open_room(facilitator, live_room, "facilitate")

    expect(ana.locator("#item")).to_contain_text(ITEM)
    expect(ana.locator("#item")).to_contain_text("Who fishes where, and when?")
    expect(ana.locator("#timer")).to_have_text(re.compile(r"^\d+:\d\d left$"))

    # Ana raises her hand: Bruno and the facilitator see it without a reload.
    ana.get_by_role("button", name="Raise my hand").click()
    expect(ana.locator("#my-position")).to_have_text("You are 1st in the queue.", timeout=WAIT)
    expect(bruno.locator("#queue")).to_contain_text("Ana Lima", timeout=WAIT)
    queue = facilitator.locator("#queue-body")
    expect(queue.get_by_role("row", name=re.compile("Ana Lima"))).to_be_visible(timeout=WAIT)
    expect(ana.get_by_role("button", name="Lower my hand")).to_be_visible()

    # The facilitator calls the next speaker: everyone sees Ana has the floor.
    facilitator.get_by_role("button", name="Call next").click()
    expect(bruno.locator("#speaker")).to_contain_text("Ana Lima (Civil society) has the floor")
    expect(bruno.locator("#announce")).to_have_text("Ana Lima has the floor.", timeout=WAIT)
    expect(ana.locator("#speaker")).to_contain_text("You (Civil society) have the floor")
    expect(ana.locator("#my-position")).to_have_text("You have the floor.")
    expect(bruno.locator("#queue-empty")).to_be_visible()
    expect(facilitator.locator("#speaker")).to_contain_text(
        "Ana Lima (Civil society) has the floor"
    )

    # The projector shows the speaker too.
    display = facilitator.context.new_page()
    open_room(display, live_room, "display")
    expect(display.locator("#speaker")).to_have_text("Ana Lima")
    expect(display.locator("#speaker-group")).to_have_text("Civil society")
    expect(display.get_by_role("heading", level=1)).to_have_text(ITEM)

    # The timer runs on every page, computed in the browser.
    before = bruno.locator("#timer").inner_text()
    expect(bruno.locator("#timer")).not_to_have_text(before, timeout=5_000)
    expect(bruno.locator("#timer")).to_have_text(re.compile(r"^\d+:\d\d left$"))

    for name, shot in (("room", ana), ("facilitate", facilitator), ("display", display)):
        shot.screenshot(path=str(tmp_path / f"{name}.png"), full_page=name != "display")
    ana.set_viewport_size({"width": 390, "height": 844})  # a phone
    ana.screenshot(path=str(tmp_path / "room-phone.png"), full_page=True)

    # Cut Bruno's websocket and refuse new ones: his page falls back to long polling.
    cut = True
    for ws in sockets:
        ws.close(code=4000, reason="cut by the test")
    connection = bruno.locator("#connection")
    expect(connection).to_have_attribute("data-state", "polling", timeout=15_000)
    expect(connection).to_have_text("Connected (polling)")

    # A hand raised after that still reaches Bruno.
    ana.get_by_role("button", name="Raise my hand").click()
    expect(ana.locator("#my-position")).to_have_text("You have the floor.")
    expect(bruno.locator("#queue")).to_contain_text("Ana Lima", timeout=WAIT)
    # And his own actions still work and show up everywhere.
    bruno.get_by_role("button", name="Point of order").click()
    expect(bruno.locator("#my-position")).to_have_text("You are 1st in the queue.", timeout=WAIT)
    expect(ana.locator("#queue li").first).to_contain_text("Bruno Costa")
    expect(connection).to_have_attribute("data-state", "polling")


def test_the_facilitator_runs_the_floor_from_the_console(
    new_context: NewContext, live_room: LiveRoom
) -> None:
    facilitator = seated(new_context, live_room, "Farida Facilitator").new_page()
    ana = seated(new_context, live_room, "Ana Lima").new_page()
    bruno = seated(new_context, live_room, "Bruno Costa").new_page()
    open_room(facilitator, live_room, "facilitate")
    # Ana's page is forced to long polling from its URL; it must keep up all the same.
    ana.goto(f"/convenings/{live_room.cid}/room?transport=poll")
    expect(ana.locator("#connection")).to_have_attribute("data-state", "polling")
    open_room(bruno, live_room)

    ana.get_by_role("button", name="Raise my hand").click()
    expect(ana.locator("#my-position")).to_have_text("You are 1st in the queue.")
    bruno.get_by_role("button", name="Raise my hand").click()
    expect(bruno.locator("#my-position")).to_have_text("You are 2nd in the queue.")

    # Moving Bruno up puts Ana second.
    facilitator.get_by_role("button", name="Move Bruno Costa up").click()
    expect(ana.locator("#my-position")).to_have_text("You are 2nd in the queue.")
    expect(bruno.locator("#my-position")).to_have_text("You are 1st in the queue.")
    expect(facilitator.get_by_role("button", name="Move Bruno Costa up")).to_be_focused()
    ana.get_by_role("button", name="Lower my hand").click()
    expect(ana.locator("#my-position")).to_be_hidden()
    expect(facilitator.locator("#queue-body tr")).to_have_count(1)

    # Pausing the timer shows everywhere; resuming runs it again.
    facilitator.get_by_role("button", name="Pause the timer").click()
    expect(ana.locator("#timer")).to_have_text(re.compile(r"^Paused · \d+:\d\d left$"))
    facilitator.get_by_role("button", name="Resume the timer").click()
    expect(ana.locator("#timer")).to_have_text(re.compile(r"^\d+:\d\d left$"))

    # A direct reply is offered only while someone else speaks.
    expect(ana.get_by_role("button", name="Direct reply")).to_be_hidden()
    facilitator.get_by_role("button", name="Call next").click()
    expect(ana.locator("#speaker")).to_contain_text("Bruno Costa (Government) has the floor")
    ana.get_by_role("button", name="Direct reply").click()
    expect(facilitator.locator("#queue-body")).to_contain_text("Direct reply")
    facilitator.get_by_role("button", name="End turn").click()
    expect(ana.locator("#speaker")).to_have_text("Nobody has the floor.")
    airtime = facilitator.locator("#airtime-groups")
    expect(airtime.get_by_role("row", name=re.compile("Government"))).to_contain_text("100%")

    # A tour de table in seating order: Ana passes ahead of her turn.
    facilitator.get_by_label("Seating order").check()
    facilitator.get_by_role("button", name="Start a tour de table").click()
    expect(ana.locator("#tour-list li")).to_have_count(2)
    ana.get_by_role("button", name="Pass my turn").click()
    expect(facilitator.locator("#tour-list")).to_contain_text("Ana Lima · passed")
    facilitator.get_by_role("button", name="End the tour").click()
    expect(ana.locator("#tour")).to_be_hidden()

    # The queue order and attendance are set from the console.
    facilitator.get_by_label("Queue order").select_option(label="Least heard seat first")
    facilitator.get_by_role("button", name="Set the queue order").click()
    expect(facilitator.get_by_label("Queue order")).to_have_value("least_heard_seat")
    facilitator.get_by_role("button", name="Mark Olu Observer absent").click()
    observer_row = facilitator.locator("#attendance-body tr", has_text="Olu Observer")
    expect(observer_row).to_contain_text("Absent")

    # Overrun reads as time over, computed by the same code the pages use.
    over = facilitator.evaluate(
        """async () => {
          const live = await import("/static/js/live.js");
          const started = "2030-01-01T10:00:00+00:00";
          const item = { run_started_at: started, elapsed_seconds: 60, timebox_seconds: 600 };
          return live.clockText(live.itemClock(item, Date.parse(started) + 673_000));
        }"""
    )
    assert over == "+2:13 over"
    # Applying an event in the browser is what app/live/state.py apply_event does.
    applied = facilitator.evaluate(
        """async () => {
          const live = await import("/static/js/live.js");
          const state = { floor: { queue: [] }, notes: [{ id: 1, v: "a" }, { id: 3, v: "c" }] };
          return live.applyTo(state, { data: {
            state: { floor: { queue: [7] } },
            upsert: { notes: [{ id: 2, v: "b" }, { id: 3, v: "C" }] },
          } });
        }"""
    )
    assert applied == {
        "floor": {"queue": [7]},
        "notes": [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "C"}],
    }


def test_a_lost_event_is_noticed_and_fetched_again(
    new_context: NewContext, live_room: LiveRoom
) -> None:
    ana = seated(new_context, live_room, "Ana Lima").new_page()
    bruno = seated(new_context, live_room, "Bruno Costa").new_page()
    urls: list[str] = []
    dropped: list[str] = []

    def lossy(ws: WebSocketRoute) -> None:
        """Forward the server's messages to Ana's page, but lose the first hand raised."""
        urls.append(ws.url)
        server = ws.connect_to_server()

        def forward(message: str | bytes) -> None:
            if not dropped and isinstance(message, str) and "floor.hand_raised" in message:
                dropped.append(message)
                return
            ws.send(message)

        server.on_message(forward)

    ana.route_web_socket(re.compile(r"/api/convenings/\d+/live"), lossy)
    open_room(ana, live_room)
    open_room(bruno, live_room)
    bruno.get_by_role("button", name="Raise my hand").click()
    expect(bruno.locator("#my-position")).to_have_text("You are 1st in the queue.")
    assert dropped
    bruno.get_by_role("button", name="Point of order").click()
    # The point of order's event does not follow the last one Ana applied: her page
    # reconnects from that number and gets both.
    expect(ana.locator("#queue li")).to_have_count(2)
    expect(ana.locator("#queue li").nth(0)).to_contain_text("Point of order")
    expect(ana.locator("#queue li").nth(1)).to_contain_text("Bruno Costa")
    assert len(urls) == 2 and "since=" not in urls[0], urls
    assert re.search(r"since=\d+$", urls[1]), urls
    expect(ana.locator("#connection")).to_have_attribute("data-state", "connected")


def test_observers_watch_and_only_runners_of_the_floor_facilitate(
    new_context: NewContext, live_room: LiveRoom
) -> None:
    observer = seated(new_context, live_room, "Olu Observer").new_page()
    open_room(observer, live_room)
    expect(observer.locator("#item")).to_contain_text(ITEM)
    expect(observer.locator("#floor").get_by_role("button")).to_have_count(0)
    response = observer.goto(f"/convenings/{live_room.cid}/facilitate")
    assert response is not None and response.status == 403
    expect(observer.get_by_role("heading", level=1)).to_have_text("Not allowed")

    participant = seated(new_context, live_room, "Ana Lima").new_page()
    response = participant.goto(f"/convenings/{live_room.cid}/facilitate")
    assert response is not None and response.status == 403

    stranger = new_context().new_page()
    response = stranger.goto(f"/convenings/{live_room.cid}/display")
    assert response is not None and response.status == 404
    response = stranger.goto(f"/convenings/{live_room.cid}/facilitate")
    assert response is not None and response.status == 404
    expect(stranger.get_by_text("If you are the convener, sign in first")).to_be_visible()

    # The facilitator's room page leads to the console.
    facilitator = seated(new_context, live_room, "Farida Facilitator").new_page()
    open_room(facilitator, live_room)
    facilitator.get_by_role("link", name="Facilitator console").click()
    expect(facilitator.get_by_role("heading", level=1)).to_have_text(
        re.compile("^Facilitate: Live roundtable")
    )
