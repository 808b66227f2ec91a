"""Traffic lights at the period boundaries (app/commitments/lights.py), table-driven; then
through the API with the convening's reporting period changed and time moved back in the
database: green while less than one period has passed since the latest report (or since
the commitment was made), yellow from one full period, red from two; a report resets the
clock."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from app.commitments.lights import traffic_light
from app.commitments.models import Commitment, Light, ProgressReport
from app.db import utcnow
from tests.commitments.record_room import Room, commitment_body, db_update, make_room
from tests.conftest import SeatBrowser

NOW = datetime(2031, 6, 15, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def _rows() -> list[tuple[int, timedelta, Light]]:
    rows = []
    for days in (1, 7, 30, 90):
        period = timedelta(days=days)
        rows += [
            (days, timedelta(0), Light.green),  # just made, or just reported
            (days, period - TICK, Light.green),  # just under one period
            (days, period, Light.yellow),  # exactly one period
            (days, period + TICK, Light.yellow),
            (days, 2 * period - TICK, Light.yellow),  # just under two
            (days, 2 * period, Light.red),  # exactly two periods
            (days, 10 * period, Light.red),
        ]
    rows.append((30, -timedelta(hours=1), Light.green))  # a clock a little ahead: still green
    return rows


@pytest.mark.parametrize(
    ("period_days", "waited", "light"),
    _rows(),
    ids=[f"{d}d-period-after-{w}" for d, w, _ in _rows()],
)
def test_traffic_light_at_the_boundaries(period_days: int, waited: timedelta, light: Light) -> None:
    assert traffic_light(NOW - waited, NOW, period_days) == light


def test_the_light_does_not_care_about_time_zones() -> None:
    since = (NOW - timedelta(days=7)).astimezone(ZoneInfo("Pacific/Auckland"))
    assert traffic_light(since, NOW, 7) == Light.yellow
    assert traffic_light(since + TICK, NOW.astimezone(ZoneInfo("America/Lima")), 7) == Light.green


# Through the API -------------------------------------------------------------------------

MINUTE = timedelta(minutes=1)  # margin for "just under": far more than a request takes


@pytest.fixture
async def room(convener: httpx.AsyncClient, seated: SeatBrowser) -> Room:
    return await make_room(convener, seated, "attributed", people=("fac", "rap", "a", "b"))


async def _lights(room: Room) -> dict[str, list[str]]:
    """The lights as each audience sees them: the convener, a participant, the owner's page."""
    convener = (await room.convener.get(room.url("/commitments"))).json()
    participant = (await room["b"].get(room.url("/commitments"))).json()
    pages = []
    for row in convener:
        token = row["progress_link"].rsplit("/", 1)[1]
        page = await room.convener.get(f"/api/progress/{token}")
        assert page.status_code == 200, page.text
        pages.append(page.json()["light"])
    return {
        "convener": [row["light"] for row in convener],
        "participant": [row["light"] for row in participant],
        "page": pages,
    }


async def _light(room: Room) -> str:
    lights = await _lights(room)
    assert lights["convener"] == lights["participant"] == lights["page"], lights
    [light] = lights["convener"]
    return light


async def _period(room: Room, days: int) -> None:
    changed = await room.convener.patch(room.url(), json={"reporting_period_days": days})
    assert changed.status_code == 200, changed.text
    assert changed.json()["reporting_period_days"] == days


async def test_lights_through_the_api_as_time_passes_and_reports_come(
    app: FastAPI, room: Room, client: httpx.AsyncClient
) -> None:
    await _period(room, 10)
    made = await room["a"].post(room.url("/commitments"), json=commitment_body())
    assert made.status_code == 201, made.text
    assert made.json()["light"] == Light.green
    commitment_id = made.json()["commitment"]["id"]
    period = timedelta(days=10)

    async def made_ago(age: timedelta) -> str:
        await db_update(app, Commitment, commitment_id, created_at=utcnow() - age)
        return await _light(room)

    assert await made_ago(period - MINUTE) == Light.green
    assert await made_ago(period) == Light.yellow
    assert await made_ago(2 * period - MINUTE) == Light.yellow
    assert await made_ago(2 * period) == Light.red

    # A report resets the clock: green again, however old the commitment.
    token = made.json()["progress_link"].rsplit("/", 1)[1]
    first = await client.post(f"/api/progress/{token}", json={"status": "on_track", "text": "1"})
    assert first.status_code == 201, first.text
    assert await _light(room) == Light.green

    async def reported_ago(report_id: int, age: timedelta) -> str:
        await db_update(app, ProgressReport, report_id, reported_at=utcnow() - age)
        return await _light(room)

    assert await reported_ago(first.json()["id"], period - MINUTE) == Light.green
    assert await reported_ago(first.json()["id"], period) == Light.yellow
    assert await reported_ago(first.json()["id"], 2 * period - MINUTE) == Light.yellow
    assert await reported_ago(first.json()["id"], 2 * period) == Light.red

    # The participant that made it reports through the API: the clock starts again.
    second = await room["a"].post(
        room.url(f"/commitments/{commitment_id}/progress"), json={"status": "at_risk", "text": "2"}
    )
    assert second.status_code == 201, second.text
    assert await _light(room) == Light.green
    # The latest report by its time counts, not the last one written.
    await db_update(app, ProgressReport, second.json()["id"], reported_at=utcnow() - 3 * period)
    assert await reported_ago(first.json()["id"], period - MINUTE) == Light.green
    assert await reported_ago(first.json()["id"], period + MINUTE) == Light.yellow
    listed = (await room.convener.get(room.url("/commitments"))).json()
    assert listed[0]["commitment"]["last_report"]["text"] == "1"


async def test_changing_the_reporting_period_changes_the_lights(app: FastAPI, room: Room) -> None:
    made = await room["a"].post(room.url("/commitments"), json=commitment_body())
    commitment_id = made.json()["commitment"]["id"]
    await db_update(app, Commitment, commitment_id, created_at=utcnow() - timedelta(days=15))
    assert await _light(room) == Light.green  # the default period: 90 days
    await _period(room, 10)
    assert await _light(room) == Light.yellow  # 15 days: one period of 10 missed
    await _period(room, 8)
    assert await _light(room) == Light.yellow  # just under two periods of 8
    await _period(room, 7)
    assert await _light(room) == Light.red  # two periods of 7 missed
    await _period(room, 30)
    assert await _light(room) == Light.green
    refused = await room.convener.patch(room.url(), json={"reporting_period_days": 0})
    assert refused.status_code == 422
    assert await _light(room) == Light.green


async def test_each_commitment_has_its_own_clock(app: FastAPI, room: Room) -> None:
    await _period(room, 10)
    ids = []
    for key in ("a", "b"):
        made = await room[key].post(room.url("/commitments"), json=commitment_body())
        assert made.status_code == 201, made.text
        ids.append(made.json()["commitment"]["id"])
    await db_update(app, Commitment, ids[0], created_at=utcnow() - timedelta(days=25))
    await db_update(app, Commitment, ids[1], created_at=utcnow() - timedelta(days=12))
    lights = await _lights(room)
    assert lights["convener"] == lights["participant"] == lights["page"] == ["red", "yellow"]
    # Another participant may not report on a commitment that is not its own.
    refused = await room["b"].post(
        room.url(f"/commitments/{ids[0]}/progress"), json={"status": "done", "text": "x"}
    )
    assert refused.status_code == 403
    assert (await _lights(room))["convener"] == ["red", "yellow"]
    # The convener may report on any commitment.
    reported = await room.convener.post(
        room.url(f"/commitments/{ids[0]}/progress"), json={"status": "done", "text": "Done."}
    )
    assert reported.status_code == 201, reported.text
    assert (await _lights(room))["convener"] == ["green", "yellow"]
