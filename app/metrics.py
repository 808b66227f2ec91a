"""Prometheus metrics (prometheus-client), served at GET /metrics.

Each process serves its own numbers; Prometheus scrapes every process and adds them up.

- `convene_http_requests_total{method,route,status}`: HTTP answers by route template
  (`/api/convenings/{convening_id}/seats`, never a path with ids or tokens in it), and
  `convene_http_request_duration_seconds{method,route}`.
- `convene_live_connections{transport}`: clients connected to the live room now (`websocket`
  open, `poll` waiting), and `convene_live_channels`: convenings with a live subscription here.
- `convene_events_published_total`: events this process published; Prometheus's
  `rate(...[1m])` gives events per second. `convene_events_delivered_total`: events delivered
  to this process's channels, from any process.
- `convene_live_fanout_seconds`: from an event's publication to its delivery to this
  process's clients (`fanout_observed`, called by the hub).

The live numbers are read from the app's hub when Prometheus scrapes, so they cannot drift.
"""

import hmac
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "convene_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "convene_http_request_duration_seconds",
    "Time to answer HTTP requests (long polls wait up to 30 s), by method and route template.",
    ["method", "route"],
)
FANOUT = Histogram(
    "convene_live_fanout_seconds",
    "From an event's publication to its delivery to this process's live clients.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def fanout_observed(seconds: float) -> None:
    """Record one event's fan-out time (publication to delivery to local clients)."""
    FANOUT.observe(seconds)


class HubCollector(Collector):
    """The live room's numbers, read from the hub at each scrape."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        channels = list(self.hub.channels.values())
        connections = GaugeMetricFamily(
            "convene_live_connections",
            "Clients connected to the live room now: open websockets, long polls waiting.",
            labels=["transport"],
        )
        connections.add_metric(["websocket"], sum(len(c.clients) for c in channels))
        connections.add_metric(["poll"], sum(len(getattr(c, "waiters", ())) for c in channels))
        yield connections
        yield GaugeMetricFamily(
            "convene_live_channels",
            "Convenings this process holds a live subscription for.",
            value=len(channels),
        )
        yield CounterMetricFamily(
            "convene_events_published",
            "Events this process published (rate() gives events per second).",
            value=self.hub.published,
        )
        yield CounterMetricFamily(
            "convene_events_delivered",
            "Events delivered to this process's live channels, from any process.",
            value=self.hub.delivered,
        )


class MetricsMiddleware:
    """Counts and times HTTP requests by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = 500  # an exception that escapes is answered 500 by the server

        async def send_and_note(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_REQUESTS.labels(method, route, str(answered)).inc()
            HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)


router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this process (a bearer token when METRICS_TOKEN is set)."""
    expected = request.app.state.settings.metrics_token
    if expected:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), expected.encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "send the metrics token as a bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
    registry: CollectorRegistry = request.app.state.metrics_registry
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def install(app: Any, hub: Any) -> None:
    """The app's own metrics (its hub's) and the middleware that counts requests; `router`
    serves them."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(HubCollector(hub))
    app.state.metrics_registry = registry
    app.add_middleware(MetricsMiddleware)
