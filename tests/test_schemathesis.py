"""Hostile input over the whole JSON API: schemathesis generates requests from the OpenAPI
schema (valid ones, and invalid ones: wrong types, out-of-range numbers, NUL and control
characters, huge strings, unknown fields, malformed bodies, wrong methods) and sends them to
the app in-process, against a world of real convenings (draft, live, closed with a published
report-back) so that ids in paths reach real objects. Three callers: a participant's browser
(seat cookies), a report-back reader's browser (on the report-back routes), and the convener
(API token).

Every answer must be declared (status, media type, body schema; no 5xx), a 405 must list the
path's methods, and a refused request (4xx) must change nothing: the rows of every table and
the convenings' event numbers are compared before and after.

The run is bounded (CONVENE_FUZZ_EXAMPLES generated examples per operation, besides
schemathesis' boundary-value "coverage" cases; fixed seed CONVENE_FUZZ_SEED) to about a
minute and a half of CPU on two cores; raise the examples or change the seed locally to search
further. It runs on SQLite and, with CONVENE_TEST_DB=postgres, on PostgreSQL, where NUL
characters and integers beyond 32 bits are classic sources of 500s.
"""

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.python import asgi
from sqlalchemy import create_engine, text

from app.config import Settings
from app.main import create_app
from app.models import metadata
from tests.conftest import CONVENING, PASSWORD, _empty_tables, make_settings

EXAMPLES = int(os.environ.get("CONVENE_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("CONVENE_FUZZ_SEED", "20261125"))
CONVENER_EMAIL = "fuzz.convener@example.org"


# The world ---------------------------------------------------------------------------------


@dataclass
class Pools:
    """Real ids in one convening, by path parameter name."""

    ids: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        self.ids.setdefault(name, []).append(value)


@dataclass
class World:
    app: Any
    settings: Settings
    token: str  # the convener's API token
    participant_cookies: dict[str, str]  # one browser's seat cookies (live and closed)
    reader_cookies: dict[str, str]  # a report-back reader's browser (closed)
    live: int  # a live convening: the floor, the record, commitments
    draft: int  # a draft convening: groups, seats, agenda
    closed: int  # a closed convening with a published report-back, readers, a public link
    spare: int  # a draft convening that status moves and deletions may use up
    pools: dict[int, Pools] = field(default_factory=dict)
    tokens: dict[str, list[str]] = field(default_factory=dict)  # path {token} by route prefix
    spare_token_ids: list[int] = field(default_factory=list)
    engine: Any = None  # a synchronous engine on the same database, to look behind the API
    fingerprint_sql: Any = None


class Api:
    """A requests session on the app in-process, failing loudly on unexpected answers."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self.client = asgi.get_client(app)
        self.client.__enter__()
        if headers:
            self.client.headers.update(headers)

    def __call__(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response: requests.Response = self.client.request(method, path, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json() if response.content else None


async def _create_convener(settings: Settings) -> None:
    from app.accounts.service import create_convener
    from app.db import commit, make_engine, make_sessionmaker

    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            await create_convener(
                session, email=CONVENER_EMAIL, name="Fuzz Convener", password=PASSWORD
            )
            await commit(session)
    finally:
        await engine.dispose()


def _token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def build_world(app: Any, settings: Settings) -> World:
    """Convenings in every state, with one of each object, made through the API."""
    asyncio.run(_create_convener(settings))
    anonymous = Api(app)
    anonymous(
        "POST", "/api/auth/sign-in", json={"email": CONVENER_EMAIL, "password": PASSWORD}
    )
    token = anonymous("POST", "/api/tokens", 201, json={"name": "fuzz"})["token"]
    spare_tokens = [
        anonymous("POST", "/api/tokens", 201, json={"name": f"spare {n}"})["id"] for n in range(2)
    ]
    api = Api(app, {"Authorization": f"Bearer {token}"})
    pools: dict[int, Pools] = {}
    tokens: dict[str, list[str]] = {"invitations": [], "progress": [], "public": []}

    def convening(title: str, **fields: Any) -> tuple[int, Pools]:
        cid = api("POST", "/api/convenings", 201, json={**CONVENING, "title": title, **fields})[
            "id"
        ]
        pools[cid] = pool = Pools()
        for preset in ("government", "civil_society"):
            group = api("POST", f"/api/convenings/{cid}/groups", 201, json={"preset": preset})
            pool.add("group_id", group["id"])
        for title_ in ("Metering", "Allocation"):
            item = api(
                "POST",
                f"/api/convenings/{cid}/agenda",
                201,
                json={"kind": "decision", "title": title_, "questions": ["Who pays?"]},
            )
            pool.add("item_id", item["id"])
        return cid, pool

    def seat(cid: int, role: str, n: int, group: int | None = None) -> tuple[int, str]:
        body = {
            "role": role,
            "holder_name": f"Holder {cid}-{n}",
            "email": f"holder.{cid}.{n}@example.org",
            "group_id": group,
        }
        row = api("POST", f"/api/convenings/{cid}/seats", 201, json=body)
        pools[cid].add("seat_id", row["id"])
        link = api("POST", f"/api/convenings/{cid}/seats/{row['id']}/invitation", 201)["link"]
        return row["id"], _token_of(link)

    # A draft convening, and a spare one for status moves and deletions.
    draft, draft_pool = convening("Draft roundtable")
    for n, role in enumerate(("facilitator", "participant", "observer")):
        _, invitation = seat(draft, role, n, draft_pool.ids["group_id"][0])
        tokens["invitations"].append(invitation)
    spare, spare_pool = convening("Spare roundtable")
    for n, role in enumerate(("facilitator", "participant", "participant")):
        seat(spare, role, n, spare_pool.ids["group_id"][n % 2])

    # A live convening with a record, and a closed one with a published report-back.
    participant = Api(app)  # one browser, seated in both rooms

    def room(title: str) -> tuple[int, Pools]:
        cid, pool = convening(title)
        gov, civil = pool.ids["group_id"]
        seat(cid, "facilitator", 0)
        seat(cid, "rapporteur", 1)
        p1, invitation = seat(cid, "participant", 2, gov)
        p2, _ = seat(cid, "participant", 3, civil)
        participant(
            "POST",
            "/api/invitations/redeem",
            json={"token": invitation, "accept_ground_rules": True},
        )
        api("POST", f"/api/convenings/{cid}/schedule")
        api("POST", f"/api/convenings/{cid}/open")
        item = pool.ids["item_id"][0]
        api("POST", f"/api/convenings/{cid}/agenda/{item}/start")
        participant("POST", f"/api/convenings/{cid}/floor/hand", 201, json={})
        made = participant(
            "POST",
            f"/api/convenings/{cid}/contributions",
            201,
            json={"item_id": item, "kind": "proposal", "text": "Meter the big pumps."},
        )
        check = api(
            "POST",
            f"/api/convenings/{cid}/checks",
            201,
            json={"item_id": item, "proposal": "Meter pumps.", "contribution_id": made["id"]},
        )["id"]
        pool.add("check_id", check)
        participant(
            "PUT",
            f"/api/convenings/{cid}/checks/{check}/answer",
            json={"answer": "agree_with_reservations", "reason": "Subsidize small farms."},
        )
        outcome = api("POST", f"/api/convenings/{cid}/checks/{check}/close", json={})["id"]
        open_check = api(
            "POST", f"/api/convenings/{cid}/checks", 201, json={"item_id": item, "proposal": "?"}
        )["id"]
        pool.add("check_id", open_check)
        for target, target_id in (("outcome", outcome), ("item", item)):
            dissent = participant(
                "POST",
                f"/api/convenings/{cid}/dissents",
                201,
                json={"target": target, "target_id": target_id, "reason": "Too costly."},
            )
            pool.add("dissent_id", dissent["id"])
        parked = api(
            "POST",
            f"/api/convenings/{cid}/parking",
            201,
            json={"text": "Who pays?", "item_id": item, "seat_id": p2},
        )
        pool.add("parking_id", parked["id"])
        commitment = participant(
            "POST",
            f"/api/convenings/{cid}/commitments",
            201,
            json={
                "what": "Publish permits",
                "owner": "Permits unit",
                "due_date": "2031-01-01",
                "indicator": "Share online",
            },
        )
        pool.add("commitment_id", commitment["commitment"]["id"])
        for row in api("GET", f"/api/convenings/{cid}/commitments"):
            if row["progress_link"]:
                tokens["progress"].append(_token_of(row["progress_link"]))
        api(
            "POST",
            f"/api/convenings/{cid}/commitments/{pool.ids['commitment_id'][0]}/progress",
            201,
            json={"status": "on_track", "text": "Half are online."},
        )
        return cid, pool

    live, _ = room("Live roundtable")
    closed, closed_pool = room("Closed roundtable")
    api("POST", f"/api/convenings/{closed}/close")
    api("POST", f"/api/convenings/{closed}/report/draft/generate")
    api("POST", f"/api/convenings/{closed}/report/versions", 201)
    closed_pool.add("number", 1)
    reader = api(
        "POST",
        f"/api/convenings/{closed}/report/readers",
        201,
        json={"name": "A Reader", "email": "reader@example.org"},
    )
    closed_pool.add("reader_id", reader["id"])
    reading = Api(app)
    reading.client.get(f"/read/{_token_of(reader['link'])}", allow_redirects=False)
    reader_cookie = f"convene_reader_{closed}"
    reader_cookies = {reader_cookie: reading.client.cookies.get(reader_cookie) or ""}
    assert all(reader_cookies.values()), "the reader's cookie"
    section = reading("GET", f"/api/convenings/{closed}/report/mine")["sections"][0]
    answer = reading(
        "POST",
        f"/api/convenings/{closed}/report/answers",
        201,
        json={"version": 1, "section": section, "text": "Thank you."},
    )
    closed_pool.add("answer_id", answer["id"])
    public = api("PUT", f"/api/convenings/{closed}/report/public-link", json={"on": True})
    tokens["public"].append(_token_of(public["link"]))

    cookies = {
        name: participant.client.cookies.get(name) or ""
        for name in (f"convene_seat_{live}", f"convene_seat_{closed}")
    }
    assert all(cookies.values()), "the participant's seat cookies"
    engine = create_engine(settings.sync_database_url)
    counts = ", ".join(
        f'(SELECT count(*) FROM "{table.name}")' for table in metadata.sorted_tables
    )
    for session in (anonymous, api, participant, reading):
        session.client.close()
    return World(
        app=app,
        settings=settings,
        token=token,
        participant_cookies=cookies,
        reader_cookies=reader_cookies,
        live=live,
        draft=draft,
        closed=closed,
        spare=spare,
        pools=pools,
        tokens=tokens,
        spare_token_ids=spare_tokens,
        engine=engine,
        fingerprint_sql=text(
            f"SELECT (SELECT coalesce(sum(last_seq), 0) FROM convening), {counts}"
        ),
    )


@pytest.fixture(scope="module")
def world(database_url: str) -> Iterator[World]:
    """The app (its lifespan run by schemathesis' in-process client) on a world of real
    convenings; emptied afterwards like every other test's database."""
    limits_off = {
        name: "off"
        for name in Settings.model_fields
        if name.startswith("rate_limit_")
    }
    app_settings = make_settings(database_url, **limits_off)
    app = create_app(app_settings)
    built: World | None = None
    try:
        built = build_world(app, app_settings)
        yield built
    finally:
        if built is not None:
            built.engine.dispose()
        asgi.shutdown_lifespans()
        _empty_tables(database_url)


# Steering generated cases to real objects ------------------------------------------------

# Operations that use up what they touch: they get the spare convening, whose objects may go.
USES_UP = (
    "/schedule",
    "/unschedule",
    "/open",
    "/close",
    "/mark-reported",
    "/invitation",
    "/invitations/send",
    "/seats/import",
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def steer(world: World, case: Any) -> Any:
    """A strategy that, most of the time, points the case's path at real objects (and keeps
    long polls short); the rest of the time leaves the generated ids alone."""
    path: str = case.operation.path
    method: str = case.operation.method.upper()
    params = case.path_parameters or {}
    query = case.query
    if path.endswith("/events") and isinstance(query, dict | type(None)):
        wait = (query or {}).get("wait", 25)  # a long poll waits 25 s by default
        if isinstance(wait, int | float) and 0 <= wait <= 30:  # valid: answer at once
            case.query = {**(query or {}), "wait": 0}

    if not params:
        return st.just(case)
    uses_up = method == "DELETE" or any(path.endswith(end) or end + "/" in path for end in USES_UP)
    if ACTOR[0] == "participant":
        convenings = [world.live, world.closed]
    elif ACTOR[0] == "reader":
        convenings = [world.closed]
    elif uses_up:
        convenings = [world.spare]
    else:
        convenings = [world.live, world.closed, world.draft, world.spare]

    def point(choice: tuple[int | None, int]) -> Any:
        cid, pick = choice
        if cid is None:
            return case
        if "convening_id" in params and _is_int(params["convening_id"]):
            params["convening_id"] = cid
        pool = world.pools[cid].ids
        for name, value in list(params.items()):
            if name == "token_id" and _is_int(value):
                params[name] = world.spare_token_ids[pick % len(world.spare_token_ids)]
            elif name in pool and _is_int(value):
                params[name] = pool[name][pick % len(pool[name])]
            elif name == "token" and isinstance(value, str):
                prefix = path.split("/")[2]
                found = world.tokens.get(prefix) or []
                if found:
                    params[name] = found[pick % len(found)]
            elif name == "fmt" and isinstance(value, str) and pick % 3:
                params[name] = ("json", "md", "html", "csv", "ics", "pdf", "docx")[pick % 7]
        return case

    return st.tuples(
        st.sampled_from([None, *convenings, *convenings]), st.integers(0, 1000)
    ).map(point)


def _config() -> Any:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "mode": "all"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                # Some refusals of well-formed requests are the rules at work: an id from
                # another convening (404), a status move that does not exist (409), a link
                # that expired (410), a rule that needs the database or a character no field
                # takes (422: a section the version does not have, a NUL in a title).
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "410", "422"]
                },
            },
        }
    )


EXPORT_TYPES = (
    "text/html",
    "text/markdown",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/json",
    "text/csv",
    "text/calendar",
)


def with_pending_declarations(document: dict[str, Any]) -> dict[str, Any]:
    """Declarations the owners of app/reports/, app/live/routes.py and app/metrics.py are to
    add to their routes (`responses=refusals(...)`, the export formats' media types). They
    are applied here only where the app's own document lacks them, so that every other
    answer is still checked against what the app declares; once a route declares them,
    this adds nothing for it."""
    refusal = {
        "description": "Refused",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}},
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            codes: tuple[int, ...] = ()
            if path.startswith("/api/convenings/{convening_id}/report") or path.endswith(
                "/{convening_id}/events"
            ):
                codes = (403, 404) if method == "get" else (403, 404, 409)
            elif path.startswith("/api/public/report/"):
                codes = (404,)
            for code in codes:
                responses.setdefault(str(code), refusal)
            content = responses.get("200", {}).get("content", {})
            if path.endswith("/export.{fmt}") and set(content) == {"application/json"}:
                responses["200"]["content"] = {kind: {"schema": {}} for kind in EXPORT_TYPES}
            if path == "/metrics" and set(content) == {"application/json"}:
                responses["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    return document


# The OpenAPI document does not depend on the database: read it from an app never started.
_DOCUMENT = with_pending_declarations(
    create_app(make_settings("sqlite:///unused-by-the-schema.db")).openapi()
)
schema = schemathesis.openapi.from_dict(_DOCUMENT, config=_config())
WORLD: list[World] = []  # the module's world, once built (hooks run after the fixture)
ACTOR = ["convener"]  # who the running test calls as: steers ids to what they can reach


@schema.hook
def flatmap_case(context: Any, case: Any) -> Any:
    return steer(WORLD[0], case) if WORLD else st.just(case)


@pytest.fixture(scope="module", autouse=True)
def current_world(world: World) -> Iterator[World]:
    WORLD.append(world)
    yield world
    WORLD.clear()


@pytest.fixture(autouse=True)
def current_actor(request: pytest.FixtureRequest) -> None:
    ACTOR[0] = request.node.originalname.removeprefix("test_api_as_")


def fingerprint(world: World) -> tuple[int, ...]:
    """Rows per table and the sum of the convenings' event numbers: any write changes it."""
    with world.engine.connect() as connection:
        return tuple(connection.execute(world.fingerprint_sql).one())


def send_and_check(case: Any, world: World, **auth: Any) -> None:
    """Send the case; every answer must be declared (status, media type, body), nothing 5xx;
    and a refused request (4xx) must leave the database as it was."""
    before = fingerprint(world)
    response = case.call(app=world.app, **auth)
    refused = 400 <= response.status_code < 500
    after = fingerprint(world) if refused else before
    case.validate_response(response, transport_kwargs={"app": world.app, **auth})
    assert before == after, (
        f"{case.operation.label} answered {response.status_code} but changed the database"
    )


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure report is enough
)


# The participant first: the convener's run may change the seats the participant holds.
@schema.parametrize()
@FUZZ
def test_api_as_participant(case: Any, world: World) -> None:
    """As a participant's browser (seat cookies in the live and the closed convening)."""
    send_and_check(case, world, cookies=dict(world.participant_cookies))


REPORT_BACK = r"^/api/(convenings/\{convening_id\}/report|public/report)"


@schema.include(path_regex=REPORT_BACK).parametrize()
@FUZZ
def test_api_as_reader(case: Any, world: World) -> None:
    """As a report-back reader's browser (the reader's link opened), on the report-back."""
    send_and_check(case, world, cookies=dict(world.reader_cookies))


@schema.parametrize()
@FUZZ
def test_api_as_convener(case: Any, world: World) -> None:
    """As the convener, by API token (the owner of every convening in the world)."""
    send_and_check(case, world, headers={"Authorization": f"Bearer {world.token}"})
