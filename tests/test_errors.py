"""Bad input gets a clear 422 naming the field, in plain words, without echoing the input."""

from typing import Any

import httpx


async def test_validation_errors_name_the_field_in_plain_words(
    convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    base = f"/api/convenings/{convening['id']}"
    empty = await convener.post(f"{base}/groups", json={"name": ""})
    assert empty.status_code == 422
    assert {"loc": ["body", "name"], "msg": "this cannot be empty"}.items() <= empty.json()[
        "detail"
    ][0].items()
    long = await convener.patch(base, json={"title": "x" * 5000})
    [error] = long.json()["detail"]
    assert error["loc"] == ["body", "title"]
    assert error["msg"] == "this is too long: at most 200 characters"
    assert "x" * 300 not in long.text
    extra = await convener.patch(base, json={"owner_id": 99})
    assert extra.json()["detail"][0]["msg"] == "this field is not part of the request"
    missing = await convener.post(f"{base}/seats", json={"role": "participant"})
    assert missing.json()["detail"][0] == {
        "type": "missing",
        "loc": ["body", "holder_name"],
        "msg": "this is required",
    }
