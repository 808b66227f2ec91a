"""The role × action matrix, generated from the one permission table (`app.authz.PERMISSIONS`)
and the app's own route list, so that no route can skip authorization unnoticed.

Every route that names a convening in its path must declare its action with `Allowed(...)`;
an HTML page (`page_access`) or a websocket (close codes) that applies the table in its handler
instead is listed in `IN_HANDLER` with its action. Every other route must be in the small,
reasoned allow-list `EXEMPT`. Each declared route is then called by every kind of caller, and
the outcome must follow the table:

- the caller's role on the convening is allowed → authorization passes (not 401/403/404; the
  empty body may still be refused with 422, or the convening's state with 409);
- the caller has a role on the convening that is not allowed → 403 naming the refusal;
- the caller cannot see the convening (another convener, anonymous, a seat of another
  convening) → 404, byte for byte the same answer as for a convening that does not exist;
- a convening that does not exist → 404 for every caller, owners of other convenings included.
"""

import asyncio
import contextlib
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Container,
    Iterator,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Mount, WebSocketRoute, compile_path

from app.authz import (
    ACTION_WORDS,
    PERMISSIONS,
    Action,
    Actor,
    Allowed,
    _signed_in,
    reader_cookie_name,
)
from app.main import create_app
from tests.conftest import (
    BASE_URL,
    CONVENING,
    PASSWORD,
    _empty_tables,
    create_convener_account,
    make_settings,
)

UNKNOWN_CONVENING = 987_654_321
REFUSALS = (401, 403, 404)

# The table --------------------------------------------------------------------------------

# ARCHITECTURE.md, "Roles and permissions: one table" ("own organization" and "own commitment"
# are narrowed further by the services; the role itself is allowed).
CON, FAC, RAP, PAR, OBS, READER, PUBLIC = (
    Actor.convener,
    Actor.facilitator,
    Actor.rapporteur,
    Actor.participant,
    Actor.observer,
    Actor.reader,
    Actor.public,
)
DESIGNED_TABLE: dict[Action, set[Actor]] = {
    Action.prepare: {CON},
    Action.run_floor: {CON, FAC},
    Action.take_part: {PAR},
    Action.capture: {CON, FAC, RAP},
    Action.table_check: {CON, FAC},
    Action.record_commitment: {CON, FAC, RAP, PAR},
    Action.report_progress: {CON, PAR},
    Action.draft_report: {CON, RAP},
    Action.publish_report: {CON},
    Action.watch: {CON, FAC, RAP, PAR, OBS},
    Action.read_report: {CON, FAC, RAP, PAR, OBS, READER, PUBLIC},
    Action.answer_report: {READER},
    Action.manage_readers: {CON},
}


def test_every_action_has_an_entry_in_the_table() -> None:
    assert set(PERMISSIONS) == set(Action)
    for action, actors in PERMISSIONS.items():
        assert actors, f"{action} allows nobody"
        assert all(isinstance(actor, Actor) for actor in actors), action


def test_foundation_actions_match_the_design() -> None:
    assert PERMISSIONS[Action.prepare] == {Actor.convener}
    assert PERMISSIONS[Action.watch] == {CON, FAC, RAP, PAR, OBS}
    assert PERMISSIONS[Action.run_floor] == {Actor.convener, Actor.facilitator}


def test_the_whole_table_matches_the_design() -> None:
    assert {action: set(actors) for action, actors in PERMISSIONS.items()} == DESIGNED_TABLE


# The routes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One method of one route, with what it declares."""

    method: str
    path: str
    actions: frozenset[Action]  # every Allowed(...) in its dependency tree
    signed_in: bool  # depends on SignedIn
    has_body: bool
    in_schema: bool  # an API route; False for HTML pages

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _walk(
    routes: Sequence[BaseRoute],
    prefix: str = "",
    extra: tuple[object, ...] = (),
    in_schema: bool = True,
) -> Iterator[tuple[str, BaseRoute, tuple[object, ...], bool]]:
    """(full path, route, dependencies added by include_router, in schema) for every route.

    This FastAPI keeps included routers as `_IncludedRouter`s: their routes' paths carry the
    router's own prefix, and the include's prefix and dependencies sit on `include_context`."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = route.include_context  # type: ignore[attr-defined]
            yield from _walk(
                original.routes,
                prefix + context.prefix,
                extra + tuple(d.dependency for d in context.dependencies),
                in_schema and context.include_in_schema,
            )
        else:
            yield prefix + getattr(route, "path", "?"), route, extra, in_schema


def endpoints(application: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app serves; a websocket has the method 'WS', a mount '*'."""
    found: list[Endpoint] = []
    for path, route, extra, in_schema in _walk(application.routes):
        if isinstance(route, Mount):
            found.append(Endpoint("*", path, frozenset(), False, False, False))
            continue
        calls: list[object] = list(extra)
        dependant = getattr(route, "dependant", None)
        if dependant is not None:
            calls.extend(_calls(dependant))
        actions = frozenset(call.action for call in calls if isinstance(call, Allowed))
        has_body = isinstance(route, APIRoute) and route.body_field is not None
        in_schema = in_schema and bool(getattr(route, "include_in_schema", True))
        if isinstance(route, (APIWebSocketRoute, WebSocketRoute)):
            methods = ["WS"]
        else:
            methods = sorted(getattr(route, "methods", None) or {"*"})
        for method in methods:
            found.append(Endpoint(method, path, actions, _signed_in in calls, has_body, in_schema))
    return found


# Collected once, from an app that is never started, to parametrize over.
ENDPOINTS = endpoints(create_app(make_settings("sqlite:///:memory:")))
DECLARED = [e for e in ENDPOINTS if e.actions]


@dataclass(frozen=True)
class Exempt:
    why: str
    anonymous_status: int  # what a browser with no identity gets (with `{}` as any body)
    signed_in: bool = False  # must depend on SignedIn


SIGNED_IN = "a convener's own account, not a convening: 401 without sign-in"
DOCS = "API documentation, public"
PAGE = "HTML page that names no convening"
EXEMPT: dict[tuple[str, str], Exempt] = {
    ("POST", "/api/auth/sign-in"): Exempt("how a convener signs in: open to anyone", 422),
    ("POST", "/api/auth/sign-out"): Exempt("ends this browser's own session, if any", 204),
    ("GET", "/api/me"): Exempt(SIGNED_IN, 401, signed_in=True),
    ("GET", "/api/tokens"): Exempt(SIGNED_IN, 401, signed_in=True),
    ("POST", "/api/tokens"): Exempt(SIGNED_IN, 401, signed_in=True),
    ("DELETE", "/api/tokens/{token_id}"): Exempt(SIGNED_IN, 401, signed_in=True),
    ("GET", "/api/convenings"): Exempt("the caller's own convenings: 401 without", 401, True),
    ("POST", "/api/convenings"): Exempt("the caller becomes its owner: 401 without", 401, True),
    ("GET", "/api/group-presets"): Exempt("fixed list of stakeholder group presets, public", 200),
    ("GET", "/api/invitations/{token}"): Exempt("reached by the invitation token itself", 404),
    ("POST", "/api/invitations/redeem"): Exempt("reached by the invitation token itself", 422),
    ("GET", "/api/progress/{token}"): Exempt("reached by the commitment's progress link", 404),
    ("POST", "/api/progress/{token}"): Exempt("reached by the commitment's progress link", 422),
    ("GET", "/api/public/report/{token}"): Exempt("reached by the public link's token", 404),
    ("GET", "/api/public/report/{token}/versions/{number}/export.{fmt}"): Exempt(
        "reached by the public link's token", 404
    ),
    ("GET", "/healthz"): Exempt("liveness probe, public", 200),
    ("GET", "/readyz"): Exempt("readiness probe, public", 200),
    ("GET", "/metrics"): Exempt("Prometheus metrics: counts, no names (METRICS_TOKEN)", 200),
    ("GET", "/openapi.json"): Exempt(DOCS, 200),
    ("HEAD", "/openapi.json"): Exempt(DOCS, 200),
    ("GET", "/docs"): Exempt(DOCS, 200),
    ("HEAD", "/docs"): Exempt(DOCS, 200),
    ("GET", "/docs/oauth2-redirect"): Exempt(DOCS, 200),
    ("HEAD", "/docs/oauth2-redirect"): Exempt(DOCS, 200),
    ("GET", "/redoc"): Exempt(DOCS, 200),
    ("HEAD", "/redoc"): Exempt(DOCS, 200),
    ("*", "/static"): Exempt("frontend assets (CSS, JS), public", 404),
    ("GET", "/"): Exempt(f"{PAGE}: the front door, redirects", 303),
    ("GET", "/sign-in"): Exempt(f"{PAGE}: the sign-in form", 200),
    ("GET", "/language"): Exempt(f"{PAGE}: the language menu (a cookie), 422 without one", 422),
    ("GET", "/console"): Exempt(f"{PAGE}: the convener's own convenings; sign in first", 303),
    ("GET", "/join/{token}"): Exempt(f"{PAGE}: reached by the invitation token itself", 404),
    ("GET", "/progress/{token}"): Exempt(f"{PAGE}: reached by the commitment's progress link", 404),
    ("GET", "/read/{token}"): Exempt(f"{PAGE}: reached by a report-back reader's link", 404),
    ("GET", "/public/report/{token}"): Exempt(f"{PAGE}: reached by the public link's token", 404),
}
EXEMPT_PARAMS = {
    "token": "not-a-real-invitation-token-0000",
    "token_id": "1",
    "number": "1",
    "fmt": "pdf",
}


@dataclass(frozen=True)
class InHandler:
    """A route on a convening that applies the table in its handler rather than through an
    `Allowed` dependency: an HTML page (`page_access`) or a websocket (close codes)."""

    action: Action
    needs_account: bool = False  # a page that sends a browser not signed in to sign in first


IN_HANDLER: dict[tuple[str, str], InHandler] = {
    ("GET", "/console/convenings/{convening_id}"): InHandler(Action.prepare, needs_account=True),
    ("GET", "/convenings/{convening_id}/room"): InHandler(Action.watch),
    ("GET", "/convenings/{convening_id}/facilitate"): InHandler(Action.run_floor),
    ("GET", "/convenings/{convening_id}/display"): InHandler(Action.watch),
    ("GET", "/convenings/{convening_id}/desk"): InHandler(Action.capture),
    ("GET", "/convenings/{convening_id}/commitments"): InHandler(Action.watch),
    ("GET", "/convenings/{convening_id}/report"): InHandler(Action.read_report),
    ("GET", "/convenings/{convening_id}/report/edit"): InHandler(Action.draft_report),
    ("GET", "/convenings/{convening_id}/report/manage"): InHandler(Action.manage_readers),
    ("WS", "/api/convenings/{convening_id}/live"): InHandler(Action.watch),
}
PAGES = {key: rule for key, rule in IN_HANDLER.items() if key[0] != "WS"}
WEBSOCKETS = {key: rule for key, rule in IN_HANDLER.items() if key[0] == "WS"}

# The action each foundation route was designed with (ARCHITECTURE.md: prepare covers the
# convening's details, groups, seats, agenda and invitations). The matrix proves that a route
# enforces the action it declares; this proves that it declares the intended one.
DESIGNED_ACTIONS: dict[tuple[str, str], Action] = {
    ("GET", "/api/convenings/{convening_id}"): Action.watch,
    ("PATCH", "/api/convenings/{convening_id}"): Action.prepare,
    ("POST", "/api/convenings/{convening_id}/schedule"): Action.prepare,
    ("POST", "/api/convenings/{convening_id}/unschedule"): Action.prepare,
    ("POST", "/api/convenings/{convening_id}/open"): Action.run_floor,
    ("POST", "/api/convenings/{convening_id}/close"): Action.run_floor,
    ("POST", "/api/convenings/{convening_id}/mark-reported"): Action.publish_report,
    ("GET", "/api/convenings/{convening_id}/groups"): Action.watch,
    ("POST", "/api/convenings/{convening_id}/groups"): Action.prepare,
    ("PATCH", "/api/convenings/{convening_id}/groups/{group_id}"): Action.prepare,
    ("DELETE", "/api/convenings/{convening_id}/groups/{group_id}"): Action.prepare,
    ("GET", "/api/convenings/{convening_id}/seats"): Action.prepare,  # contact details
    ("POST", "/api/convenings/{convening_id}/seats"): Action.prepare,
    ("POST", "/api/convenings/{convening_id}/seats/import"): Action.prepare,
    ("PATCH", "/api/convenings/{convening_id}/seats/{seat_id}"): Action.prepare,
    ("DELETE", "/api/convenings/{convening_id}/seats/{seat_id}"): Action.prepare,
    ("GET", "/api/convenings/{convening_id}/inclusion"): Action.prepare,
    ("GET", "/api/convenings/{convening_id}/invitations"): Action.prepare,
    ("POST", "/api/convenings/{convening_id}/seats/{seat_id}/invitation"): Action.prepare,
    ("DELETE", "/api/convenings/{convening_id}/seats/{seat_id}/invitation"): Action.prepare,
    ("POST", "/api/convenings/{convening_id}/seats/{seat_id}/invitation/send"): Action.prepare,
    ("POST", "/api/convenings/{convening_id}/invitations/send"): Action.prepare,
    ("GET", "/api/convenings/{convening_id}/agenda"): Action.watch,
    ("POST", "/api/convenings/{convening_id}/agenda"): Action.prepare,
    ("PATCH", "/api/convenings/{convening_id}/agenda/{item_id}"): Action.prepare,
    ("DELETE", "/api/convenings/{convening_id}/agenda/{item_id}"): Action.prepare,
    ("PUT", "/api/convenings/{convening_id}/agenda/order"): Action.prepare,
}


def test_every_route_on_a_convening_declares_its_action() -> None:
    undeclared = [
        str(e)
        for e in ENDPOINTS
        if "{convening_id}" in e.path and not e.actions and e.key not in IN_HANDLER
    ]
    assert not undeclared, (
        "routes on a convening with no Allowed(Action.X) dependency (an HTML page or a "
        "websocket that applies the table in its handler goes in IN_HANDLER): "
        + ", ".join(undeclared)
    )


def test_every_other_route_is_in_the_reasoned_allow_list() -> None:
    unlisted = [
        str(e)
        for e in ENDPOINTS
        if not e.actions and e.key not in EXEMPT and e.key not in IN_HANDLER
    ]
    assert not unlisted, (
        "routes with neither an Allowed(...) action nor an EXEMPT entry: " + ", ".join(unlisted)
    )
    served = {e.key: e for e in ENDPOINTS}
    stale = [f"{m} {p}" for m, p in [*EXEMPT, *IN_HANDLER] if (m, p) not in served]
    assert not stale, f"EXEMPT or IN_HANDLER list routes the app does not serve: {stale}"
    assert not [str(e) for e in DECLARED if e.key in EXEMPT or e.key in IN_HANDLER]
    assert not [key for key in EXEMPT if "{convening_id}" in key[1]]
    json_api = [f"{m} {p}" for m, p in PAGES if served[(m, p)].in_schema]
    assert not json_api, f"only HTML pages and websockets may check in the handler: {json_api}"


def test_foundation_routes_declare_the_designed_action() -> None:
    declared = {e.key: e.actions for e in ENDPOINTS}
    missing = [f"{m} {p}" for m, p in DESIGNED_ACTIONS if (m, p) not in declared]
    assert not missing, f"DESIGNED_ACTIONS lists routes the app does not serve: {missing}"
    wrong = {
        f"{m} {p}": sorted(declared[(m, p)])
        for (m, p), action in DESIGNED_ACTIONS.items()
        if declared[(m, p)] != {action}
    }
    assert not wrong, f"routes declaring another action than designed: {wrong}"


# The callers ------------------------------------------------------------------------------

# One app serves the whole module (the matrix has hundreds of cases). Each route gets a fresh
# convening with its own seats, and each case fresh objects for the path, so no case can
# change what another case sees: an allowed DELETE only ever removes its own case's object.
MODULE = pytest.mark.asyncio(loop_scope="module")


@dataclass(frozen=True)
class Caller:
    name: str
    actor: Actor | None  # their role on the convening under test; None: cannot see it
    account: bool = False  # signed in as a convener account


CALLERS = [
    Caller("owner", Actor.convener, account=True),
    Caller("convener seat", Actor.convener),
    Caller("facilitator", Actor.facilitator),
    Caller("rapporteur", Actor.rapporteur),
    Caller("participant", Actor.participant),
    Caller("observer", Actor.observer),
    Caller("reader", Actor.reader),
    Caller("other convener", None, account=True),
    Caller("anonymous", None),
    Caller("seat of another convening", None),
]
SEATS = {
    "convener seat": CON,
    "facilitator": FAC,
    "rapporteur": RAP,
    "participant": PAR,
    "observer": OBS,
}


@dataclass
class World:
    """One route's convening, its owner, and a browser for each caller."""

    owner: httpx.AsyncClient
    convening_id: int
    browsers: dict[str, httpx.AsyncClient]

    async def _create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.owner.post(f"/api/convenings/{self.convening_id}{path}", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def group_id(self) -> int:
        return int((await self._create("/groups", {"name": f"Group {_serial()}"}))["id"])

    async def seat_id(self) -> int:
        """A seat with an email and a live (not yet redeemed) invitation."""
        n = _serial()
        body = {"role": "participant", "holder_name": f"Seat {n}", "email": f"seat{n}@example.org"}
        seat = await self._create("/seats", body)
        await self._create(f"/seats/{seat['id']}/invitation", {})
        return int(seat["id"])

    async def reader_id(self) -> int:
        n = _serial()
        body = {"name": f"Reader {n}", "email": f"reader{n}@example.org"}
        return int((await self._create("/report/readers", body))["id"])

    async def item_id(self) -> int:
        item = await self._create("/agenda", {"kind": "discussion", "title": "Dry-season quotas"})
        return int(item["id"])

    async def path_params(self, path: str) -> tuple[dict[str, Any], list[str]]:
        """Fresh objects of the convening for the path's parameters, so that a 404 can only
        come from authorization; and the names of parameters with no factory (given 1)."""
        factories: dict[str, Callable[[], Awaitable[int]]] = {
            "group_id": self.group_id,
            "seat_id": self.seat_id,
            "item_id": self.item_id,
            "reader_id": self.reader_id,
        }
        params: dict[str, Any] = {"convening_id": self.convening_id}
        placeholders: list[str] = []
        for name in compile_path(path)[2]:
            if name == "convening_id":
                continue
            if name in factories:
                params[name] = await factories[name]()
            else:  # add a factory above to make this route's allowed cases strict
                params[name] = 1
                placeholders.append(name)
        return params, placeholders


_counter = iter(range(1, 1_000_000))


def _serial() -> int:
    return next(_counter)


class Worlds:
    """The module's app, its long-lived callers, and one World per route, made on first use."""

    owner: httpx.AsyncClient
    shared: dict[str, httpx.AsyncClient]

    def __init__(self, application: FastAPI) -> None:
        self.app = application
        self.clients: list[httpx.AsyncClient] = []
        self.worlds: dict[tuple[str, str], World] = {}

    def browser(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        self.clients.append(client)
        return client

    async def signed_in(self, email: str) -> httpx.AsyncClient:
        await create_convener_account(self.app, email)
        browser = self.browser()
        signed = await browser.post(
            "/api/auth/sign-in", json={"email": email, "password": PASSWORD}
        )
        assert signed.status_code == 200, signed.text
        return browser

    async def convening(self, browser: httpx.AsyncClient) -> int:
        response = await browser.post("/api/convenings", json=CONVENING)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    async def seat(self, convening_id: int, role: Actor) -> httpx.AsyncClient:
        """A browser bound to a new seat of `role` through its redeemed invitation."""
        body = {"role": role.value, "holder_name": f"Seat Holder {_serial()}"}
        seat = await self.owner.post(f"/api/convenings/{convening_id}/seats", json=body)
        assert seat.status_code == 201, seat.text
        issued = await self.owner.post(
            f"/api/convenings/{convening_id}/seats/{seat.json()['id']}/invitation"
        )
        assert issued.status_code == 201, issued.text
        browser = self.browser()
        redeemed = await browser.post(
            "/api/invitations/redeem",
            json={"token": issued.json()["link"].rsplit("/", 1)[1], "accept_ground_rules": True},
        )
        assert redeemed.status_code == 200, redeemed.text
        return browser

    async def reader(self, convening_id: int) -> httpx.AsyncClient:
        """A browser holding a report-back reader's link (the reader page's cookie)."""
        n = _serial()
        body = {"name": f"Reader {n}", "email": f"reader{n}@example.org"}
        added = await self.owner.post(f"/api/convenings/{convening_id}/report/readers", json=body)
        assert added.status_code == 201, added.text
        browser = self.browser()
        browser.cookies.set(
            reader_cookie_name(convening_id), added.json()["link"].rsplit("/", 1)[1]
        )
        return browser

    async def start(self) -> None:
        self.owner = await self.signed_in("owner@example.org")
        other = await self.signed_in("other@example.org")
        await self.convening(other)  # the other convener owns convenings too, just not this one
        elsewhere = await self.seat(await self.convening(self.owner), Actor.facilitator)
        self.shared = {
            "owner": self.owner,
            "other convener": other,
            "anonymous": self.browser(),
            "seat of another convening": elsewhere,
        }

    async def world(self, endpoint: Endpoint) -> World:
        if endpoint.key not in self.worlds:
            convening_id = await self.convening(self.owner)
            browsers = dict(self.shared)
            for name, role in SEATS.items():
                browsers[name] = await self.seat(convening_id, role)
            browsers["reader"] = await self.reader(convening_id)
            self.worlds[endpoint.key] = World(self.owner, convening_id, browsers)
        return self.worlds[endpoint.key]

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def worlds(database_url: str) -> AsyncIterator[Worlds]:
    application = create_app(make_settings(database_url))
    made = Worlds(application)
    try:
        async with LifespanManager(application):
            try:
                await made.start()
                yield made
            finally:
                await made.close()
    finally:
        _empty_tables(database_url)


def allowed(actor: Actor, actions: frozenset[Action]) -> bool:
    """Whether the table lets `actor` through every action the route declares."""
    return all(actor in PERMISSIONS[action] for action in actions)


def cases(keys: Container[tuple[str, str]]) -> list[Any]:
    return [
        pytest.param(endpoint, caller, id=f"{endpoint} as {caller.name}")
        for endpoint in ENDPOINTS
        if endpoint.key in keys
        for caller in CALLERS
    ]


@MODULE
async def test_the_matrix_covers_the_routes_of_the_running_app(worlds: Worlds) -> None:
    assert endpoints(worlds.app) == ENDPOINTS
    assert len(DECLARED) >= len(DESIGNED_ACTIONS)  # a route walk that finds nothing fails


def _exempt_cases() -> list[Any]:
    return [
        pytest.param(e, EXEMPT[e.key], id=str(e))
        for e in ENDPOINTS
        if e.key in EXEMPT and e.method not in ("*", "WS")
    ]


@MODULE
@pytest.mark.parametrize(("endpoint", "exempt"), _exempt_cases())
async def test_exempt_route_as_anonymous(
    worlds: Worlds, endpoint: Endpoint, exempt: Exempt
) -> None:
    assert endpoint.signed_in == exempt.signed_in, f"{endpoint}: {exempt.why}"
    path = endpoint.path.format(**EXEMPT_PARAMS)
    body: dict[str, Any] | None = {} if endpoint.has_body else None  # `{}`, or no body
    response = await worlds.browser().request(endpoint.method, path, json=body)
    assert response.status_code == exempt.anonymous_status, response.text[:500]


@MODULE
async def test_static_files_are_public(worlds: Worlds) -> None:
    # Whatever is there (or not), the mount answers without asking who is calling.
    assert (await worlds.browser().get("/static/no-such-file.css")).status_code == 404


# The API matrix ---------------------------------------------------------------------------


@MODULE
@pytest.mark.parametrize(("endpoint", "caller"), cases({e.key for e in DECLARED}))
async def test_matrix(worlds: Worlds, endpoint: Endpoint, caller: Caller) -> None:
    world = await worlds.world(endpoint)
    params, placeholders = await world.path_params(endpoint.path)
    browser = world.browsers[caller.name]
    body: dict[str, Any] | None = {} if endpoint.has_body else None  # `{}`, or no body

    unknown = await browser.request(
        endpoint.method,
        endpoint.path.format(**{**params, "convening_id": UNKNOWN_CONVENING}),
        json=body,
    )
    assert unknown.status_code == 404, f"unknown convening: {unknown.status_code} {unknown.text}"
    assert unknown.json() != {"detail": "Not Found"}, "the path matched no route at all"

    response = await browser.request(endpoint.method, endpoint.path.format(**params), json=body)
    status = response.status_code
    if caller.actor is None:
        assert status == 404, f"invisible convening: {status} {response.text}"
        assert response.content == unknown.content, "a 404 must not tell an invisible convening"
    elif allowed(caller.actor, endpoint.actions):
        refused = (401, 403) if placeholders else REFUSALS
        assert status not in refused, f"allowed, but refused: {status} {response.text}"
        assert response.content != unknown.content, f"allowed, but refused: {response.text}"
        assert status < 500, response.text
    else:
        assert status == 403, f"not allowed, but got: {status} {response.text}"
        detail = response.json()["detail"]
        assert isinstance(detail, str) and caller.actor.value in detail, detail
        for action in endpoint.actions:
            if caller.actor not in PERMISSIONS[action]:
                assert ACTION_WORDS[action] in detail, detail


# The page matrix --------------------------------------------------------------------------


def _normalized(response: httpx.Response, path: str) -> tuple[int, str, str]:
    """Status, Location and body, with the page's own path taken out."""
    return (
        response.status_code,
        response.headers.get("location", "").replace(path, "{path}"),
        response.text.replace(path, "{path}"),
    )


@MODULE
@pytest.mark.parametrize(("endpoint", "caller"), cases(PAGES))
async def test_page_matrix(worlds: Worlds, endpoint: Endpoint, caller: Caller) -> None:
    page = PAGES[endpoint.key]
    world = await worlds.world(endpoint)
    params, _ = await world.path_params(endpoint.path)
    browser = world.browsers[caller.name]
    unknown_path = endpoint.path.format(**{**params, "convening_id": UNKNOWN_CONVENING})
    path = endpoint.path.format(**params)
    unknown = await browser.request(endpoint.method, unknown_path)
    response = await browser.request(endpoint.method, path)

    if page.needs_account and not caller.account:
        for answer in (unknown, response):
            assert answer.status_code == 303, answer.text[:500]
            assert answer.headers["location"].startswith("/sign-in?next="), answer.headers
        return
    assert unknown.status_code == 404, unknown.text[:500]
    if caller.actor is None:
        assert response.status_code == 404, response.text[:500]
        assert _normalized(response, path) == _normalized(unknown, unknown_path)
    elif caller.actor in PERMISSIONS[page.action]:
        assert response.status_code == 200, response.text[:500]
    else:
        assert response.status_code == 403, response.text[:500]
        assert caller.actor.value in response.text


# The websocket matrix ---------------------------------------------------------------------

CLOSE_NOT_FOUND, CLOSE_FORBIDDEN = 4404, 4403


async def websocket_opening(
    application: FastAPI, path: str, browser: httpx.AsyncClient
) -> MutableMapping[str, Any]:
    """Open a websocket on the app with the browser's cookies; its first answer (accept or
    close), after which the connection is dropped."""
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
    headers = [(b"host", b"testserver")] + ([(b"cookie", cookies.encode())] if cookies else [])
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "http_version": "1.1",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
    }
    connected = False
    sent: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        await asyncio.Event().wait()  # the client stays, silent, until it is dropped
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        await sent.put(message)

    task = asyncio.create_task(application(scope, receive, send))
    try:
        first = await asyncio.wait_for(sent.get(), 10)
        if first["type"] == "websocket.accept":
            await asyncio.wait_for(sent.get(), 10)  # the snapshot: the handler is settled
        return first
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@MODULE
@pytest.mark.parametrize(("endpoint", "caller"), cases(WEBSOCKETS))
async def test_websocket_matrix(worlds: Worlds, endpoint: Endpoint, caller: Caller) -> None:
    action = WEBSOCKETS[endpoint.key].action
    world = await worlds.world(endpoint)
    params, _ = await world.path_params(endpoint.path)
    browser = world.browsers[caller.name]
    unknown_path = endpoint.path.format(**{**params, "convening_id": UNKNOWN_CONVENING})
    unknown = await websocket_opening(worlds.app, unknown_path, browser)
    assert unknown == {"type": "websocket.close", "code": CLOSE_NOT_FOUND, "reason": ""}

    opening = await websocket_opening(worlds.app, endpoint.path.format(**params), browser)
    if caller.actor is None:
        assert opening == unknown, "a websocket must not tell an invisible convening"
    elif caller.actor in PERMISSIONS[action]:
        assert opening["type"] == "websocket.accept", opening
    else:
        assert opening == {"type": "websocket.close", "code": CLOSE_FORBIDDEN, "reason": ""}
