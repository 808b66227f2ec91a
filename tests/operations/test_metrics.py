"""GET /metrics, in Prometheus's text format: HTTP requests by route template and status (never
a path with its ids or tokens), live connections, events published and delivered, fan-out
latency; behind a bearer token when METRICS_TOKEN is set."""

import asyncio
import json
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from app import metrics
from app.main import create_app
from tests.conftest import BASE_URL, SeatBrowser, make_settings
from tests.operations.serving import cookie_header, serve_in_loop

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> tuple[Samples, str]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, answer.text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_template_and_status(
    convener: httpx.AsyncClient, client: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    token = "Zm9yZ2VkLXRva2VuLXRoYXQtbXVzdC1uZXZlci1sZWFr"
    before, _ = await scrape(client)
    for _ in range(3):
        assert (await convener.get(f"/api/convenings/{cid}")).status_code == 200
    assert (await client.get(f"/api/convenings/{cid}")).status_code == 404
    assert (await client.get(f"/join/{token}")).status_code == 404
    assert (await client.get("/no/such/page")).status_code == 404
    after, text = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    one = "/api/convenings/{convening_id}"
    assert grew("convene_http_requests_total", method="GET", route=one, status="200") == 3
    assert grew("convene_http_requests_total", method="GET", route=one, status="404") == 1
    assert grew("convene_http_requests_total", method="GET", route="/join/{token}", status="404")
    assert grew("convene_http_requests_total", method="GET", route="unmatched", status="404")
    assert grew("convene_http_request_duration_seconds_count", method="GET", route=one) == 4
    assert token not in text
    assert f'/api/convenings/{cid}"' not in text  # templates only, never ids


async def test_live_connections_and_events_are_counted(
    app: FastAPI, seated: SeatBrowser, convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    seat_browser, _ = await seated(cid)
    async with serve_in_loop(app) as url:
        before, _ = await scrape(convener)
        assert value(before, "convene_live_connections", transport="websocket") == 0
        ws_url = url.replace("http://", "ws://") + f"/api/convenings/{cid}/live"
        headers = {"Cookie": cookie_header(seat_browser)}
        async with connect(ws_url, additional_headers=headers) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "snapshot"
            during, _ = await scrape(convener)
            assert value(during, "convene_live_connections", transport="websocket") == 1
            assert value(during, "convene_live_connections", transport="poll") == 0
            assert value(during, "convene_live_channels") == 1
            made = await convener.post(f"/api/convenings/{cid}/groups", json={"name": "Youth"})
            assert made.status_code == 201
            while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "event":
                pass
            after, _ = await scrape(convener)
        published = "convene_events_published_total"
        assert value(after, published) == value(before, published) + 1
        delivered = "convene_events_delivered_total"
        assert value(after, delivered) >= value(before, delivered) + 1
        for _ in range(100):  # the server notices the socket closed
            gone, _ = await scrape(convener)
            if value(gone, "convene_live_connections", transport="websocket") == 0:
                break
            await asyncio.sleep(0.05)
        assert value(gone, "convene_live_connections", transport="websocket") == 0


async def test_a_waiting_long_poll_is_a_live_connection(
    seated: SeatBrowser, convener: httpx.AsyncClient, convening: dict[str, Any]
) -> None:
    cid = convening["id"]
    seat_browser, _ = await seated(cid)
    first = await seat_browser.get(f"/api/convenings/{cid}/events")
    since = first.json()["last_seq"]
    poll = asyncio.create_task(
        seat_browser.get(f"/api/convenings/{cid}/events", params={"since": since, "wait": 10})
    )
    for _ in range(100):
        waiting, _ = await scrape(convener)
        if value(waiting, "convene_live_connections", transport="poll") == 1:
            break
        await asyncio.sleep(0.05)
    assert value(waiting, "convene_live_connections", transport="poll") == 1
    made = await convener.post(f"/api/convenings/{cid}/groups", json={"name": "Youth"})
    assert made.status_code == 201
    answered = await asyncio.wait_for(poll, 10)
    assert answered.status_code == 200 and answered.json()["events"]
    done, _ = await scrape(convener)
    assert value(done, "convene_live_connections", transport="poll") == 0


async def test_fanout_latency_is_a_histogram(client: httpx.AsyncClient) -> None:
    before, _ = await scrape(client)
    metrics.fanout_observed(0.003)
    after, _ = await scrape(client)
    count = "convene_live_fanout_seconds_count"
    assert value(after, count) == value(before, count) + 1
    bucket = "convene_live_fanout_seconds_bucket"
    assert value(after, bucket, le="0.005") == value(before, bucket, le="0.005") + 1
    assert value(after, bucket, le="0.0025") == value(before, bucket, le="0.0025")


async def test_a_metrics_token_keeps_them_private(database_url: str) -> None:
    app = create_app(make_settings(database_url, metrics_token="scrape-me-0123456789"))
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client,
    ):
        assert (await client.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer not-it"}
        assert (await client.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer scrape-me-0123456789"}
        answer = await client.get("/metrics", headers=right)
    assert answer.status_code == 200
    assert "convene_http_requests_total" in answer.text
