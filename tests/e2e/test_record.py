"""The deliberation record in the browser: dissent reaches the facilitator live, a consensus
check's tally updates live in three contexts and its outcome shows everywhere, the rapporteur
captures points from the keyboard, and a commitment made in the room gets its light and its
owner's progress report."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.conftest import LiveServer, NewContext
from tests.e2e.test_live_room import FIRST_LOAD_BUDGET, first_load_bytes

pytestmark = pytest.mark.browser

WAIT = 10_000  # ms any one change may take to show
ITEM = "Access to the fishing grounds"
ZONE = "Africa/Nairobi"


@dataclass(frozen=True)
class Room:
    """A live convening with its first item open, and each seat's invitation token."""

    cid: int
    item_id: int
    tokens: dict[str, str]  # seat holder's name → invitation token


def _ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json() if response.content else None


@pytest.fixture
def room(live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Room]:
    """Through the API: two groups, a facilitator, a rapporteur, two participants with their
    organizations and an observer; one item; the convening opened and its item started.
    Under the Chatham House Rule, unless parametrized (indirectly) with another rule."""
    attribution = getattr(request, "param", "chatham_house")
    with httpx.Client(base_url=live_server.url, timeout=10) as api:
        credentials = {
            "email": live_server.convener_email,
            "password": live_server.convener_password,
        }
        _ok(api.post("/api/auth/sign-in", json=credentials))
        convening = _ok(
            api.post(
                "/api/convenings",
                json={
                    "title": "Roundtable on the coastal fisheries record",
                    "purpose_type": "consensus_building",
                    "attribution": attribution,
                    "time_zone": ZONE,
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
            ("Farida Facilitator", "facilitator", None, ""),
            ("Rita Rapporteur", "rapporteur", None, ""),
            ("Ana Lima", "participant", groups["civil_society"]["id"], "Coastal Fishers Union"),
            ("Bruno Costa", "participant", groups["government"]["id"], "Ministry of Fisheries"),
            ("Olu Observer", "observer", None, ""),
        ]
        tokens = {}
        for name, role, group_id, affiliation in seats:
            body = {"holder_name": name, "role": role, "group_id": group_id}
            if affiliation:
                body["affiliation"] = affiliation
            seat = _ok(api.post(f"/api/convenings/{cid}/seats", json=body), 201)
            invitation = _ok(api.post(f"/api/convenings/{cid}/seats/{seat['id']}/invitation"), 201)
            tokens[name] = invitation["link"].rsplit("/", 1)[-1]
        item = _ok(
            api.post(
                f"/api/convenings/{cid}/agenda",
                json={"kind": "decision", "title": ITEM, "timebox_minutes": 20},
            ),
            201,
        )
        _ok(api.post(f"/api/convenings/{cid}/schedule"))
        _ok(api.post(f"/api/convenings/{cid}/open"))
        _ok(api.post(f"/api/convenings/{cid}/agenda/{item['id']}/start"))
        yield Room(cid, item["id"], tokens)


def seated(new_context: NewContext, room: Room, name: str) -> BrowserContext:
    """A browser that has taken the named seat (through the redemption API)."""
    context = new_context()
    response = context.request.post(
        "/api/invitations/redeem", data={"token": room.tokens[name], "accept_ground_rules": True}
    )
    assert response.ok, response.text()
    return context


def open_page(page: Page, room: Room, path: str = "room") -> None:
    """Open a live page and wait until its websocket has delivered the room."""
    page.goto(f"/convenings/{room.cid}/{path}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected", timeout=WAIT)


def tally_cell(page: Page, group: str, answer: str) -> Locator:
    """One count of the open check's tally on a page: a group's row, an answer's column."""
    row = page.locator("#checks table.tally tr", has=page.get_by_role("rowheader", name=group))
    return row.locator(f'td[data-answer="{answer}"]')


def test_dissent_reaches_the_facilitator_live_and_withdrawal_keeps_it(
    new_context: NewContext, room: Room, tmp_path: Path
) -> None:
    facilitator = seated(new_context, room, "Farida Facilitator").new_page()
    ana = seated(new_context, room, "Ana Lima").new_page()
    bruno = seated(new_context, room, "Bruno Costa").new_page()
    observer = seated(new_context, room, "Olu Observer").new_page()
    open_page(facilitator, room, "facilitate")
    open_page(ana, room)
    open_page(bruno, room)
    open_page(observer, room)

    # Ana dissents from the agenda item; a reason is required, and the server says so.
    ana.locator("#item").get_by_role(
        "button", name=re.compile("^Dissent from the agenda item")
    ).click()
    dialog = ana.get_by_role("dialog", name="Log dissent")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Your reason (required)")).to_be_focused()
    dialog.get_by_role("button", name="Log my dissent").click()
    expect(dialog.locator(".field-error")).to_have_text(re.compile("cannot be empty"))
    expect(dialog.get_by_label("Your reason (required)")).to_have_attribute("aria-invalid", "true")
    ana.screenshot(path=str(tmp_path / "room-dissent-dialog.png"))
    reason = "The item ignores the small-scale fishers of the north."
    dialog.get_by_label("Your reason (required)").fill(reason)
    dialog.get_by_role("button", name="Log my dissent").click()
    expect(dialog).to_be_hidden()

    # The facilitator's console shows it without a reload, and says so to screen readers.
    dissents = facilitator.locator("#dissents")
    expect(dissents.locator("li")).to_have_count(1, timeout=WAIT)
    expect(dissents).to_contain_text(reason)
    expect(dissents).to_contain_text("Ana Lima")
    expect(dissents).to_contain_text(f"the agenda item “{ITEM}”")
    expect(facilitator.locator("#announce")).to_contain_text("A new dissent was logged.")
    expect(bruno.locator("#dissents")).to_contain_text(reason, timeout=WAIT)
    expect(
        bruno.locator("#dissents").get_by_role("button", name="Withdraw your dissent")
    ).to_have_count(0)

    # The observer sees it too, and can act on nothing.
    expect(observer.locator("#dissents")).to_contain_text(reason, timeout=WAIT)
    expect(observer.locator("#contribute-form")).to_have_count(0)
    expect(observer.locator("#commitment-form")).to_have_count(0)
    expect(
        observer.locator("main").get_by_role("button", name=re.compile("Dissent"))
    ).to_have_count(0)

    # Bruno dissents from a contribution Ana made.
    ana.get_by_label("Kind").select_option("statement")
    ana.get_by_label("Your point").fill("Quotas should follow the catch records of 2020.")
    ana.get_by_role("button", name="Contribute").click()
    expect(ana.locator("#contribute .form-status")).to_have_text("Your point is on the record.")
    contribution = bruno.locator("#contributions li", has_text="catch records of 2020")
    expect(contribution).to_contain_text("Ana Lima")
    contribution.get_by_role("button", name=re.compile("^Dissent from the statement")).click()
    bruno.get_by_label("Your reason (required)").fill("The 2020 records undercount the north.")
    bruno.get_by_role("button", name="Log my dissent").click()
    expect(facilitator.locator("#dissents li")).to_have_count(2, timeout=WAIT)
    expect(facilitator.locator("#dissents li").first).to_contain_text(
        "Bruno Costa, Ministry of Fisheries, Government dissents from the statement by Ana Lima"
    )

    # Ana withdraws her own dissent: it stays on the record, its text kept, marked withdrawn.
    own = ana.locator("#dissents li", has_text=reason)
    own.get_by_role("button", name="Withdraw your dissent").click()
    withdraw = ana.get_by_role("dialog", name="Withdraw your dissent")
    withdraw.get_by_label("Why you withdraw it (optional)").fill("The item now covers the north.")
    withdraw.get_by_role("button", name="Withdraw").click()
    expect(withdraw).to_be_hidden()
    withdrawn = facilitator.locator("#dissents li.withdrawn")
    expect(withdrawn).to_have_count(1, timeout=WAIT)
    expect(withdrawn).to_contain_text("Withdrawn")
    expect(withdrawn).to_contain_text(reason)
    expect(withdrawn).to_contain_text("The item now covers the north.")
    expect(facilitator.locator("#announce")).to_contain_text("A dissent was withdrawn.")
    expect(own.get_by_role("button", name="Withdraw your dissent")).to_have_count(0)
    expect(own).to_contain_text("Withdrawn")
    expect(observer.locator("#dissents li.withdrawn")).to_contain_text(reason)
    expect(
        observer.locator("main").get_by_role("button", name=re.compile("Dissent|Withdraw"))
    ).to_have_count(0)

    # Nobody else can withdraw it: the server refuses, and the page shows why.
    bruno.evaluate(
        """(id) => {
          const b = document.createElement("button");
          b.dataset.withdraw = id; b.id = "forged"; b.textContent = "Withdraw";
          document.body.append(b);
        }""",
        ana.locator("#dissents li", has_text=reason).get_attribute("data-id") or "0",
    )
    bruno.locator("#forged").click()
    bruno.get_by_role("dialog").get_by_role("button", name="Withdraw", exact=True).click()
    expect(bruno.get_by_role("dialog").locator(".form-status")).to_have_text(
        "Only its author can withdraw a dissent."
    )
    facilitator.screenshot(path=str(tmp_path / "facilitate-dissent.png"), full_page=True)


def test_a_consensus_check_tallies_live_in_three_contexts(
    new_context: NewContext, room: Room, tmp_path: Path
) -> None:
    facilitator = seated(new_context, room, "Farida Facilitator").new_page()
    ana = seated(new_context, room, "Ana Lima").new_page()
    bruno = seated(new_context, room, "Bruno Costa").new_page()
    for page, path in ((facilitator, "facilitate"), (ana, "room"), (bruno, "room")):
        open_page(page, room, path)

    # Ana proposes; the facilitator puts her proposal to the room.
    proposal = "Close the northern grounds from June to August."
    ana.get_by_label("Kind").select_option("proposal")
    ana.get_by_label("Your point").fill(proposal)
    ana.get_by_role("button", name="Contribute").click()
    facilitator.get_by_role("button", name=f"Put to the room: {proposal}").click()
    expect(facilitator.get_by_label("Proposal to put to the room")).to_have_value(proposal)
    expect(facilitator.get_by_label("Proposal to put to the room")).to_be_focused()
    facilitator.get_by_role("button", name="Table the check").click()
    expect(facilitator.locator("#table-form .form-status")).to_have_text(
        "The check is open: the room can answer now."
    )
    expect(facilitator.get_by_label("From a proposal made on this item (optional)")).to_have_value(
        ""
    )
    expect(facilitator.get_by_label("Proposal to put to the room")).to_have_value("")
    for page in (facilitator, ana, bruno):
        expect(page.locator("#checks .proposal")).to_have_text(proposal, timeout=WAIT)
    expect(ana.locator("#record-announce")).to_contain_text("A consensus check is open")

    # Ana agrees with reservations: the reason is prompted, and required by the server.
    card = ana.locator("#checks .check-card")
    card.get_by_label("Agree with reservations").check()
    expect(card.get_by_label("Reason (required to agree with reservations)")).to_be_visible()
    card.get_by_role("button", name="Answer").click()
    expect(card.locator(".field-error")).to_have_text(
        "Give a reason when you answer agree with reservations."
    )
    card.get_by_label(re.compile("^Reason")).fill("Only if the southern grounds stay open.")
    card.get_by_role("button", name="Answer").click()
    expect(card.locator(".my-answer")).to_have_text(
        "Your answer: Agree with reservations. Your reason: “Only if the southern grounds stay "
        "open.” You may change it while the check is open."
    )
    expect(card.get_by_role("button", name="Change my answer")).to_be_visible()

    # Bruno agrees, then changes his answer to endorse while the check is open.
    bruno_card = bruno.locator("#checks .check-card")
    bruno_card.get_by_label("Agree", exact=True).check()
    bruno_card.get_by_role("button", name="Answer").click()
    for page in (facilitator, ana, bruno):
        expect(tally_cell(page, "Civil society", "agree_with_reservations")).to_have_text("1")
        expect(tally_cell(page, "Government", "agree")).to_have_text("1")
        expect(tally_cell(page, "Overall", "total")).to_have_text("2")
    bruno_card.get_by_label("Endorse").check()
    bruno_card.get_by_role("button", name="Change my answer").click()
    for page in (facilitator, ana, bruno):
        expect(tally_cell(page, "Government", "endorse")).to_have_text("1")
        expect(tally_cell(page, "Government", "agree")).to_have_text("0")
        expect(tally_cell(page, "Overall", "total")).to_have_text("2")
    expect(facilitator.locator("#checks .reasons")).to_contain_text("Only if the southern grounds")

    # A reload shows Bruno his own answer, from the server.
    bruno.reload()
    expect(bruno.locator("#checks .my-answer")).to_have_text(re.compile("^Your answer: Endorse"))
    expect(bruno.locator("#checks").get_by_label("Endorse")).to_be_checked()

    facilitator.screenshot(path=str(tmp_path / "facilitate-check.png"), full_page=True)
    ana.screenshot(path=str(tmp_path / "room-check.png"), full_page=True)

    # The room reached consensus with reservations: no vote is needed, the server says.
    close = facilitator.locator("#checks .close-form")
    close.get_by_role("button", name="Record a decision by majority").click()
    expect(close.locator(".form-status")).to_have_text(
        "The room reached consensus with reservations; no vote is needed."
    )
    wording = "The northern grounds close from June to August; the southern grounds stay open."
    close.get_by_label(re.compile("^Outcome wording")).fill(wording)
    close.get_by_role("button", name="Close and record the outcome").click()
    for page in (facilitator, ana, bruno):
        outcome = page.locator("#outcomes li").first
        expect(outcome).to_contain_text("Consensus with reservations", timeout=WAIT)
        expect(outcome).to_contain_text(wording)
        expect(page.locator("#checks-empty")).to_be_visible()
    expect(ana.locator("#record-announce")).to_contain_text(
        "Outcome recorded: Consensus with reservations."
    )
    # Dissent from the outcome is open to anyone at the table.
    expect(
        bruno.locator("#outcomes").get_by_role(
            "button", name=re.compile("^Dissent from the outcome")
        )
    ).to_be_visible()
    ana.screenshot(path=str(tmp_path / "room-outcome.png"), full_page=True)
    # With a record to show, the room's first load still fits the weak-connection budget.
    fresh = new_context()  # an empty cache, with Bruno's seat cookie
    fresh.add_cookies(bruno.context.cookies())
    size = first_load_bytes(fresh.new_page(), f"/convenings/{room.cid}/room")
    print(f"first load of a room with a record: {size} bytes")
    assert size <= FIRST_LOAD_BUDGET, f"the room's first load is {size} bytes"
    ana.set_viewport_size({"width": 390, "height": 844})  # a phone
    ana.screenshot(path=str(tmp_path / "room-phone.png"), full_page=True)


def test_the_rapporteur_captures_points_from_the_keyboard(
    new_context: NewContext, room: Room, tmp_path: Path
) -> None:
    rapporteur = seated(new_context, room, "Rita Rapporteur").new_page()
    ana = seated(new_context, room, "Ana Lima").new_page()
    open_page(ana, room)
    open_page(rapporteur, room, "desk")
    seat = rapporteur.get_by_label("Seat (type part of a name)")
    expect(seat).to_be_focused()
    expect(seat).to_have_attribute("aria-keyshortcuts", "Alt+S")

    # Type a seat, Tab to the kind, Tab to the text, type, Enter.
    rapporteur.keyboard.type("bru")
    expect(rapporteur.locator("#seat-match")).to_have_text("Seat: Bruno Costa (Government)")
    rapporteur.keyboard.press("Tab")
    rapporteur.keyboard.press("Tab")
    text = rapporteur.get_by_label("What was said")
    expect(text).to_be_focused()
    rapporteur.keyboard.type("The ministry will publish the catch data")
    rapporteur.keyboard.press("Shift+Enter")
    rapporteur.keyboard.type("every quarter.")
    rapporteur.keyboard.press("Enter")
    captured = rapporteur.locator("#captured li").first
    expect(captured).to_contain_text("Bruno Costa")
    expect(captured).to_contain_text("The ministry will publish the catch data\nevery quarter.")
    expect(text).to_have_value("")
    expect(text).to_be_focused()
    expect(rapporteur.locator("#capture .form-status")).to_have_text("Captured for Bruno Costa.")
    # It reaches the room, marked as captured.
    point = ana.locator("#contributions li", has_text="publish the catch data")
    expect(point).to_contain_text("Bruno Costa", timeout=WAIT)
    expect(point).to_contain_text("(captured)")

    # Alt+S back to the seat, a question for Ana (Alt+2), Enter.
    rapporteur.keyboard.press("Alt+KeyS")
    expect(seat).to_be_focused()
    rapporteur.keyboard.press("Control+A")
    rapporteur.keyboard.type("ana")
    rapporteur.keyboard.press("Alt+KeyT")
    rapporteur.keyboard.press("Alt+Digit2")
    expect(rapporteur.get_by_label("Kind")).to_have_value("question")
    rapporteur.keyboard.type("Who checks the data?")
    rapporteur.keyboard.press("Enter")
    question = ana.locator("#contributions li", has_text="Who checks the data?")
    expect(question).to_contain_text("Question", timeout=WAIT)
    expect(question).to_contain_text("Ana Lima")

    # An unknown seat is refused next to the seat field, and nothing is sent.
    rapporteur.keyboard.press("Alt+KeyS")
    rapporteur.keyboard.press("Control+A")
    rapporteur.keyboard.type("Zed")
    rapporteur.keyboard.press("Alt+KeyT")
    rapporteur.keyboard.type("Nobody said this.")
    rapporteur.keyboard.press("Enter")
    expect(rapporteur.locator("#capture .field-error")).to_have_text(
        "Choose a seat: type part of a name, or pick one from the list."
    )
    expect(seat).to_be_focused()

    # Alt+P parks the text as an issue raised by the seat.
    rapporteur.keyboard.press("Control+A")
    rapporteur.keyboard.type("Ana")
    rapporteur.keyboard.press("Alt+KeyT")
    rapporteur.keyboard.press("Control+A")
    rapporteur.keyboard.type("Compensation for the closed season")
    rapporteur.keyboard.press("Alt+KeyP")
    parked = ana.locator("#parking li", has_text="Compensation for the closed season")
    expect(parked).to_contain_text("raised by Ana Lima", timeout=WAIT)
    expect(parked).to_contain_text("Open")
    expect(rapporteur.locator("#parking li")).to_have_count(1)
    rapporteur.screenshot(path=str(tmp_path / "desk.png"), full_page=True)

    # The facilitator resolves it in the room.
    facilitator = seated(new_context, room, "Farida Facilitator").new_page()
    open_page(facilitator, room, "facilitate")
    facilitator.get_by_role("button", name="Resolve: Compensation for the closed season").click()
    resolve = facilitator.get_by_role("dialog", name="Resolve a parked issue")
    resolve.get_by_label("How it was resolved").fill("The ministry will table a scheme in May.")
    resolve.get_by_role("button", name="Resolve").click()
    expect(resolve).to_be_hidden()
    expect(parked).to_contain_text("Resolved", timeout=WAIT)
    expect(parked).to_contain_text("Resolution: The ministry will table a scheme in May.")

    # The desk is for those who capture: a participant is refused.
    response = ana.goto(f"/convenings/{room.cid}/desk")
    assert response is not None and response.status == 403


def test_a_commitment_gets_its_light_and_its_owner_reports_progress(
    new_context: NewContext, convener_context: BrowserContext, room: Room, tmp_path: Path
) -> None:
    ana = seated(new_context, room, "Ana Lima").new_page()
    open_page(ana, room)
    ana.get_by_text("Make a commitment").click()
    form = ana.locator("#commitment-form")
    expect(form).to_contain_text("Coastal Fishers Union")
    today = datetime.now(ZoneInfo(ZONE)).date()
    form.get_by_label("What will be done").fill("Share our members' catch logs with the ministry")
    form.get_by_label("Owner (who answers for it)").fill("Ana Lima")
    form.get_by_label("Due date").fill((today - timedelta(days=1)).isoformat())
    form.get_by_label("Indicator (how progress is measured)").fill("Logs shared each month")
    form.get_by_label("Resources behind it (optional)").fill("One data officer")
    form.get_by_role("button", name="Make the commitment").click()
    expect(form.locator(".field-error")).to_have_text("The due date is in the past.")
    due: date = today + timedelta(days=60)
    form.get_by_label("Due date").fill(due.isoformat())
    form.get_by_role("button", name="Make the commitment").click()
    expect(form.locator(".form-status")).to_have_text("Your commitment is recorded.")
    row = ana.locator("#commitments tr", has_text="Share our members' catch logs")
    expect(row).to_contain_text("Green", timeout=WAIT)
    expect(row).to_contain_text("Coastal Fishers Union")
    expect(ana.locator("#record-announce")).to_contain_text("A commitment was made.")

    # The commitments page: the light in words, and for the convener the owner's link.
    convener = convener_context.new_page()
    convener.goto(f"/convenings/{room.cid}/commitments")
    line = convener.locator("#commitments-table tbody tr", has_text="Share our members' catch logs")
    expect(line.locator(".light")).to_have_text("Green")
    expect(line).to_contain_text("reported within the reporting period")
    for fact in ("Coastal Fishers Union", "Ana Lima", "Logs shared each month", "One data officer"):
        expect(line).to_contain_text(fact)
    expect(line).to_contain_text(f"{due.day} {due:%B %Y}")
    expect(line).to_contain_text("None yet")
    expect(line.get_by_role("button", name=re.compile("^Copy the progress link"))).to_be_visible()
    link = line.get_by_role("textbox").input_value()
    assert re.search(r"/progress/[\w-]{20,}$", link), link
    convener.screenshot(path=str(tmp_path / "commitments.png"), full_page=True)

    # Seats see the page without the owners' links.
    ana.goto(f"/convenings/{room.cid}/commitments")
    expect(ana.locator("#commitments-table")).to_contain_text("Share our members' catch logs")
    expect(ana.locator("#commitments-table").get_by_role("textbox")).to_have_count(0)

    # The owner, in a browser of their own, reports through the link.
    owner = new_context().new_page()
    response = owner.goto(link)
    assert response is not None and response.status == 200
    expect(owner.get_by_role("heading", level=1)).to_have_text("Progress on a commitment")
    expect(owner.locator(".commitment-facts")).to_contain_text("Share our members' catch logs")
    expect(owner.locator("#light .light")).to_have_text("Green")
    expect(owner.locator("#reports")).to_contain_text("No report yet.")
    owner.get_by_label("At risk").check()
    owner.get_by_label("What has happened since the last report").fill(
        "Two of five cooperatives have shared their logs."
    )
    owner.get_by_role("button", name="Send the report").click()
    expect(owner.locator("#report-status")).to_have_text("Thank you: your report is recorded.")
    expect(owner.locator("#reports li").first).to_contain_text("At risk")
    expect(owner.locator("#reports li").first).to_contain_text("Two of five cooperatives")
    owner.screenshot(path=str(tmp_path / "progress.png"), full_page=True)

    convener.reload()
    expect(line).to_contain_text("At risk")
    expect(line).to_contain_text("Two of five cooperatives")
    expect(line.locator(".light")).to_have_text("Green")

    # The facilitator records a commitment on behalf of a seat's organization.
    facilitator = seated(new_context, room, "Farida Facilitator").new_page()
    open_page(facilitator, room, "facilitate")
    facilitator.get_by_text("Record a commitment on behalf of a seat").click()
    form = facilitator.locator("#commitment-form")
    form.get_by_label("On behalf of the organization of").select_option(
        label="Bruno Costa (Government)"
    )
    form.get_by_label("What will be done").fill("Publish the quarterly catch data")
    form.get_by_label("Owner (who answers for it)").fill("Director of Statistics")
    form.get_by_label("Due date").fill((today + timedelta(days=90)).isoformat())
    form.get_by_label("Indicator (how progress is measured)").fill("Four releases a year")
    form.get_by_role("button", name="Make the commitment").click()
    expect(form.locator(".form-status")).to_have_text("The commitment is recorded.")
    made = facilitator.locator("#commitments tr", has_text="Publish the quarterly catch data")
    expect(made).to_contain_text("Ministry of Fisheries", timeout=WAIT)
    convener.reload()
    expect(
        convener.locator("#commitments-table tbody tr", has_text="Publish the quarterly")
    ).to_contain_text("Ministry of Fisheries")

    # A link that is not one answers 404.
    response = owner.goto("/progress/not-a-real-progress-link-000000")
    assert response is not None and response.status == 404


@pytest.mark.parametrize("room", ["anonymous"], indirect=True)
def test_under_the_anonymous_rule_answers_are_final_and_dissent_names_nobody(
    new_context: NewContext, room: Room
) -> None:
    facilitator = seated(new_context, room, "Farida Facilitator").new_page()
    ana = seated(new_context, room, "Ana Lima").new_page()
    bruno = seated(new_context, room, "Bruno Costa").new_page()
    for page, path in ((facilitator, "facilitate"), (ana, "room"), (bruno, "room")):
        open_page(page, room, path)
    facilitator.get_by_label("Proposal to put to the room").fill("Pool the landing data.")
    facilitator.get_by_role("button", name="Table the check").click()

    card = ana.locator("#checks .check-card")
    expect(card).to_contain_text("Under the anonymous rule your answer is final", timeout=WAIT)
    card.get_by_label("Stand aside").check()
    card.get_by_label("Reason (required to stand aside)").fill("Our members have not decided.")
    card.get_by_role("button", name="Answer").click()
    expect(card.locator(".my-answer")).to_have_text(
        "Your answer: Stand aside. Your reason: “Our members have not decided.” "
        "Under the anonymous rule an answer is final."
    )
    expect(card.locator(".answer-form")).to_be_hidden()
    # The reason is shown, with nobody's name; small groups are counted together.
    expect(facilitator.locator("#checks .reasons")).to_contain_text(
        "Stand aside (Anonymous): Our members have not decided."
    )
    expect(tally_cell(facilitator, "Overall", "stand_aside")).to_have_text("1")
    expect(facilitator.locator("#checks")).not_to_contain_text("Civil society")
    ana.reload()
    expect(ana.locator("#checks .my-answer")).to_contain_text("an answer is final")
    expect(ana.locator("#checks .answer-form")).to_be_hidden()

    # A dissent names nobody; its author (only) is offered to withdraw it.
    ana.locator("#item").get_by_role("button", name=re.compile("^Dissent from")).click()
    ana.get_by_label("Your reason (required)").fill("The data belongs to the cooperatives.")
    ana.get_by_role("button", name="Log my dissent").click()
    for page in (facilitator, ana, bruno):
        dissent = page.locator("#dissents li").first
        expect(dissent).to_contain_text("Anonymous dissents from the agenda item", timeout=WAIT)
        expect(dissent).not_to_contain_text("Ana Lima")
    expect(
        bruno.locator("#dissents").get_by_role("button", name="Withdraw your dissent")
    ).to_have_count(0)
    ana.locator("#dissents").get_by_role("button", name="Withdraw your dissent").click()
    ana.get_by_role("dialog").get_by_role("button", name="Withdraw", exact=True).click()
    expect(facilitator.locator("#dissents li.withdrawn")).to_contain_text(
        "The data belongs to the cooperatives.", timeout=WAIT
    )
