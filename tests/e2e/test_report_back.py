"""The report-back in the browser: the rapporteur edits and previews the draft, the convener
publishes it, a reader (a seat that was not at the table) opens their link, acknowledges,
disagrees with an outcome and responds to a section while the convener's reach view shows it
without a reload; the convener replies and the reader sees the reply. The reader page fits a
phone and prints without its forms, and the published PDF renders to pages."""

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import LiveServer, NewContext

pytestmark = pytest.mark.browser

WAIT = 10_000  # ms any one live change may take to show
PROPOSAL = "Close the northern grounds from June to August."
NOTE = "The rapporteur's closing note: the north asks for a second meeting."
REASON = "The closure ignores the small boats that fish only in the north."
RESPONSE = "Participation from the north was thin: two seats stayed empty."
REPLY = "Thank you: a second meeting in the north is on the next agenda."
NAMES = ("Ana Lima", "Bruno Costa", "Rita Rapporteur", "Coastal Fishers Union", "Ministry")


@dataclass(frozen=True)
class Closed:
    """A closed convening with one outcome; the rapporteur's invitation token."""

    cid: int
    rapporteur_token: str


def _ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


@pytest.fixture
def closed(live_server: LiveServer) -> Iterator[Closed]:
    """Through the API, under the Chatham House Rule: two groups, a rapporteur, Ana (civil
    society, present) and Bruno (government, absent: he becomes a reader), a decision item,
    an outcome Ana agreed to, and the convening closed."""
    with (
        httpx.Client(base_url=live_server.url, timeout=10) as api,
        httpx.Client(base_url=live_server.url, timeout=10) as ana,
    ):
        credentials = {
            "email": live_server.convener_email,
            "password": live_server.convener_password,
        }
        _ok(api.post("/api/auth/sign-in", json=credentials))
        body = {
            "title": "Roundtable on the northern fishing grounds",
            "purpose_type": "consensus_building",
            "attribution": "chatham_house",
            "time_zone": "Africa/Nairobi",
        }
        cid = _ok(api.post("/api/convenings", json=body), 201)["id"]
        url = f"/api/convenings/{cid}"
        groups = {
            preset: _ok(api.post(f"{url}/groups", json={"preset": preset}), 201)["id"]
            for preset in ("civil_society", "government")
        }
        seats, tokens = {}, {}
        for name, role, group, extra in (
            ("Rita Rapporteur", "rapporteur", None, {}),
            ("Ana Lima", "participant", "civil_society", {"affiliation": "Coastal Fishers Union"}),
            (
                "Bruno Costa",
                "participant",
                "government",
                {"affiliation": "Ministry of Fisheries", "email": "bruno.costa@example.org"},
            ),
        ):
            seat_body = {"holder_name": name, "role": role, **extra}
            if group:
                seat_body["group_id"] = groups[group]
            seat = _ok(api.post(f"{url}/seats", json=seat_body), 201)
            seats[name] = seat["id"]
            link = _ok(api.post(f"{url}/seats/{seat['id']}/invitation"), 201)["link"]
            tokens[name] = link.rsplit("/", 1)[-1]
        redeem = {"token": tokens["Ana Lima"], "accept_ground_rules": True}
        _ok(ana.post("/api/invitations/redeem", json=redeem))
        item = _ok(
            api.post(
                f"{url}/agenda",
                json={"kind": "decision", "title": "The closed season", "timebox_minutes": 20},
            ),
            201,
        )
        _ok(api.post(f"{url}/schedule"))
        _ok(api.post(f"{url}/open"))
        _ok(api.post(f"{url}/agenda/{item['id']}/start"))
        for name, attendance in (("Ana Lima", "present"), ("Bruno Costa", "absent")):
            _ok(api.put(f"{url}/seats/{seats[name]}/attendance", json={"attendance": attendance}))
        check = _ok(
            api.post(f"{url}/checks", json={"item_id": item["id"], "proposal": PROPOSAL}), 201
        )
        _ok(ana.put(f"{url}/checks/{check['id']}/answer", json={"answer": "agree", "reason": ""}))
        _ok(api.post(f"{url}/checks/{check['id']}/close", json={}))
        _ok(api.post(f"{url}/close"))
        yield Closed(cid, tokens["Rita Rapporteur"])


def _axe_serious(page: Page) -> list[str]:
    """Serious or critical axe-core violations on the page as it is now (WCAG 2.2 AA)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe/axe.min.js")  # 'self': allowed by the CSP
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {
            runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"] },
            resultTypes: ["violations"],
          });
          const where = (v) => v.nodes.map((n) => n.target.join(" ")).join(", ");
          return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
            .map((v) => `${v.id}: ${v.help} (${where(v)})`);
        }"""
    )
    return found  # type: ignore[no-any-return]


def _pdf_pages(pdf: bytes) -> list[int]:
    """Render a PDF to PNG pages with pdftoppm; the size of each image."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "report.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "40", str(source), str(Path(folder) / "page")],
            check=True,
            timeout=60,
        )
        return [p.stat().st_size for p in sorted(Path(folder).glob("page*.png"))]


def _reach(page: Page, column: str) -> Any:
    return page.locator(f'#reach-total td[data-col="{column}"]')


def test_report_back_from_draft_to_reply(
    new_context: NewContext, convener_context: BrowserContext, closed: Closed, tmp_path: Path
) -> None:
    cid = closed.cid

    # The rapporteur edits the draft and previews it.
    rapporteur: BrowserContext = new_context()
    redeemed = rapporteur.request.post(
        "/api/invitations/redeem",
        data={"token": closed.rapporteur_token, "accept_ground_rules": True},
    )
    assert redeemed.ok, redeemed.text()
    editor = rapporteur.new_page()
    editor.goto(f"/convenings/{cid}/report/edit")
    expect(editor.locator("#draft-state")).to_contain_text("Not saved yet")
    expect(editor.get_by_role("button", name=re.compile("^Publish"))).to_have_count(0)
    markdown = editor.get_by_label("The draft, in Markdown")
    expect(markdown).to_have_value(re.compile(re.escape(PROPOSAL)))
    markdown.fill(markdown.input_value() + f"\n\n{NOTE}\n")
    expect(editor.locator("#draft-state")).to_have_text("Unsaved changes.")
    editor.get_by_role("button", name="Preview").click()
    expect(editor.locator("#draft-preview")).to_contain_text(NOTE)
    expect(editor.locator("#draft-state")).to_contain_text("edited by hand")
    expect(editor.get_by_role("heading", name="Preview")).to_be_focused()
    editor.screenshot(path=str(tmp_path / "report-editor.png"), full_page=True)

    # The convener publishes it from the reach view.
    manage = convener_context.new_page()
    manage.goto(f"/convenings/{cid}/report/manage")
    manage.once("dialog", lambda dialog: dialog.accept())
    manage.get_by_role("button", name="Publish the draft as version 1").click()
    expect(manage.locator("#versions")).to_contain_text("Version 1, published", timeout=WAIT)
    expect(manage.locator("#connection")).to_have_attribute("data-state", "connected", timeout=WAIT)
    bruno_row = manage.locator("#readers-rows tr", has_text="Bruno Costa")
    expect(bruno_row).to_contain_text("Absent seat")
    expect(bruno_row).to_contain_text("Waiting to send")
    link = bruno_row.locator("input.link").input_value()
    assert link.startswith(f"{manage.url.split('/convenings')[0]}/read/")
    expect(_reach(manage, "readers")).to_have_text("1")
    expect(_reach(manage, "acknowledged")).to_have_text("0")
    manage.evaluate("window.__notReloaded = true")

    # The reader opens their link, on a phone.
    reader_context = new_context(viewport={"width": 375, "height": 800})
    reader = reader_context.new_page()
    reader.goto(link)
    expect(reader).to_have_url(re.compile(rf"/convenings/{cid}/report$"))
    expect(reader.locator("#version-line")).to_contain_text("Version 1, published")
    expect(reader.locator("#report")).to_contain_text(NOTE)
    expect(reader.get_by_role("link", name="PDF")).to_be_visible()
    expect(reader.get_by_role("link", name="Word document (DOCX)")).to_be_visible()
    body_text = reader.locator("body").inner_text()
    for name in NAMES:
        assert name not in body_text, f"the reader page names {name!r}"
    width = reader.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the reader page scrolls sideways on a phone: {width}px wide"
    assert not _axe_serious(reader)
    # Opening it counted as a reading, live on the convener's page.
    expect(_reach(manage, "read")).to_have_text("1", timeout=WAIT)

    # The read receipt.
    reader.get_by_role("button", name="Acknowledge").click()
    expect(reader.locator("#acknowledged")).to_have_text(re.compile("Acknowledged version 1"))
    expect(reader.get_by_role("button", name="Acknowledge")).to_be_hidden()
    expect(_reach(manage, "acknowledged")).to_have_text("1", timeout=WAIT)
    government = manage.locator("#reach-rows tr", has_text="Government")
    expect(government.locator('td[data-col="acknowledged"]')).to_have_text("1")
    expect(bruno_row.locator('td[data-col="acknowledged"]')).to_contain_text("Version 1")

    # A disagreement needs a reason: the server says so next to the field.
    outcome = reader.locator("form.outcome-form").first
    outcome.get_by_label("I disagree").check()
    outcome.get_by_role("button", name=re.compile("^Send my position")).click()
    reason = outcome.get_by_label("Your reason")
    expect(outcome.locator(".field-error")).to_have_text(
        "Give the reason for your concern or disagreement."
    )
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    reason.fill(REASON)
    outcome.get_by_role("button", name=re.compile("^Send my position")).click()
    expect(outcome.locator("[data-status]")).to_contain_text("Answer sent")
    mine = reader.locator("#my-answers-list > li")
    expect(mine).to_have_count(1)
    expect(mine.first).to_contain_text("I disagree")
    expect(mine.first).to_contain_text(REASON)

    # The convener sees it without a reload.
    answers = manage.locator("#answers-list > li")
    expect(answers).to_have_count(1, timeout=WAIT)
    expect(answers.first).to_contain_text(REASON)
    expect(answers.first).to_contain_text("Disagrees")
    expect(answers.first).to_contain_text("Bruno Costa")
    expect(_reach(manage, "answered")).to_have_text("1")
    expect(bruno_row.locator('td[data-col="answers"]')).to_have_text("1")

    # A response to a section.
    section = reader.locator("#section-form")
    section.get_by_label("Section").select_option(label="Participation")
    section.get_by_label("Your response").fill(RESPONSE)
    section.get_by_role("button", name="Send my response").click()
    expect(section.locator("[data-status]")).to_contain_text("Answer sent")
    expect(mine).to_have_count(2)
    expect(mine.first).to_contain_text("Your response to the section “Participation”")
    expect(answers).to_have_count(2, timeout=WAIT)
    expect(answers.first).to_contain_text(RESPONSE)
    expect(bruno_row.locator('td[data-col="answers"]')).to_have_text("2")
    assert manage.evaluate("window.__notReloaded === true"), "the reach view was reloaded"
    assert not _axe_serious(manage)
    manage.screenshot(path=str(tmp_path / "report-manage.png"), full_page=True)

    # The convener replies to the disagreement; the reader sees the reply.
    disagreement = manage.locator("#answers-list > li", has_text=REASON)
    disagreement.get_by_label("Reply to Bruno Costa").fill(REPLY)
    disagreement.get_by_role("button", name=re.compile("^Send the reply")).click()
    expect(disagreement.locator(".replies")).to_contain_text(REPLY, timeout=WAIT)
    reader.reload()
    answered = reader.locator("#my-answers-list > li", has_text=REASON)
    expect(answered.locator(".replies")).to_contain_text("The convener replied")
    expect(answered.locator(".replies")).to_contain_text(REPLY)
    expect(reader.locator("#acknowledged")).to_be_visible()

    # On paper: the report without the forms and the navigation.
    reader.emulate_media(media="print")
    expect(reader.locator("#report")).to_be_visible()
    expect(reader.locator("#respond")).to_be_hidden()
    expect(reader.locator("header.site-header")).to_be_hidden()
    reader.emulate_media(media="screen")
    reader.screenshot(path=str(tmp_path / "report-reader-phone.png"), full_page=True)

    # The published PDF, as the reader downloads it, renders to pages.
    pdf = reader_context.request.get(f"/api/convenings/{cid}/report/versions/1/export.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed: the PDF was not rendered")
    sizes = _pdf_pages(pdf.body())
    assert sizes and all(size > 1000 for size in sizes), sizes
