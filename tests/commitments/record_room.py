"""A live room for the record and commitment tests: named people in several stakeholder
groups, the first agenda item open, and helpers that read rows straight from the database.

Shared by tests/record/ and tests/commitments/ (the record tests import it from here)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text, update

from tests.conftest import CONVENING, SeatBrowser

# Who sits at the table: key → the seat's fields (group given by preset). Every name, email
# and affiliation is distinctive, so a search of any text for it finds only the person.
PEOPLE: dict[str, dict[str, Any]] = {
    "fac": {
        "role": "facilitator",
        "holder_name": "Fatou Diallo",
        "affiliation": "Neutral Ground Facilitation",
        "email": "fatou.diallo@example.org",
    },
    "rap": {
        "role": "rapporteur",
        "holder_name": "Rajesh Iyer",
        "affiliation": "Basin Record Office",
        "email": "rajesh.iyer@example.org",
    },
    "a": {
        "role": "participant",
        "holder_name": "Ana Lima",
        "affiliation": "Ministry of Water Resources",
        "email": "ana.lima@example.org",
        "group": "government",
    },
    "b": {
        "role": "participant",
        "holder_name": "Ben Okoro",
        "affiliation": "River Farmers Union",
        "email": "ben.okoro@example.org",
        "group": "civil_society",
    },
    "c": {
        "role": "participant",
        "holder_name": "Chen Wei",
        "affiliation": "Delta Research Institute",
        "email": "chen.wei@example.org",
        "group": "academia",
    },
    "obs": {
        "role": "observer",
        "holder_name": "Olga Petrova",
        "affiliation": "Valley Gazette",
        "email": "olga.petrova@example.org",
    },
}
PARTICIPANTS = ("a", "b", "c")
GROUP_PRESETS = ("government", "civil_society", "academia")


@dataclass
class Room:
    """A live convening, its first item open, and a browser for each seat."""

    cid: int
    rule: str
    convener: httpx.AsyncClient
    browsers: dict[str, httpx.AsyncClient]
    seats: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]
    item: dict[str, Any]  # the first agenda item, open
    extra: list[str] = field(default_factory=list)  # keys of the extra participants
    items: list[dict[str, Any]] = field(default_factory=list)  # the whole agenda

    def url(self, path: str = "") -> str:
        return f"/api/convenings/{self.cid}{path}"

    def __getitem__(self, key: str) -> httpx.AsyncClient:
        return self.browsers[key]

    def seat_id(self, key: str) -> int:
        return int(self.seats[key]["id"])


async def make_room(
    convener: httpx.AsyncClient,
    seated: SeatBrowser,
    rule: str = "attributed",
    *,
    extra_participants: int = 0,
    people: tuple[str, ...] = tuple(PEOPLE),
    items: int = 1,
) -> Room:
    """A live convening under `rule` with the given PEOPLE seated (and `extra_participants`
    more participants, keys p1, p2, ..., spread over the groups), `items` agenda items."""
    made = await convener.post("/api/convenings", json={**CONVENING, "attribution": rule})
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    groups = {}
    for preset in GROUP_PRESETS:
        added = await convener.post(f"/api/convenings/{cid}/groups", json={"preset": preset})
        assert added.status_code == 201, added.text
        groups[preset] = added.json()
    agenda = []
    for title in ["Metering", "Allocation", "Monitoring", "Next steps"][:items]:
        added = await convener.post(
            f"/api/convenings/{cid}/agenda", json={"kind": "decision", "title": title}
        )
        assert added.status_code == 201, added.text
        agenda.append(added.json())
    browsers: dict[str, httpx.AsyncClient] = {}
    seats: dict[str, dict[str, Any]] = {}
    wanted = [(key, dict(PEOPLE[key])) for key in people]
    if "fac" not in people:
        wanted.insert(0, ("fac", dict(PEOPLE["fac"])))
    extra = []
    for n in range(1, extra_participants + 1):
        preset = GROUP_PRESETS[n % len(GROUP_PRESETS)]
        extra.append(f"p{n}")
        wanted.append(
            (f"p{n}", {"role": "participant", "holder_name": f"Extra Person {n}", "group": preset})
        )
    for key, fields in wanted:
        preset = fields.pop("group", None)
        role = fields.pop("role")
        if preset is not None:
            fields["group_id"] = groups[preset]["id"]
        browsers[key], seats[key] = await seated(cid, role, **fields)
    for step in ("schedule", "open"):
        moved = await convener.post(f"/api/convenings/{cid}/{step}")
        assert moved.status_code == 200, moved.text
    started = await browsers["fac"].post(f"/api/convenings/{cid}/agenda/{agenda[0]['id']}/start")
    assert started.status_code == 200, started.text
    return Room(cid, rule, convener, browsers, seats, groups, agenda[0], extra, agenda)


async def db_rows(app: FastAPI, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows straight from the database (outside any request)."""
    async with app.state.engine.connect() as connection:
        result = await connection.execute(text(sql), params)
        return [tuple(row) for row in result.all()]


async def db_update(app: FastAPI, model: Any, row_id: int, **values: Any) -> None:
    """Change a row behind the app's back (to move time, say), through the model's column
    types (so an aware datetime is stored the way the app stores it, on either database)."""
    async with app.state.engine.begin() as connection:
        await connection.execute(update(model).where(model.id == row_id).values(**values))


RECORD_TABLES = (
    "contribution",
    "consensus_check",
    "check_response",
    "outcome",
    "dissent",
    "dissent_withdrawal",
    "parking_lot_item",
    "commitment",
    "progress_report",
    "event",
)


async def table_dump(app: FastAPI, cid: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every record row of every record table (and the convening's event log), to compare
    before and after a refused request."""
    dump = {
        name: await db_rows(app, f'SELECT * FROM "{name}" ORDER BY id') for name in RECORD_TABLES
    }
    dump["convening"] = await db_rows(app, "SELECT * FROM convening WHERE id = :cid", cid=cid)
    return dump


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def commitment_body(**overrides: Any) -> dict[str, Any]:
    """A SMART commitment, due in two months."""
    return {
        "what": "Publish every withdrawal permit online",
        "owner": "The permits unit",
        "due_date": in_days(60),
        "indicator": "Share of permits online",
        "resources": "Two staff for a month",
        **overrides,
    }


async def table_check(room: Room, proposal: str = "Meter withdrawals above 100 m3 a day.") -> int:
    """The facilitator puts a proposal to the room; returns the check's id."""
    made = await room["fac"].post(
        room.url("/checks"), json={"item_id": room.item["id"], "proposal": proposal}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def answer(room: Room, key: str, check_id: int, value: str, reason: str = "") -> None:
    """A participant answers a check (a reason is given where one is needed)."""
    if not reason and value not in ("endorse", "agree"):
        reason = f"My reason for {value}."
    response = await room[key].put(
        room.url(f"/checks/{check_id}/answer"), json={"answer": value, "reason": reason}
    )
    assert response.status_code == 200, response.text
