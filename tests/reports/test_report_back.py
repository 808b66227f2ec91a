"""The report-back: a draft generated from the record for the outside audience, edited by
the rapporteur, published by the convener as immutable versions with a diff, and exported in
every format, naming nobody under the Chatham House Rule."""

import json

import httpx
from fastapi import FastAPI

from tests.commitments.record_room import db_rows
from tests.conftest import SeatBrowser
from tests.reports.report_room import (
    COMMITMENTS,
    DISSENT_ANON_TARGET,
    DISSENT_KEPT,
    DISSENT_WITHDRAWN,
    OPEN_PARKED,
    RESOLVED_PARKED,
    assert_names_nobody,
    export_text,
    flat,
    make_report_room,
)

FORMATS = {
    "html": "text/html",
    "md": "text/markdown",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
    "csv": "text/csv",
    "ics": "text/calendar",
}
GROUP_LABELS = ("a government participant", "a civil society participant")


async def test_the_draft_holds_every_dissent_and_commitment_and_names_nobody(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    preview = await room["rap"].get(room.url("/report/draft"))
    assert preview.status_code == 200, preview.text
    assert preview.json()["saved"] is False
    generated = await room["rap"].post(room.url("/report/draft/generate"))
    assert generated.status_code == 200, generated.text
    draft = generated.json()
    markdown = draft["markdown"]
    assert draft["saved"] is True and draft["edited"] is False
    assert markdown == preview.json()["markdown"]
    for text in (DISSENT_KEPT, DISSENT_WITHDRAWN, DISSENT_ANON_TARGET, *COMMITMENTS):
        assert text in markdown, text
    withdrawn_line = next(line for line in markdown.splitlines() if DISSENT_WITHDRAWN in line)
    assert "Withdrawn" in withdrawn_line
    kept_line = next(line for line in markdown.splitlines() if DISSENT_KEPT in line)
    assert "Withdrawn" not in kept_line
    # Questions, key points, the outcome with its level and tally by group.
    assert "## 1. Metering" in markdown and "## 2. Allocation" in markdown
    assert "Meter withdrawals above 100 m3 a day." in markdown
    assert "Consensus level: **No consensus**" in markdown
    assert "| Government | 1 |" in markdown and "| Civil society |" in markdown
    # The parking lot: what stays open, and what was resolved.
    assert OPEN_PARKED in markdown.split("### Still open")[1].split("###")[0]
    assert RESOLVED_PARKED in markdown.split("### Resolved")[1]
    # Participation: absent seats counted by group, never named; airtime by group.
    participation = markdown.split("## Participation")[1]
    assert "At the table: Government, Civil society." in participation
    assert "| Academia | 1 | 0 | 1 |" in participation
    assert "### Absent seats" not in participation
    assert_names_nobody(markdown, "the draft")
    assert_names_nobody(draft["html"], "the draft's preview")
    for label in GROUP_LABELS:
        assert label in markdown.lower()
    # Commitments show their light, and no owner under the rule.
    commitments = [line for line in markdown.splitlines() if COMMITMENTS[0] in line]
    assert commitments and "green" in commitments[0]
    assert "The union's treasurer" not in markdown


async def test_attributed_draft_names_people_and_absent_seats(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated, "attributed")
    room = made.room
    markdown = (await room["rap"].get(room.url("/report/draft"))).json()["markdown"]
    assert "Ana Lima (Ministry of Water Resources)" in markdown
    absent = markdown.split("### Absent seats")[1]
    assert "Chen Wei, Delta Research Institute (Academia)" in absent
    assert "The union" in markdown  # the owner may be named


async def test_anonymous_draft_names_nobody(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated, "anonymous")
    room = made.room
    markdown = (await room["rap"].post(room.url("/report/draft/generate"))).json()["markdown"]
    assert_names_nobody(markdown, "the anonymous draft")
    for text in (DISSENT_KEPT, DISSENT_WITHDRAWN, *COMMITMENTS):
        assert text in markdown


async def test_edit_publish_versions_diff_and_exports(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    made = await make_report_room(convener, seated, "chatham_house")
    room = made.room
    nothing = await convener.post(room.url("/report/versions"))
    assert nothing.status_code == 409, nothing.text
    markdown = (await room["rap"].post(room.url("/report/draft/generate"))).json()["markdown"]
    hostile = markdown + "\n<script>alert(1)</script>\n\n[click](javascript:alert(1))\n"
    saved = await room["rap"].put(room.url("/report/draft"), json={"markdown": hostile})
    assert saved.status_code == 200, saved.text
    assert saved.json()["edited"] is True
    preview = saved.json()["html"]
    assert "<script" not in preview and "&lt;script&gt;" in preview
    assert 'href="javascript' not in preview
    refused = await room["rap"].post(room.url("/report/versions"))
    assert refused.status_code == 403
    closed = await convener.post(room.url("/close"))
    assert closed.status_code == 200, closed.text

    first = await convener.post(room.url("/report/versions"))
    assert first.status_code == 201, first.text
    assert first.json()["number"] == 1 and first.json()["diff"] == ""
    status = (await convener.get(room.url())).json()["status"]
    assert status == "reported"

    edited = hostile.replace("Nothing was parked.", "").replace(
        "## Parking lot", "## Parking lot\n\nThe rapporteur's note."
    )
    assert (
        await room["rap"].put(room.url("/report/draft"), json={"markdown": edited})
    ).status_code == 200
    second = await convener.post(room.url("/report/versions"))
    assert second.status_code == 201, second.text
    assert (await convener.get(room.url())).json()["status"] == "reported"

    listed = await room["obs"].get(room.url("/report/versions"))
    assert [v["number"] for v in listed.json()] == [1, 2]
    v2 = (await room["b"].get(room.url("/report/versions/2"))).json()
    assert v2["previous"] == 1
    assert "--- version 1" in v2["diff"] and "+++ version 2" in v2["diff"]
    assert "+The rapporteur's note." in v2["diff"]
    v1 = (await room["b"].get(room.url("/report/versions/1"))).json()
    assert v1["markdown"] == hostile and "rapporteur's note" not in v1["markdown"]
    assert (await room["b"].get(room.url("/report/versions/3"))).status_code == 404

    # Every export of version 2: right type and disposition, every dissent and commitment,
    # no participant's name, email or affiliation; group labels where text is shown.
    for fmt, media in FORMATS.items():
        response = await room["obs"].get(room.url(f"/report/versions/2/export.{fmt}"))
        assert response.status_code == 200, (fmt, response.text[:300])
        assert response.headers["content-type"].startswith(media), fmt
        disposition = response.headers["content-disposition"]
        assert disposition == f'attachment; filename="report-back-{room.cid}-v2.{fmt}"'
        text = export_text(fmt, response.content)
        assert_names_nobody(text, f"the {fmt} export")
        if fmt == "ics":
            continue
        if fmt != "csv":
            for needle in (DISSENT_KEPT, DISSENT_WITHDRAWN):
                assert needle in flat(text) or needle in text, (fmt, needle)
        for needle in COMMITMENTS:
            assert needle in flat(text), (fmt, needle)
        assert any(label in flat(text).lower() for label in GROUP_LABELS), fmt
    bad = await room["obs"].get(room.url("/report/versions/2/export.exe"))
    assert bad.status_code == 422

    page = (await convener.get(room.url("/report/versions/2/export.html"))).text
    assert page.startswith("<!doctype html>") and "<script" not in page
    data = json.loads((await convener.get(room.url("/report/versions/2/export.json"))).content)
    assert data["markdown"] == edited
    assert {d["reason"] for d in data["record"]["dissents"]} >= {DISSENT_KEPT, DISSENT_WITHDRAWN}
    assert all("name" not in (d["by"] or {}) for d in data["record"]["dissents"])
    csv_text = (await convener.get(room.url("/report/versions/2/export.csv"))).content
    rows = csv_text.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("id,agenda_item,what,by,owner") and len(rows) == 3
    ics = (await convener.get(room.url("/report/versions/2/export.ics"))).text
    assert ics.count("BEGIN:VEVENT") == 2
    # 09:00 in Nairobi is 06:00 UTC; the second item follows the first's 10-minute timebox.
    assert "DTSTART:20300302T060000Z" in ics and "DTSTART:20300302T061000Z" in ics
    assert "SUMMARY:Allocation" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))

    # The published rows are as they were published.
    rows_v1 = await db_rows(app, "SELECT markdown FROM report_version WHERE number = 1")
    assert rows_v1 == [(hostile,)]
