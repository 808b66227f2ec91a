"""Script payloads in every text a person can write are inert in the browser.

One convening where every user-writable text (convening, groups, seats, agenda, the whole
record, commitments and progress, the report-back draft, readers' answers and the
convener's replies) holds a payload: a <script>, an <img onerror>, an attribute breakout
into <svg onload>, and, where Markdown is rendered, `javascript:` links. Every page is opened
as the person who sees it; the live pages also after a live update. A page fails if a dialog
opens, if `window.__pwned` is set, if any payload became an element (an <img src=x>, an
<svg onload>, a `javascript:` link), if the browser reports a Content-Security-Policy
violation (the policy would have stopped a script that got in), or if the payload is not
shown back as text.
"""

import re
from typing import Any

import pytest
from playwright.sync_api import APIResponse, BrowserContext, Page, expect

from tests.e2e.conftest import LiveServer, NewContext

pytestmark = pytest.mark.browser

WAIT = 10_000


def payload(label: str) -> str:
    """A short payload (fits a 100-character field), tagged so it can be found as text."""
    return (
        f"{label}<script>__pwned=1</script><img src=x onerror=__pwned=1>"
        "\"'><svg onload=alert(1)>"
    )


def long_payload(label: str) -> str:
    """A payload for long text: Markdown links and raw HTML that would run script too."""
    return (
        payload(label)
        + " [link](javascript:__pwned=1) <a href=\"javascript:__pwned=1\">a</a>"
        + " ![i](x\" onerror=\"__pwned=1) javascript:alert(1) <iframe src=javascript:__pwned=1>"
    )


SHOWN = re.compile(r"([A-Z0-9]+)<script>")  # a label, then its payload shown as text

# Elements no payload may become, whatever the page.
INJECTED = (
    "img[src='x'], svg[onload], iframe[src^='javascript' i], a[href^='javascript' i], "
    "[onerror], [onload]"
)

# Before any page script: collect the Content-Security-Policy violations the page reports.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
});
"""


class Watched:
    """Browser contexts whose pages record every dialog (and dismiss it)."""

    def __init__(self, new_context: NewContext) -> None:
        self.new_context = new_context
        self.dialogs: list[str] = []
        self.seen: set[str] = set()  # the labels whose payload some page showed as text

    def context(self) -> BrowserContext:
        context = self.new_context()
        context.add_init_script(WATCH)

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        context.on("page", lambda page: page.on("dialog", on_dialog))
        return context


def ok(response: APIResponse, status: int = 200) -> Any:
    assert response.status == status, f"{response.url}: {response.status} {response.text()}"
    return response.json() if response.body() else None


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def assert_inert(page: Page, watched: Watched, *labels: str) -> None:
    """Nothing ran, nothing was injected, no script was blocked, and each label's payload
    is shown as text."""
    where = page.url
    assert not watched.dialogs, f"{where}: dialogs opened: {watched.dialogs}"
    assert page.evaluate("window.__pwned") is None, f"{where}: a payload ran"
    injected = page.locator(INJECTED)
    assert injected.count() == 0, f"{where}: injected {injected.first.evaluate('e => e.outerHTML')}"
    scripts = page.evaluate(
        "[...document.scripts].filter(s => s.textContent.includes('__pwned')).length"
    )
    assert scripts == 0, f"{where}: a payload became a <script>"
    assert page.evaluate("window.__csp") == [], f"{where}: {page.evaluate('window.__csp')}"
    text = page.locator("body").inner_text()
    watched.seen.update(SHOWN.findall(text))
    for label in labels:
        # The label right before the literal "<script>": the tag was shown, not parsed.
        assert f"{label}<script>" in text, f"{where}: {label}'s payload is not shown as text"


def visit(page: Page, path: str, watched: Watched, *labels: str) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    assert_inert(page, watched, *labels)


class Author:
    """Writes the payloads through the API, as the person each text belongs to."""

    def __init__(self) -> None:
        self.labels: list[str] = []

    def __call__(self, label: str, long: bool = False) -> str:
        self.labels.append(label)
        return long_payload(label) if long else payload(label)


def test_payloads_in_every_text_are_inert_on_every_page(
    new_context: NewContext, live_server: LiveServer
) -> None:
    watched = Watched(new_context)
    w = Author()
    convener = watched.context()
    ok(
        convener.request.post(
            "/api/auth/sign-in",
            data={"email": live_server.convener_email, "password": live_server.convener_password},
        )
    )
    api = convener.request
    cid = ok(
        api.post(
            "/api/convenings",
            data={
                "title": w("CTITLE"),
                "purpose": w("CPURPOSE", long=True),
                "ground_rules": w("CRULES", long=True),
                "purpose_type": "consensus_building",
                "attribution": "attributed",
                "time_zone": "Africa/Nairobi",
                "starts_at": "2030-03-02T09:00:00+03:00",
                "ends_at": "2030-03-02T13:00:00+03:00",
            },
        ),
        201,
    )["id"]
    url = f"/api/convenings/{cid}"
    groups = [
        ok(api.post(f"{url}/groups", data={"name": w(f"GROUP{n}"), "target_seats": 3}), 201)
        for n in (1, 2)
    ]
    seats: dict[str, dict[str, Any]] = {}
    tokens: dict[str, str] = {}
    for key, role, group in (
        ("FAC", "facilitator", None),
        ("RAP", "rapporteur", None),
        ("A", "participant", groups[0]["id"]),
        ("B", "participant", groups[1]["id"]),
        ("OBS", "observer", None),
        ("LATE", "participant", groups[1]["id"]),
    ):
        body = {
            "role": role,
            "group_id": group,
            "holder_name": w(f"NAME{key}"),
            "affiliation": w(f"AFF{key}"),
            "speaks_for": w(f"FOR{key}"),
            "email": f"{key.lower()}@hostile.example",
        }
        seats[key] = ok(api.post(f"{url}/seats", data=body), 201)
        link = ok(api.post(f"{url}/seats/{seats[key]['id']}/invitation"), 201)["link"]
        tokens[key] = token_of(link)
    items = [
        ok(
            api.post(
                f"{url}/agenda",
                data={
                    "kind": "decision",
                    "title": w(f"ITEM{n}"),
                    "description": w(f"DESC{n}", long=True),
                    "questions": [w(f"QUESTION{n}", long=True)],
                    "timebox_minutes": 30,
                },
            ),
            201,
        )
        for n in (1, 2)
    ]
    item = items[0]["id"]

    # The convener's console, and the join page of a seat not yet taken, before the day.
    page = convener.new_page()
    visit(page, "/console", watched, "CTITLE")
    visit(
        page,
        f"/console/convenings/{cid}",
        watched,
        "CTITLE",
        "GROUP1",
        "NAMEA",
        "AFFA",
        "ITEM1",
    )
    visit(watched.context().new_page(), f"/join/{tokens['LATE']}", watched, "CTITLE", "NAMELATE")

    ok(api.post(f"{url}/schedule"))
    ok(api.post(f"{url}/open"))
    ok(api.post(f"{url}/agenda/{item}/start"))
    browsers: dict[str, BrowserContext] = {}
    for key in ("FAC", "RAP", "A", "B", "OBS"):
        browsers[key] = watched.context()
        ok(
            browsers[key].request.post(
                "/api/invitations/redeem",
                data={"token": tokens[key], "accept_ground_rules": True},
            )
        )
    a, b, rap = browsers["A"].request, browsers["B"].request, browsers["RAP"].request

    ok(a.post(f"{url}/floor/hand", data={}), 201)
    contribution = ok(
        a.post(
            f"{url}/contributions",
            data={"item_id": item, "kind": "proposal", "text": w("CONTRIB", long=True)},
        ),
        201,
    )
    ok(
        rap.post(
            f"{url}/contributions/captured",
            data={"item_id": item, "seat_id": seats["B"]["id"], "text": w("CAPTURED", True)},
        ),
        201,
    )
    check = ok(
        api.post(
            f"{url}/checks",
            data={
                "item_id": item,
                "proposal": w("PROPOSAL", long=True),
                "contribution_id": contribution["id"],
            },
        ),
        201,
    )["id"]
    ok(
        a.put(
            f"{url}/checks/{check}/answer",
            data={"answer": "agree_with_reservations", "reason": w("REASON", long=True)},
        )
    )
    outcome = ok(
        api.post(f"{url}/checks/{check}/close", data={"statement": w("OUTCOME", long=True)})
    )["id"]
    open_check = ok(
        api.post(f"{url}/checks", data={"item_id": item, "proposal": w("OPENCHECK", True)}), 201
    )["id"]
    ok(
        b.put(
            f"{url}/checks/{open_check}/answer",
            data={"answer": "stand_aside", "reason": w("REASON2", long=True)},
        )
    )
    ok(
        a.post(
            f"{url}/dissents",
            data={"target": "outcome", "target_id": outcome, "reason": w("DISSENT", True)},
        ),
        201,
    )
    withdrawn = ok(
        b.post(
            f"{url}/dissents",
            data={"target": "item", "target_id": item, "reason": w("DISSENT2", long=True)},
        ),
        201,
    )["id"]
    ok(
        b.post(f"{url}/dissents/{withdrawn}/withdrawal", data={"reason": w("WITHDRAW", True)}),
        201,
    )
    for n in (1, 2):
        parked = ok(
            rap.post(
                f"{url}/parking",
                data={"text": w(f"PARKED{n}", True), "item_id": item, "seat_id": seats["A"]["id"]},
            ),
            201,
        )["id"]
    ok(rap.post(f"{url}/parking/{parked}/resolution", data={"resolution": w("RESOLVED", True)}))
    commitment = ok(
        a.post(
            f"{url}/commitments",
            data={
                "what": w("WHAT", long=True),
                "owner": w("OWNER"),
                "due_date": "2031-06-30",
                "indicator": w("INDICATOR", long=True),
                "resources": w("RESOURCES", long=True),
                "item_id": item,
            },
        ),
        201,
    )["commitment"]["id"]
    ok(
        a.post(
            f"{url}/commitments/{commitment}/progress",
            data={"status": "on_track", "text": w("PROGRESS", long=True)},
        ),
        201,
    )
    progress = token_of(
        next(
            row["progress_link"]
            for row in ok(api.get(f"{url}/commitments"))
            if row["commitment"]["id"] == commitment
        )
    )
    ok(
        api.post(
            f"/api/progress/{progress}",
            data={"status": "at_risk", "text": w("LINKNOTE", long=True)},
        ),
        201,
    )

    # The live pages, each as the person who uses it.
    live = {
        "room": browsers["A"],
        "facilitate": browsers["FAC"],
        "display": browsers["OBS"],
        "desk": browsers["RAP"],
    }
    opened: dict[str, Page] = {}
    for path, context in live.items():
        page = context.new_page()
        response = page.goto(f"/convenings/{cid}/{path}")
        assert response is not None and response.ok, path
        expect(page.locator("#connection")).to_have_attribute(
            "data-state", "connected", timeout=WAIT
        )
        page.wait_for_load_state("networkidle")
        assert_inert(page, watched, "CTITLE", "ITEM1")
        opened[path] = page
    visit(opened["room"], f"/convenings/{cid}/room", watched, "CONTRIB", "OUTCOME", "DISSENT")
    visit(convener.new_page(), f"/convenings/{cid}/commitments", watched, "WHAT", "OWNER")
    visit(watched.context().new_page(), f"/progress/{progress}", watched, "WHAT", "LINKNOTE")

    # A live update while the pages are open: a point, a dissent, a question to the room.
    ok(
        b.post(
            f"{url}/contributions",
            data={"item_id": item, "kind": "question", "text": w("LIVEPOINT", long=True)},
        ),
        201,
    )
    ok(api.post(f"{url}/checks", data={"item_id": item, "proposal": w("LIVECHECK", True)}), 201)
    ok(b.post(f"{url}/floor/hand", data={}), 201)  # B's name joins the queue on the display
    shown_live = {"room": "LIVEPOINT", "facilitate": "LIVECHECK", "desk": "LIVEPOINT"}
    for path, page in opened.items():
        label = shown_live.get(path, "NAMEB")
        expect(page.locator("main")).to_contain_text(f"{label}<script>", timeout=WAIT)
        assert_inert(page, watched, label)

    # The report-back: the rapporteur's draft (Markdown with raw HTML and javascript: links),
    # a published version, a reader who answers, the convener's reply, the public link.
    ok(api.post(f"{url}/close"))
    generated = ok(api.post(f"{url}/report/draft/generate"))["markdown"]
    markdown = (
        f"{generated}\n\n## {w('SECTION')}\n\n{w('DRAFT', long=True)}\n\n"
        "<script>__pwned=1</script>\n\n<img src=x onerror=__pwned=1>\n\n"
        "[click](javascript:__pwned=1) [click](JaVaScRiPt:__pwned=1) "
        "[click](&#106;avascript:__pwned=1) <javascript:__pwned=1>\n"
    )
    ok(rap.put(f"{url}/report/draft", data={"markdown": markdown}))
    ok(api.post(f"{url}/report/versions"), 201)
    reader = ok(
        api.post(
            f"{url}/report/readers", data={"name": w("READER"), "email": "reader@hostile.example"}
        ),
        201,
    )
    public = token_of(ok(api.put(f"{url}/report/public-link", data={"on": True}))["link"])
    reading = watched.context()
    page = reading.new_page()
    page.goto(f"/read/{token_of(reader['link'])}")
    expect(page).to_have_url(f"{live_server.url}/convenings/{cid}/report")
    sections = ok(reading.request.get(f"{url}/report/mine"))["sections"]
    section = next(s for s in sections if s.startswith("SECTION<script>"))
    answer = ok(
        reading.request.post(
            f"{url}/report/answers",
            data={"version": 1, "section": section, "text": w("ANSWER", long=True)},
        ),
        201,
    )["id"]
    ok(
        reading.request.post(
            f"{url}/report/answers",
            data={
                "version": 1,
                "outcome_id": outcome,
                "position": "concern",
                "text": w("POSITION", long=True),
            },
        ),
        201,
    )
    ok(api.post(f"{url}/report/answers/{answer}/replies", data={"text": w("REPLY", True)}), 201)

    visit(page, f"/convenings/{cid}/report", watched, "SECTION", "DRAFT", "ANSWER", "REPLY")
    for path, labels in (
        ("report", ("SECTION", "DRAFT", "OUTCOME")),
        ("report/edit", ("SECTION", "DRAFT")),
        ("report/manage", ("READER", "ANSWER", "POSITION", "REPLY")),
    ):
        visit(convener.new_page(), f"/convenings/{cid}/{path}", watched, *labels)
    visit(watched.context().new_page(), f"/public/report/{public}", watched, "SECTION", "DRAFT")

    # The editor's preview, after an edit in the browser: the server's sanitized HTML.
    editor = browsers["RAP"].new_page()
    visit(editor, f"/convenings/{cid}/report/edit", watched, "DRAFT")
    editor.locator("#draft-markdown").fill(f"# {w('EDITED')}\n\n{w('PREVIEW', long=True)}")
    editor.locator("#preview-button").click()
    expect(editor.locator("#draft-preview")).to_contain_text("PREVIEW<script>", timeout=WAIT)
    assert_inert(editor, watched, "EDITED", "PREVIEW")

    # Every text written was shown somewhere, as text (so every one was put to the test),
    # except what no page shows: the reasons given with answers to a check, and a closed
    # check's proposal (its outcome's statement is shown instead).
    assert set(w.labels) - watched.seen == {"PROPOSAL", "REASON", "REASON2"}
