"""A published report-back version never changes: for every role and EVERY route the app
serves, with every HTTP method and bodies that try to change it, the version's row stays
byte for byte the same. No route under /report/versions accepts PUT, PATCH or DELETE.

Reuses the route walk and the world of tests/record/test_dissent_append_only.py, so a route
added later is swept without touching this file.
"""

from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.commitments.record_room import db_rows
from tests.conftest import Browser, SeatBrowser
from tests.record.test_dissent_append_only import (
    BODIES,
    EDITS,
    LAST,
    METHODS,
    ROLE_KEYS,
    ROLES,
    _url,
    app_routes,
    make_world,
)

REPORT_BODIES: tuple[dict[str, Any], ...] = (
    *BODIES,
    {},  # publishing takes its options as a body (none needed)
    {"markdown": "# Changed"},
    {"markdown": "# Changed", "number": 1},
)


async def _versions(app: FastAPI) -> list[tuple[Any, ...]]:
    return await db_rows(app, "SELECT * FROM report_version ORDER BY id")


async def test_no_route_on_a_version_edits_or_deletes(app: FastAPI) -> None:
    routes = [r for r in app_routes(app) if "/report/versions" in r.path]
    assert len(routes) >= 3
    for route in routes:
        assert route.methods <= {"GET", "HEAD", "POST"}, route


@pytest.mark.parametrize("role", ROLES)
async def test_no_role_changes_a_published_version_through_any_route(
    app: FastAPI,
    convener: httpx.AsyncClient,
    seated: SeatBrowser,
    new_browser: Browser,
    role: str,
) -> None:
    world = await make_world(convener, seated)
    room = world.room
    generated = await room["rap"].post(room.url("/report/draft/generate"))
    assert generated.status_code == 200, generated.text
    published = await convener.post(room.url("/report/versions"))
    assert published.status_code == 201, published.text
    world.params.update({"number": 1, "fmt": "md"})
    if role == "convener":
        browser = convener
    elif role == "stranger":
        browser = await new_browser()
    else:
        browser = room[ROLE_KEYS[role]]
    before = await _versions(app)
    assert len(before) == 1
    routes = sorted(
        app_routes(app),
        key=lambda r: (r.path in LAST, LAST.index(r.path) if r.path in LAST else 0, r.path),
    )
    accepted: list[str] = []
    for route in routes:
        url = _url(world, route.path)
        for method in METHODS:
            bodies: Sequence[dict[str, Any] | None] = (
                (None,) if method in ("GET", "HEAD", "OPTIONS") else REPORT_BODIES
            )
            for body in bodies:
                response = await browser.request(method, url, json=body)
                assert response.status_code < 500, (method, url, body, response.text)
                if "/report/versions" in route.path and method in EDITS:
                    assert response.status_code == 405, (method, url, response.status_code)
                if response.status_code < 300 and method not in ("GET", "HEAD", "OPTIONS"):
                    accepted.append(f"{method} {route.path}")
        after = await _versions(app)
        # Publishing adds a version beside the others; none already published changes.
        assert after[: len(before)] == before, f"{role}: a version changed after {route.path}"
    if role in ("convener", "rapporteur"):
        assert "PUT /api/convenings/{convening_id}/report/draft" in accepted
    if role == "convener":
        assert "POST /api/convenings/{convening_id}/report/versions" in accepted
    else:
        assert len(await _versions(app)) == 1
    # (The sweep ends by signing out, so the row is read from the database.)
    markdown = await db_rows(app, "SELECT markdown FROM report_version WHERE number = 1")
    assert markdown == [(published.json()["markdown"],)]


async def test_the_orm_refuses_to_change_or_delete_a_version(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    from sqlmodel import select

    from app.reports.models import ImmutableVersion, ReportVersion

    world = await make_world(convener, seated)
    room = world.room
    await room["rap"].post(room.url("/report/draft/generate"))
    assert (await convener.post(room.url("/report/versions"))).status_code == 201
    before = await _versions(app)
    for change in ("update", "delete"):
        async with app.state.sessionmaker() as session:
            version = (await session.exec(select(ReportVersion))).one()
            if change == "update":
                version.markdown = "rewritten"
                session.add(version)
            else:
                await session.delete(version)
            with pytest.raises(ImmutableVersion):
                await session.flush()
            await session.rollback()
    assert await _versions(app) == before
