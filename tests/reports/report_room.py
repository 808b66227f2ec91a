"""A convening with one of everything in its record, for the report-back tests."""

import io
from dataclasses import dataclass
from typing import Any

import httpx

from tests.commitments.record_room import (
    PEOPLE,
    Room,
    answer,
    commitment_body,
    make_room,
    table_check,
)
from tests.conftest import SeatBrowser

DISSENT_KEPT = "The cost falls on small farms."
DISSENT_WITHDRAWN = "Monitoring should be independent."
DISSENT_ANON_TARGET = "This item was rushed."
COMMITMENTS = ("Publish every withdrawal permit online", "Fund a community meter pool")
OPEN_PARKED = "Who pays for the meters?"
RESOLVED_PARKED = "Which pumps count as large?"


@dataclass
class ReportRoom:
    room: Room
    outcome_id: int


async def make_report_room(
    convener: httpx.AsyncClient, seated: SeatBrowser, rule: str = "chatham_house"
) -> ReportRoom:
    """A live room with points, an outcome, dissents (one withdrawn), parking, commitments,
    two participants present and one absent, and some airtime."""
    room = await make_room(convener, seated, rule, items=2)
    item_id = room.item["id"]
    for key, text in (
        ("a", "Meter the big pumps first."),
        ("b", "Small farms cannot pay for meters."),
        ("c", "Data should be public."),
    ):
        made = await room[key].post(
            room.url("/contributions"), json={"item_id": item_id, "kind": "proposal", "text": text}
        )
        assert made.status_code == 201, made.text
    check = await table_check(room, "Meter withdrawals above 100 m3 a day.")
    await answer(room, "a", check, "endorse")
    await answer(room, "b", check, "disagree", "Too costly for smallholders.")
    await answer(room, "c", check, "agree_with_reservations", "Needs a subsidy.")
    closed = await room["fac"].post(room.url(f"/checks/{check}/close"), json={})
    assert closed.status_code == 200, closed.text
    outcome_id = closed.json()["id"]
    kept = await room["b"].post(
        room.url("/dissents"),
        json={"target": "outcome", "target_id": outcome_id, "reason": DISSENT_KEPT},
    )
    assert kept.status_code == 201, kept.text
    withdrawn = await room["c"].post(
        room.url("/dissents"),
        json={"target": "item", "target_id": item_id, "reason": DISSENT_WITHDRAWN},
    )
    assert withdrawn.status_code == 201, withdrawn.text
    back = await room["c"].post(
        room.url(f"/dissents/{withdrawn.json()['id']}/withdrawal"),
        json={"reason": "An independent monitor was agreed."},
    )
    assert back.status_code == 201, back.text
    third = await room["a"].post(
        room.url("/dissents"),
        json={"target": "item", "target_id": room.items[1]["id"], "reason": DISSENT_ANON_TARGET},
    )
    assert third.status_code == 201, third.text
    for text in (OPEN_PARKED, RESOLVED_PARKED):
        parked = await room["rap"].post(
            room.url("/parking"),
            json={"text": text, "item_id": item_id, "seat_id": room.seat_id("b")},
        )
        assert parked.status_code == 201, parked.text
        if text == RESOLVED_PARKED:
            done = await room["rap"].post(
                room.url(f"/parking/{parked.json()['id']}/resolution"),
                json={"resolution": "Above 100 m3 a day."},
            )
            assert done.status_code in (200, 201), done.text
    first = await room["a"].post(
        room.url("/commitments"), json=commitment_body(what=COMMITMENTS[0])
    )
    assert first.status_code == 201, first.text
    second = await room["b"].post(
        room.url("/commitments"),
        json=commitment_body(what=COMMITMENTS[1], owner="The union's treasurer"),
    )
    assert second.status_code == 201, second.text
    for key, attendance in (("a", "present"), ("b", "present"), ("c", "absent")):
        marked = await room["fac"].put(
            room.url(f"/seats/{room.seat_id(key)}/attendance"), json={"attendance": attendance}
        )
        assert marked.status_code == 200, marked.text
    return ReportRoom(room, outcome_id)


def people_strings() -> list[str]:
    """Every participant's name, email and affiliation (none may reach the outside)."""
    found = []
    for fields in PEOPLE.values():
        for key in ("holder_name", "email", "affiliation"):
            if fields.get(key):
                found.append(str(fields[key]))
    return found


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def flat(text: str) -> str:
    """Whitespace folded (PDF text and ICS folding split lines anywhere)."""
    return " ".join(text.split())


def export_text(fmt: str, body: bytes) -> str:
    if fmt == "pdf":
        return pdf_text(body)
    if fmt == "docx":
        return docx_text(body)
    text = body.decode("utf-8-sig")
    if fmt == "ics":
        text = text.replace("\r\n ", "").replace("\\,", ",").replace("\\;", ";")
    return text


def assert_names_nobody(text: str, where: str) -> None:
    lowered = flat(text).lower()
    for needle in people_strings():
        assert needle.lower() not in lowered, f"{where} names {needle!r}"
    # Name parts alone too (a surname in a table cell, a first name in a heading).
    for fields in PEOPLE.values():
        for part in str(fields["holder_name"]).split():
            assert part.lower() not in lowered.split(), f"{where} names {part!r}"


__all__ = ["Any", "ReportRoom", "make_report_room"]
