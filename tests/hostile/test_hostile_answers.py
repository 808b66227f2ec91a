"""What schemathesis found, pinned down: each hostile input gets a clear 4xx (422 with the
field where there is one) and changes nothing, on SQLite and on PostgreSQL alike."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.models import metadata
from tests.commitments.record_room import Room, make_room
from tests.conftest import SeatBrowser

BEYOND_INT4 = 2**31  # ids are 32-bit in PostgreSQL
BEYOND_INT8 = 2**63  # too large for SQLite too


async def row_counts(app: FastAPI) -> dict[str, int]:
    async with app.state.engine.connect() as connection:
        return {
            table.name: (await connection.execute(text(f'SELECT count(*) FROM "{table.name}"')))
            .scalar_one()
            for table in metadata.sorted_tables
        }


async def refused(
    app: FastAPI,
    browser: httpx.AsyncClient,
    method: str,
    path: str,
    status: int | tuple[int, ...] = 422,
    field: str | int | None = None,
    **request: Any,
) -> Any:
    """The request is refused with `status` (naming `field`) and changes no row."""
    before = await row_counts(app)
    response = await browser.request(method, path, **request)
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (method, path, response.text)
    detail = response.json()["detail"]
    if field is not None:
        assert any(error["loc"][-1] == field for error in detail), detail
    assert await row_counts(app) == before, (method, path)
    return detail


@pytest.fixture
async def room(convener: httpx.AsyncClient, seated: SeatBrowser) -> Room:
    return await make_room(convener, seated, "attributed")


@pytest.mark.parametrize("big", [BEYOND_INT4, BEYOND_INT8, 10**30])
async def test_ids_beyond_what_the_database_holds(app: FastAPI, room: Room, big: int) -> None:
    """In the path (the 500s found: SQLite's OverflowError beyond 64 bits, PostgreSQL's
    "integer out of range" beyond 32), where an unknown id may also answer 404, and in a
    body, where the schema now says the id's range."""
    path_refusal = (404, 422)
    await refused(app, room.convener, "GET", f"/api/convenings/{big}", path_refusal)
    await refused(app, room.convener, "POST", room.url(f"/agenda/{big}/start"), path_refusal)
    await refused(
        app, room.convener, "POST", room.url(f"/checks/{big}/close"), path_refusal, json={}
    )
    item = room.item["id"]
    await refused(
        app, room["a"], "POST", room.url("/contributions"), field="item_id",
        json={"item_id": big, "text": "A point."},
    )
    await refused(
        app, room.convener, "POST", room.url("/contributions/captured"), field="seat_id",
        json={"item_id": item, "seat_id": big, "text": "A point."},
    )
    await refused(
        app, room.convener, "PUT", room.url("/agenda/order"), field=0, json={"item_ids": [big]}
    )


@pytest.mark.parametrize(
    "bad", ["\x00", "\x07", "\x1b[31m", "\ufffe"], ids=["NUL", "BEL", "ESC", "U+FFFE"]
)
async def test_text_a_database_or_an_export_refuses(app: FastAPI, room: Room, bad: str) -> None:
    """NUL makes PostgreSQL fail; control characters make the DOCX export fail (XML has no
    place for them): refused at the door, naming the field, in every kind of body."""
    item = room.item["id"]
    await refused(
        app, room["a"], "POST", room.url("/contributions"), field="text",
        json={"item_id": item, "text": f"A point{bad}."},
    )
    await refused(
        app, room.convener, "PATCH", room.url(""), field="title", json={"title": f"T{bad}"}
    )
    await refused(
        app, room.convener, "POST", room.url("/agenda"), field="questions",
        json={"kind": "discussion", "title": "Item", "questions": ["Fine", f"Not{bad}"]},
    )
    await refused(
        app, room.convener, "POST", room.url("/seats/import"),
        files={"file": ("seats.csv", f"name,role\nAna{bad},participant\n".encode())},
    )
    # Tab, line feed and carriage return are text.
    ok = await room["a"].post(
        room.url("/contributions"), json={"item_id": item, "text": "One\tTwo\r\nThree"}
    )
    assert ok.status_code == 201, ok.text


async def test_a_lone_surrogate_is_refused(app: FastAPI, room: Room) -> None:
    """JSON can spell half a surrogate pair; no database stores it (not UTF-8)."""
    body = b'{"item_id": %d, "text": "half \\ud800 a pair"}' % room.item["id"]
    await refused(
        app, room["a"], "POST", room.url("/contributions"), field="text",
        content=body, headers={"Content-Type": "application/json"},
    )


async def test_times_out_of_range(app: FastAPI, convener: httpx.AsyncClient) -> None:
    """Year 9999 at UTC-10 is past what Python holds in UTC: refused, not a 500."""
    body = {
        "title": "Far future",
        "purpose_type": "advocacy",
        "attribution": "attributed",
        "starts_at": "9999-12-31T23:00:00-10:00",
    }
    await refused(app, convener, "POST", "/api/convenings", field="starts_at", json=body)


async def test_bodies_that_are_not_even_text(app: FastAPI, room: Room) -> None:
    """Not UTF-8, nested too deeply for the parser, broken multipart: 422 at `body`, like
    malformed JSON (was a bare 400)."""
    detail = await refused(
        app, room["a"], "POST", room.url("/contributions"),
        content=b'{"text": "\xff\xfe"}', headers={"Content-Type": "application/json"},
    )
    assert detail[0]["loc"][0] == "body"
    await refused(
        app, room["a"], "POST", room.url("/contributions"),
        content=b"[" * 100_000, headers={"Content-Type": "application/json"},
    )
    await refused(
        app, room.convener, "POST", room.url("/seats/import"),
        content=b"--b\r\nnot a part--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )


async def test_a_wrong_method_names_the_right_ones(room: Room) -> None:
    """405 lists every method of the path in Allow, and a literal segment wins over an id:
    /agenda/order is the order, not an item called "order"."""
    for method, path, allowed in (
        ("DELETE", "", "GET, PATCH"),
        ("POST", "/agenda/order", "PUT"),
        ("DELETE", "/seats", "GET, POST"),
    ):
        response = await room.convener.request(method, room.url(path))
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == allowed, (method, path)


async def test_refusals_are_declared(app: FastAPI) -> None:
    """Every refusal a convening's route can give is in the OpenAPI schema, with its body."""
    paths = app.openapi()["paths"]
    contribute = paths["/api/convenings/{convening_id}/contributions"]["post"]["responses"]
    assert {"403", "404", "409", "422"} <= set(contribute)
    assert contribute["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Refusal"
    }
    assert "401" in paths["/api/convenings"]["get"]["responses"]
    body = app.openapi()["components"]["schemas"]["Contribute"]["properties"]["item_id"]
    assert body["maximum"] == 2**31 - 1


@pytest.mark.parametrize("big", [BEYOND_INT4, BEYOND_INT8])
async def test_a_page_address_with_an_impossible_id_names_no_page(
    room: Room, big: int
) -> None:
    """A page gets the product's 404 page, not a JSON error (nor a 500)."""
    for path in (f"/convenings/{big}/room", f"/convenings/{room.cid}/report?version={big}"):
        response = await room.convener.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"].startswith("text/html"), path
