"""Dissent is append-only: for every role and EVERY route the app serves, with every HTTP
method and a body that tries to change it, the dissent's row in the database stays byte for
byte the same and still there. No route on a dissent accepts PUT, PATCH or DELETE; its
author's withdrawal is a new row beside the unchanged original.

The routes are enumerated from the app itself (FastAPI nests `_IncludedRouter`s in
`app.routes`; their routes sit on `route.original_router.routes`), so a route added later is
covered without touching this file.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Mount, compile_path

from tests.commitments.record_room import (
    Room,
    commitment_body,
    db_rows,
    make_room,
    table_check,
)
from tests.conftest import Browser, SeatBrowser

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
EDITS = ("PUT", "PATCH", "DELETE")
# Bodies that try to change the dissent: the brief's, and one a withdrawal route accepts.
BODIES: tuple[dict[str, Any], ...] = (
    {"reason": "changed", "withdrawn": True},
    {"reason": "changed"},
)


@dataclass(frozen=True)
class Route:
    path: str
    methods: frozenset[str]  # what the app serves there ("WS" for a websocket)


def _walk(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from _walk(original.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
        else:
            yield prefix + getattr(route, "path", ""), route


def app_routes(application: FastAPI) -> list[Route]:
    """Every path the app serves, with the methods served there."""
    found: dict[str, set[str]] = {}
    for path, route in _walk(application.routes):
        if isinstance(route, Mount):
            methods = {"*"}
        elif getattr(route, "methods", None):
            methods = set(route.methods)  # type: ignore[attr-defined]
        else:
            methods = {"WS"}
        found.setdefault(path, set()).update(methods)
    return [Route(path, frozenset(methods)) for path, methods in found.items()]


def test_the_route_walk_finds_the_dissent_routes() -> None:
    from app.main import create_app
    from tests.conftest import make_settings

    paths = {r.path for r in app_routes(create_app(make_settings("sqlite:///:memory:")))}
    assert "/api/convenings/{convening_id}/dissents" in paths
    assert "/api/convenings/{convening_id}/dissents/{dissent_id}/withdrawal" in paths
    assert "/api/convenings/{convening_id}/record" in paths
    assert len(paths) > 50


async def test_no_route_on_a_dissent_edits_or_deletes(app: FastAPI) -> None:
    dissent_routes = [r for r in app_routes(app) if "dissent" in r.path.lower()]
    assert dissent_routes
    for route in dissent_routes:
        assert not route.methods & set(EDITS), route
        assert route.methods <= {"GET", "HEAD", "POST"}, route


# The world each role's sweep runs in -----------------------------------------------------


@dataclass
class World:
    room: Room
    dissent_id: int
    params: dict[str, Any]  # path parameter → the value substituted
    tokens: dict[str, str]  # path prefix → a real token for that kind of link


async def make_world(convener: httpx.AsyncClient, seated: SeatBrowser) -> World:
    """A live room whose record holds one of everything, and a dissent by participant b."""
    room = await make_room(convener, seated, "chatham_house")
    item_id = room.item["id"]
    contribution = await room["a"].post(
        room.url("/contributions"),
        json={"item_id": item_id, "kind": "proposal", "text": "Meter the big pumps."},
    )
    assert contribution.status_code == 201, contribution.text
    closed_check = await table_check(room, "Meter every pump.")
    await room["b"].put(
        room.url(f"/checks/{closed_check}/answer"),
        json={"answer": "disagree", "reason": "Too costly."},
    )
    outcome = await room["fac"].post(room.url(f"/checks/{closed_check}/close"), json={})
    assert outcome.status_code == 200, outcome.text
    open_check = await table_check(room, "Meter the big pumps only.")
    dissent = await room["b"].post(
        room.url("/dissents"),
        json={
            "target": "outcome",
            "target_id": outcome.json()["id"],
            "reason": "The cost falls on small farms.",
        },
    )
    assert dissent.status_code == 201, dissent.text
    parked = await room["rap"].post(
        room.url("/parking"),
        json={"text": "Who pays for meters?", "item_id": item_id, "seat_id": room.seat_id("b")},
    )
    assert parked.status_code == 201, parked.text
    commitment = await room["a"].post(room.url("/commitments"), json=commitment_body())
    assert commitment.status_code == 201, commitment.text
    late = await convener.post(
        room.url("/seats"), json={"role": "participant", "holder_name": "Late Comer"}
    )
    assert late.status_code == 201, late.text
    invitation = await convener.post(room.url(f"/seats/{late.json()['id']}/invitation"))
    assert invitation.status_code == 201, invitation.text
    params = {
        "convening_id": room.cid,
        "dissent_id": dissent.json()["id"],
        "seat_id": room.seat_id("b"),  # the author's seat: the most tempting one to remove
        "group_id": room.groups["civil_society"]["id"],
        "item_id": item_id,
        "check_id": open_check,
        "outcome_id": outcome.json()["id"],
        "contribution_id": contribution.json()["id"],
        "parking_id": parked.json()["id"],
        "commitment_id": commitment.json()["commitment"]["id"],
        "token_id": 1,
    }
    tokens = {
        "/api/progress/": commitment.json()["progress_link"].rsplit("/", 1)[1],
        "": invitation.json()["link"].rsplit("/", 1)[1],
    }
    return World(room, dissent.json()["id"], params, tokens)


def _url(world: World, path: str) -> str:
    values: dict[str, Any] = {}
    for name in compile_path(path)[2]:
        if name == "token":
            values[name] = next(t for p, t in world.tokens.items() if path.startswith(p))
        else:
            values[name] = world.params.get(name, 1)  # an unknown parameter: a plausible id
    return path.format(**values) if values else path


# Routes that change who may act, or end the live session: swept last, so that every other
# route is tried by the role while the room is still live and the role still bound.
LAST = (
    "/api/convenings/{convening_id}/seats/{seat_id}/invitation",
    "/api/convenings/{convening_id}/close",
    "/api/convenings/{convening_id}/mark-reported",
    "/api/auth/sign-out",
)


async def _dissent_rows(app: FastAPI, dissent_id: int) -> tuple[Any, Any]:
    one = await db_rows(app, "SELECT * FROM dissent WHERE id = :id", id=dissent_id)
    everything = await db_rows(app, "SELECT * FROM dissent ORDER BY id")
    return repr(one), repr(everything)


ROLES = (
    "convener",
    "facilitator",
    "rapporteur",
    "participant author",
    "another participant",
    "observer",
    "stranger",
)
ROLE_KEYS = {
    "facilitator": "fac",
    "rapporteur": "rap",
    "participant author": "b",
    "another participant": "a",
    "observer": "obs",
}


@pytest.mark.parametrize("role", ROLES)
async def test_no_role_changes_a_dissent_through_any_route(
    app: FastAPI,
    convener: httpx.AsyncClient,
    seated: SeatBrowser,
    new_browser: Browser,
    role: str,
) -> None:
    world = await make_world(convener, seated)
    room = world.room
    if role == "convener":
        browser = convener
    elif role == "stranger":
        browser = await new_browser()
    else:
        browser = room[ROLE_KEYS[role]]
    before = await _dissent_rows(app, world.dissent_id)
    assert "The cost falls on small farms." in before[0]
    routes = sorted(
        app_routes(app),
        key=lambda r: (r.path in LAST, LAST.index(r.path) if r.path in LAST else 0, r.path),
    )
    accepted: list[str] = []
    for route in routes:
        url = _url(world, route.path)
        for method in METHODS:
            bodies: Sequence[dict[str, Any] | None] = (
                (None,) if method in ("GET", "HEAD", "OPTIONS") else BODIES
            )
            for body in bodies:
                response = await browser.request(method, url, json=body)
                assert response.status_code < 500, (method, url, body, response.text)
                if "dissent" in route.path.lower() and method in EDITS:
                    assert response.status_code == 405, (method, url, response.status_code)
                if response.status_code < 300 and method not in ("GET", "HEAD", "OPTIONS"):
                    accepted.append(f"{method} {route.path}")
        after = await _dissent_rows(app, world.dissent_id)
        assert after == before, f"{role}: the dissent changed after {route.path}"
    # The sweep did reach the app's write paths (not only 404s and 405s) for the roles that
    # can write: the author's withdrawal was recorded beside the untouched dissent.
    withdrawals = await db_rows(
        app,
        "SELECT dissent_id, reason FROM dissent_withdrawal WHERE dissent_id = :id",
        id=world.dissent_id,
    )
    withdrawal = "POST /api/convenings/{convening_id}/dissents/{dissent_id}/withdrawal"
    if role == "participant author":
        assert withdrawal in accepted
        assert withdrawals == [(world.dissent_id, "changed")]
    else:
        assert withdrawal not in accepted
        assert withdrawals == []
    if role == "convener":
        assert "POST /api/convenings/{convening_id}/close" in accepted
    assert await _dissent_rows(app, world.dissent_id) == before


async def test_withdrawal_by_its_author_is_a_new_row_beside_the_original(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    world = await make_world(convener, seated)
    room, dissent_id = world.room, world.dissent_id
    before = await _dissent_rows(app, dissent_id)
    others = await room["a"].post(
        room.url(f"/dissents/{dissent_id}/withdrawal"), json={"reason": "Not mine."}
    )
    assert others.status_code == 403
    for key in ("fac", "rap", "obs"):
        refused = await room[key].post(room.url(f"/dissents/{dissent_id}/withdrawal"), json={})
        assert refused.status_code == 403, key
    withdrawn = await room["b"].post(
        room.url(f"/dissents/{dissent_id}/withdrawal"), json={"reason": "A subsidy was agreed."}
    )
    assert withdrawn.status_code == 201, withdrawn.text
    again = await room["b"].post(room.url(f"/dissents/{dissent_id}/withdrawal"), json={})
    assert again.status_code == 409
    assert await _dissent_rows(app, dissent_id) == before
    assert await db_rows(app, "SELECT dissent_id, reason FROM dissent_withdrawal ORDER BY id") == [
        (dissent_id, "A subsidy was agreed.")
    ]
    record = (await room["fac"].get(room.url("/record"))).json()
    [kept] = record["dissents"]
    assert kept["id"] == dissent_id
    assert kept["reason"] == "The cost falls on small farms."
    assert kept["by"]["name"] == "Ben Okoro"
    assert kept["withdrawn"]["reason"] == "A subsidy was agreed."
    # The withdrawal reached the room as an event, beside the dissent's own.
    events = (await room["fac"].get(room.url("/events"), params={"since": 0, "wait": 0})).json()
    kinds = [e["kind"] for e in events["events"]]
    assert kinds.count("record.dissent_logged") == 1
    assert kinds.count("record.dissent_withdrawn") == 1


async def test_withdrawals_of_several_dissents_in_any_order(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    """Each dissent is withdrawn on its own, whatever order its author withdraws them in."""
    room = await make_room(convener, seated, "attributed", people=("fac", "rap", "a", "b"))
    ids = []
    for n in range(3):
        made = await room["b"].post(
            room.url("/dissents"),
            json={"target": "item", "target_id": room.item["id"], "reason": f"Reason {n}"},
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    before = await db_rows(app, "SELECT * FROM dissent ORDER BY id")
    for dissent_id in (ids[2], ids[0], ids[1]):
        withdrawn = await room["b"].post(room.url(f"/dissents/{dissent_id}/withdrawal"), json={})
        assert withdrawn.status_code == 201, (dissent_id, withdrawn.text)
    assert await db_rows(app, "SELECT * FROM dissent ORDER BY id") == before
    assert sorted(
        r[0] for r in await db_rows(app, "SELECT dissent_id FROM dissent_withdrawal")
    ) == sorted(ids)
