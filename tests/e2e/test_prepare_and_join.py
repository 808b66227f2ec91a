"""A convener prepares a convening in the browser and a seat holder takes their seat."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import LiveServer, MakeConvening, NewContext

pytestmark = pytest.mark.browser

TITLE = "Roundtable on the coastal fisheries"
SEAT_LIST = "".join(
    line + "\n"
    for line in [
        "name,role,group,affiliation,email,speaks_for,attendance",
        "Amina Odhiambo,facilitator,,Independent facilitator,amina@example.org,,confirmed",
        "Baraka Mwangi,participant,civil_society,Coast Women's Network,baraka@example.org,"
        "women fish traders,",
        "Chiku Salim,participant,Fisherfolk cooperatives,Lamu Fishers Cooperative,"
        "chiku@example.org,300 boat owners,invited",
    ]
)


def sign_in(page: Page, server: LiveServer) -> None:
    """Open the console, get sent to the sign-in form, and sign in."""
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/console$"))
    page.get_by_label("Email").fill(server.convener_email)
    page.get_by_label("Password").fill(server.convener_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your convenings", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Site")).to_contain_text(server.convener_name)


def create_convening_in_console(page: Page) -> None:
    """Fill in the "new convening" form; the times are wall-clock times in Nairobi."""
    form = page.get_by_role("group", name="Details")
    form.get_by_label("Title").fill(TITLE)
    form.get_by_label("Purpose", exact=True).fill("Agree on fair access to the fishing grounds.")
    form.get_by_label("Purpose type").select_option(label="Consensus building")
    form.get_by_label("Attribution rule").select_option(label="Chatham House Rule")
    form.get_by_label("Time zone").fill("Africa/Nairobi")
    form.get_by_label("Starts").fill("2030-03-02T09:00")
    form.get_by_label("Ends").fill("2030-03-02T13:00")
    page.get_by_role("button", name="Create the convening").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("#flash")).to_have_text("The convening was created.")
    # Shown back in the convening's zone: the offset was computed for Nairobi, not the browser.
    expect(page.locator(".lead")).to_contain_text("Saturday 2 March 2030, 09:00 – 13:00")


def add_groups(page: Page) -> None:
    """One group from the presets, one with a custom name."""
    groups = page.locator("#groups")
    groups.get_by_label("Common group").select_option(label="Civil society")
    groups.get_by_label("Target seats", exact=True).fill("2")
    groups.get_by_role("button", name="Add the group").click()
    expect(groups.get_by_text("The group was added.")).to_be_visible()
    expect(groups.get_by_label("Name of the group Civil society")).to_have_value("Civil society")

    groups = page.locator("#groups")
    groups.get_by_label("Custom name").fill("Fisherfolk cooperatives")
    groups.get_by_label("Target seats", exact=True).fill("2")
    groups.get_by_role("button", name="Add the group").click()
    expect(groups.get_by_label("Name of the group Fisherfolk cooperatives")).to_have_value(
        "Fisherfolk cooperatives"
    )


def import_seats(page: Page, csv_file: Path) -> None:
    """Upload the seat list and see every seat in the seats table."""
    page.get_by_label("Seat list (CSV, UTF-8)").set_input_files(csv_file)
    page.get_by_role("button", name="Import the seats").click()
    expect(page.get_by_text("The seat list was imported.")).to_be_visible()
    seats = page.locator("#seats table")
    expect(seats.locator("caption")).to_have_text("3 seats")
    for name in ("Amina Odhiambo", "Baraka Mwangi", "Chiku Salim"):
        expect(seats.get_by_role("rowheader", name=name)).to_be_visible()
    expect(seats.get_by_label("Group of Baraka Mwangi")).to_have_value(re.compile(r"\d+"))
    expect(seats.get_by_label("Group of Chiku Salim").locator("option:checked")).to_have_text(
        "Fisherfolk cooperatives"
    )
    expect(seats.get_by_label("Role of Amina Odhiambo").locator("option:checked")).to_have_text(
        "Facilitator"
    )
    expect(seats.get_by_role("row", name=re.compile("Chiku Salim"))).to_contain_text(
        "300 boat owners"
    )


def check_inclusion(page: Page) -> None:
    """Both groups are one seat short of their target; nobody is the rapporteur."""
    inclusion = page.locator("#inclusion")
    civil = inclusion.get_by_role("row", name=re.compile("Civil society"))
    expect(civil).to_contain_text("1 missing")
    fisherfolk = inclusion.get_by_role("row", name=re.compile("Fisherfolk cooperatives"))
    expect(fisherfolk).to_contain_text("1 missing")
    expect(inclusion.get_by_role("note")).to_contain_text("No rapporteur")
    expect(inclusion.get_by_role("note")).not_to_contain_text("No facilitator")


def issue_and_copy_link(page: Page) -> str:
    """Issue Chiku Salim's link, copy it with the button, and read it off the clipboard."""
    page.get_by_role("button", name="Issue a link for Chiku Salim").click()
    invitations = page.locator("#invitations")
    expect(invitations.get_by_text("A new link was issued for Chiku Salim.")).to_be_visible()
    link_input = page.get_by_label("Invitation link for Chiku Salim")
    expect(link_input).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/join/[\w-]{32,}$"))
    link = link_input.input_value()
    page.get_by_role("button", name="Copy link for Chiku Salim").click()
    expect(invitations.get_by_text("Link copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    return link


def test_convener_prepares_and_a_seat_takes_it(
    new_context: NewContext, live_server: LiveServer, tmp_path: Path
) -> None:
    convener = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = convener.new_page()
    sign_in(page, live_server)
    create_convening_in_console(page)
    console_url = page.url
    add_groups(page)
    csv_file = tmp_path / "seats.csv"
    csv_file.write_text(SEAT_LIST, encoding="utf-8")
    import_seats(page, csv_file)
    check_inclusion(page)
    link = issue_and_copy_link(page)
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)

    # The seat holder opens the link in their own browser.
    holder = new_context().new_page()
    holder.goto(link)
    expect(holder.locator(".invitation-line")).to_have_text(
        f"You are invited to {TITLE} as Chiku Salim, participant, for Fisherfolk cooperatives, "
        "speaking for 300 boat owners (Lamu Fishers Cooperative)."
    )
    expect(holder.get_by_text("Saturday 2 March 2030, 09:00")).to_be_visible()
    expect(holder.locator(".ground-rules")).to_contain_text("Chatham House Rule")
    holder.get_by_label("I have read and accept the ground rules").check()
    holder.get_by_role("button", name="Take my seat").click()
    expect(holder).to_have_url(re.compile(r"/convenings/\d+/room$"))
    expect(holder.locator(".seat-line")).to_have_text(
        "You are at the table as Chiku Salim (participant, Fisherfolk cooperatives)."
    )
    expect(holder.get_by_role("heading", level=1)).to_have_text(TITLE)

    # Coming back to the link in the same browser leads to the room.
    holder.goto(link)
    expect(holder.get_by_role("heading", level=1)).to_have_text("You have your seat")
    holder.get_by_role("button", name="Go to the room").click()
    expect(holder.locator(".seat-line")).to_contain_text("Chiku Salim")

    # Anyone else with the same link is refused, in plain words.
    stranger = new_context().new_page()
    response = stranger.goto(link)
    assert response is not None and response.status == 409
    expect(stranger.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    expect(stranger.get_by_text("ask the convener to reissue your link")).to_be_visible()
    expect(stranger.get_by_role("button", name="Take my seat")).to_have_count(0)

    # The convener sees the seat taken.
    page.goto(console_url)
    invitations = page.locator("#invitations")
    expect(invitations.get_by_role("row", name=re.compile("Chiku Salim"))).to_contain_text(
        "Seat taken"
    )


def test_a_seat_list_with_bad_rows_imports_nothing(
    convener_context: BrowserContext, make_convening: MakeConvening, tmp_path: Path
) -> None:
    convening = make_convening("Roundtable with a messy seat list")
    page = convener_context.new_page()
    page.goto(f"/console/convenings/{convening['id']}")
    csv_file = tmp_path / "bad-seats.csv"
    csv_file.write_text(
        "name,role,group,email\n"
        "Dora Achieng,participant,,dora@example.org\n"
        ",participant,,nameless@example.org\n"
        "Eli Kamau,chief,,eli@example.org\n"
        "Fay Njeri,participant,Nobody's group,fay@example.org\n",
        encoding="utf-8",
    )
    page.get_by_label("Seat list (CSV, UTF-8)").set_input_files(csv_file)
    page.get_by_role("button", name="Import the seats").click()

    result = page.locator("#import form").get_by_role("status")
    expect(result).to_contain_text("Nothing was imported")
    problems = result.get_by_role("listitem")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_have_text(re.compile(r"^Line 3 \(holder_name\): .*required"))
    expect(problems.nth(1)).to_have_text(re.compile(r"^Line 4 \(role\): .*'participant'"))
    expect(problems.nth(2)).to_have_text(
        'Line 5 (group): no stakeholder group named "Nobody\'s group"'
    )
    page.reload()
    expect(page.locator("#seats")).to_contain_text("No seats yet.")


def test_pages_answer_with_the_permission_table(
    new_context: NewContext, convener_context: BrowserContext, make_convening: MakeConvening
) -> None:
    convening = make_convening("Roundtable nobody else may see")
    anonymous = new_context().new_page()

    anonymous.goto(f"/console/convenings/{convening['id']}")
    expect(anonymous).to_have_url(
        re.compile(rf"/sign-in\?next=/console/convenings/{convening['id']}$")
    )
    response = anonymous.goto(f"/convenings/{convening['id']}/room")
    assert response is not None and response.status == 404
    expect(anonymous.get_by_role("heading", level=1)).to_have_text("Not found")
    response = anonymous.goto("/join/not-a-real-invitation-token")
    assert response is not None and response.status == 404
    expect(anonymous.get_by_text("ask the convener to reissue your link")).to_be_visible()

    page = convener_context.new_page()
    response = page.goto("/console/convenings/999999")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_form_errors_show_where_they_belong(
    new_context: NewContext,
    live_server: LiveServer,
    convener_context: BrowserContext,
    make_convening: MakeConvening,
) -> None:
    stranger = new_context().new_page()
    stranger.goto("/sign-in")
    stranger.get_by_label("Email").fill(live_server.convener_email)
    stranger.get_by_label("Password").fill("not the password")
    stranger.get_by_role("button", name="Sign in").click()
    refusal = stranger.get_by_role("status").filter(has_text="Wrong email or password.")
    expect(refusal).to_be_visible()
    expect(stranger).to_have_url(re.compile(r"/sign-in$"))

    convening = make_convening("Roundtable with a duplicate group")
    page = convener_context.new_page()
    page.goto(f"/console/convenings/{convening['id']}")
    groups = page.locator("#groups")
    groups.get_by_label("Custom name").fill("Youth councils")
    groups.get_by_role("button", name="Add the group").click()
    expect(groups.get_by_label("Name of the group Youth councils")).to_be_visible()
    groups.get_by_label("Custom name").fill("youth councils")
    groups.get_by_role("button", name="Add the group").click()
    name = groups.get_by_label("Custom name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description(
        re.compile("a group named 'youth councils' is already at this table")
    )

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.goto(f"/console/convenings/{convening['id']}")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
