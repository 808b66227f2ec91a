"""Probes: `/healthz` (the process is up and its database answers) and `/readyz` (it can serve:
database and broker reachable, not shutting down). A load balancer sends traffic to ready
processes only; an orchestrator restarts processes that are not healthy."""

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

log = logging.getLogger("convene.health")

CHECK_TIMEOUT = 3.0  # seconds a dependency has to answer

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, str]:
    """The process is up and its database answers."""
    async with request.app.state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {"status": "ok"}


async def _database(request: Request) -> None:
    async with request.app.state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _broker(request: Request) -> None:
    broker: Any = request.app.state.hub.broker
    ping = getattr(broker, "ping", None)  # a broker that can say whether it is reachable
    if ping is not None:
        await ping()
    elif hasattr(broker, "redis"):
        await broker.redis.ping()
    # The in-memory broker lives in this process: reachable while the process is.


CHECKS = {"database": _database, "broker": _broker}


async def _check(name: str, request: Request) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await CHECKS[name](request)
    except TimeoutError:
        log.warning("readiness: %s did not answer within %s s", name, CHECK_TIMEOUT)
        return f"did not answer within {CHECK_TIMEOUT:g} seconds"
    except Exception as error:
        log.warning("readiness: %s unreachable: %s", name, error)
        return f"unreachable ({type(error).__name__})"
    return "ok"


@router.get(
    "/readyz",
    responses={503: {"description": "Not ready: shutting down, or a dependency is unreachable"}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: 200 when the database and the broker answer; 503 with the reason when
    one does not, and while the process is shutting down."""
    headers = {"Cache-Control": "no-store"}
    body: dict[str, object]
    if getattr(request.app.state, "shutting_down", False):
        body = {"status": "unavailable", "reason": "shutting down"}
        return JSONResponse(body, status.HTTP_503_SERVICE_UNAVAILABLE, headers)
    results = await asyncio.gather(*(_check(name, request) for name in CHECKS))
    checks = dict(zip(CHECKS, results, strict=True))
    failing = [f"{name} {result}" for name, result in checks.items() if result != "ok"]
    if failing:
        body = {
            "status": "unavailable",
            "reason": "; ".join(failing),
            "checks": checks,
        }
        return JSONResponse(body, status.HTTP_503_SERVICE_UNAVAILABLE, headers)
    return JSONResponse({"status": "ok", "checks": checks}, headers=headers)
