"""The deliberation record through the API: contributions, a consensus check with its
outcome, dissent that nothing erases, commitments with their traffic lights."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.conftest import CONVENING, SeatBrowser


async def live_room(convener: httpx.AsyncClient, seated: SeatBrowser, rule: str) -> dict[str, Any]:
    convening = (
        await convener.post("/api/convenings", json={**CONVENING, "attribution": rule})
    ).json()
    cid = convening["id"]
    gov = (
        await convener.post(f"/api/convenings/{cid}/groups", json={"preset": "government"})
    ).json()
    item = (
        await convener.post(
            f"/api/convenings/{cid}/agenda", json={"kind": "decision", "title": "Metering"}
        )
    ).json()
    fac, _ = await seated(cid, "facilitator", holder_name="Fatou Facilitator")
    rap, _ = await seated(cid, "rapporteur", holder_name="Raj Rapporteur")
    a, seat_a = await seated(
        cid, "participant", holder_name="Ana Lima", affiliation="Water Ministry", group_id=gov["id"]
    )
    b, seat_b = await seated(cid, "participant", holder_name="Ben Okoro", group_id=gov["id"])
    await convener.post(f"/api/convenings/{cid}/schedule")
    await convener.post(f"/api/convenings/{cid}/open")
    await fac.post(f"/api/convenings/{cid}/agenda/{item['id']}/start")
    return {
        "cid": cid,
        "item": item,
        "fac": fac,
        "rap": rap,
        "a": a,
        "b": b,
        "seat_a": seat_a,
        "seat_b": seat_b,
        "convener": convener,
    }


async def test_a_check_with_reservations_and_a_dissent(
    convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    room = await live_room(convener, seated, "attributed")
    cid, item = room["cid"], room["item"]
    made = await room["a"].post(
        f"/api/convenings/{cid}/contributions",
        json={"item_id": item["id"], "kind": "proposal", "text": "Meter every large withdrawal."},
    )
    assert made.status_code == 201
    check = await room["fac"].post(
        f"/api/convenings/{cid}/checks",
        json={"item_id": item["id"], "proposal": "Meter withdrawals above 100 m3 a day."},
    )
    assert check.status_code == 201
    check_id = check.json()["id"]
    no_reason = await room["b"].put(
        f"/api/convenings/{cid}/checks/{check_id}/answer", json={"answer": "stand_aside"}
    )
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == [
        "body",
        "reason",
    ]
    await room["a"].put(
        f"/api/convenings/{cid}/checks/{check_id}/answer", json={"answer": "endorse"}
    )
    await room["b"].put(
        f"/api/convenings/{cid}/checks/{check_id}/answer",
        json={"answer": "agree_with_reservations", "reason": "Small farms need help to pay."},
    )
    record = (await room["a"].get(f"/api/convenings/{cid}/record")).json()
    live = record["checks"][0]
    assert live["tally"]["overall"]["endorse"] == 1
    assert live["tally"]["by_group"][0]["group"] == "Government"
    assert live["reasons"][0]["by"]["name"] == "Ben Okoro"
    closed = await room["fac"].post(f"/api/convenings/{cid}/checks/{check_id}/close", json={})
    assert closed.json()["level"] == "consensus_with_reservations"
    late = await room["a"].put(
        f"/api/convenings/{cid}/checks/{check_id}/answer", json={"answer": "agree"}
    )
    assert late.status_code == 409
    outcome_id = closed.json()["id"]
    dissent = await room["b"].post(
        f"/api/convenings/{cid}/dissents",
        json={
            "target": "outcome",
            "target_id": outcome_id,
            "reason": "The cost falls on the poor.",
        },
    )
    assert dissent.status_code == 201
    empty = await room["b"].post(
        f"/api/convenings/{cid}/dissents",
        json={"target": "outcome", "target_id": outcome_id, "reason": " "},
    )
    assert empty.status_code == 422
    not_mine = await room["a"].post(
        f"/api/convenings/{cid}/dissents/{dissent.json()['id']}/withdrawal", json={}
    )
    assert not_mine.status_code == 403
    withdrawn = await room["b"].post(
        f"/api/convenings/{cid}/dissents/{dissent.json()['id']}/withdrawal",
        json={"reason": "Subsidy agreed."},
    )
    assert withdrawn.status_code == 201
    again = await room["b"].post(
        f"/api/convenings/{cid}/dissents/{dissent.json()['id']}/withdrawal", json={}
    )
    assert again.status_code == 409
    record = (await room["fac"].get(f"/api/convenings/{cid}/record")).json()
    [kept] = record["dissents"]
    assert kept["reason"] == "The cost falls on the poor."
    assert kept["withdrawn"]["reason"] == "Subsidy agreed."


async def test_anonymous_answers_and_dissents_leave_no_seat_in_the_rows(
    app: FastAPI, convener: httpx.AsyncClient, seated: SeatBrowser
) -> None:
    room = await live_room(convener, seated, "anonymous")
    cid, item = room["cid"], room["item"]
    check_id = (
        await room["fac"].post(
            f"/api/convenings/{cid}/checks", json={"item_id": item["id"], "proposal": "P"}
        )
    ).json()["id"]
    first = await room["a"].put(
        f"/api/convenings/{cid}/checks/{check_id}/answer", json={"answer": "agree"}
    )
    assert first.status_code == 200
    twice = await room["a"].put(
        f"/api/convenings/{cid}/checks/{check_id}/answer", json={"answer": "block", "reason": "x"}
    )
    assert twice.status_code == 409
    dissent = await room["a"].post(
        f"/api/convenings/{cid}/dissents",
        json={"target": "proposal", "target_id": check_id, "reason": "No."},
    )
    assert dissent.status_code == 201
    seat_id = room["seat_a"]["id"]
    async with app.state.sessionmaker() as session:
        responses = (
            await session.exec(text("SELECT seat_id, answered_at FROM check_response"))
        ).all()  # type: ignore[call-overload]
        dissents = (await session.exec(text("SELECT seat_id, group_id FROM dissent"))).all()  # type: ignore[call-overload]
        events = (
            await session.exec(  # type: ignore[call-overload]
                text(
                    "SELECT actor_seat_id, data FROM event WHERE kind IN "
                    "('record.check_answered', 'record.dissent_logged')"
                )
            )
        ).all()
    assert [tuple(r) for r in responses] == [(None, None)]
    assert [tuple(d) for d in dissents] == [(None, None)]
    assert all(actor is None for actor, _ in events)
    assert all(
        "Ana Lima" not in str(data) and f'"seat_id": {seat_id}' not in str(data)
        for _, data in events
    )
    record = (await room["b"].get(f"/api/convenings/{cid}/record")).json()
    assert record["dissents"][0]["by"] is None
    # The author can still withdraw it.
    withdrawn = await room["a"].post(
        f"/api/convenings/{cid}/dissents/{dissent.json()['id']}/withdrawal", json={}
    )
    assert withdrawn.status_code == 201


async def test_commitments_need_a_future_date_and_report_through_their_link(
    convener: httpx.AsyncClient, seated: SeatBrowser, client: httpx.AsyncClient
) -> None:
    room = await live_room(convener, seated, "attributed")
    cid = room["cid"]
    body = {
        "what": "Publish all withdrawal permits",
        "owner": "Ana Lima",
        "due_date": (date.today() + timedelta(days=60)).isoformat(),
        "indicator": "Permits online",
        "resources": "Two staff for a month",
    }
    past = await room["a"].post(
        f"/api/convenings/{cid}/commitments", json={**body, "due_date": "2020-01-01"}
    )
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "due_date"]
    other = await room["a"].post(
        f"/api/convenings/{cid}/commitments", json={**body, "seat_id": room["seat_b"]["id"]}
    )
    assert other.status_code == 403
    made = await room["a"].post(f"/api/convenings/{cid}/commitments", json=body)
    assert made.status_code == 201
    assert made.json()["light"] == "green"
    assert made.json()["commitment"]["organization"] == "Water Ministry"
    listed = (await convener.get(f"/api/convenings/{cid}/commitments")).json()
    token = listed[0]["progress_link"].rsplit("/", 1)[1]
    page = await client.get(f"/api/progress/{token}")
    assert page.json()["commitment"]["what"] == "Publish all withdrawal permits"
    report = await client.post(
        f"/api/progress/{token}", json={"status": "on_track", "text": "Half online."}
    )
    assert report.status_code == 201
    after = (await room["b"].get(f"/api/convenings/{cid}/commitments")).json()
    assert after[0]["commitment"]["last_report"]["text"] == "Half online."
    assert after[0]["progress_link"] is None


@pytest.mark.parametrize("role", ["observer", "rapporteur"])
async def test_only_participants_answer_and_dissent(
    convener: httpx.AsyncClient, seated: SeatBrowser, role: str
) -> None:
    room = await live_room(convener, seated, "attributed")
    cid, item = room["cid"], room["item"]
    check_id = (
        await room["fac"].post(
            f"/api/convenings/{cid}/checks", json={"item_id": item["id"], "proposal": "P"}
        )
    ).json()["id"]
    other, _ = await seated(cid, role)
    answer = await other.put(
        f"/api/convenings/{cid}/checks/{check_id}/answer", json={"answer": "agree"}
    )
    assert answer.status_code == 403
