"""Rate limits on what a guesser would hammer: sign-in, invitation, progress and reader links.

What is counted is *refused* attempts (401, 403, 404, 409, 410 answers) per client address and
route rule, over a sliding window: someone trying passwords or link tokens is stopped, while a
roundtable whose sixty participants open their (working) links at 9:00 from one venue's
network address is not. When a rule's budget is spent ("10/minute": ten refused attempts in the
last 60 seconds), the route answers 429 with `Retry-After` before doing anything else, until
the oldest of those attempts is older than the period.

    @router.get("/read/{token}", dependencies=[Depends(RateLimited("reader-link"))])

The dependency checks the budget and marks the request; `RateLimitMiddleware` counts the
request against the rule when its answer is a refusal, whatever produced it (a raised error or
a returned error page). Counts live in this process, or in Redis when BROKER_URL is redis://,
so that several processes share them. If Redis does not answer, requests are let through (a
limiter outage must not lock everyone out) and a warning is logged.

The client address is the ASGI client: behind a proxy, uvicorn's `--proxy-headers` with
`--forwarded-allow-ips` set to the proxy's address makes it the real one.
"""

import asyncio
import hashlib
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

log = logging.getLogger("convene.ratelimit")

SCOPE_KEY = "convene.ratelimit"  # the buckets a request counts against when refused
REFUSED = frozenset({401, 403, 404, 409, 410})
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rule:
    """One limit: its setting and what is being tried, in words."""

    setting: str  # the Settings field holding "<attempts>/<period>" or "off"
    what: str  # what was refused, in the 429 message: "Too many {what} from ..."


RULES: dict[str, Rule] = {
    "sign-in": Rule("rate_limit_sign_in", "failed sign-ins for this email"),
    "sign-in-address": Rule("rate_limit_sign_in_address", "failed sign-ins"),
    "invitation": Rule("rate_limit_invitation", "invitation links that did not work"),
    "progress-link": Rule("rate_limit_progress_link", "progress links that did not work"),
    "reader-link": Rule("rate_limit_reader_link", "report-back links that did not work"),
}


def parse_rate(value: str) -> tuple[int, int] | None:
    """`"10/minute"` → (10, 60); `"off"` → None."""
    if value == "off":
        return None
    count, _, period = value.partition("/")
    return int(count), PERIODS[period]


class TooManyAttempts(Exception):
    """A rule's budget is spent for this caller: answered 429 with Retry-After."""

    def __init__(self, rule: Rule, retry_after: int) -> None:
        super().__init__(rule.what)
        self.rule = rule
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        wait = f"{self.retry_after} second{'s' if self.retry_after != 1 else ''}"
        return f"Too many {self.rule.what} from your network address. Try again in {wait}."


# Counters ---------------------------------------------------------------------------------


class MemoryCounter:
    """The times of recent refused attempts, per key, in this process."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}
        self._periods: dict[str, int] = {}

    async def recent(self, key: str, period: int) -> list[float]:
        times = self._times.get(key)
        if not times:
            return []
        since = time.time() - period
        while times and times[0] <= since:
            times.popleft()
        return list(times)

    async def hit(self, key: str, period: int, keep: int) -> None:
        now = time.time()
        times = self._times.get(key)
        if times is None or times.maxlen != keep:
            times = self._times[key] = deque(times or (), maxlen=keep)
        times.append(now)
        self._periods[key] = period
        if len(self._times) > 10_000:  # forget whoever has nothing recent
            for stale in [k for k, t in self._times.items() if t[-1] <= now - self._periods[k]]:
                del self._times[stale], self._periods[stale]

    async def close(self) -> None:
        """Nothing to release."""


class RedisCounter:
    """The same, in Redis, shared by every process: a sorted set of times per key, expiring."""

    PREFIX = "convene:ratelimit:"

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    async def recent(self, key: str, period: int) -> list[float]:
        name = self.PREFIX + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", time.time() - period)
            pipe.zrange(name, 0, -1, withscores=True)
            _, entries = await pipe.execute()
        return [float(score) for _, score in entries]

    async def hit(self, key: str, period: int, keep: int) -> None:
        name, now = self.PREFIX + key, time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {f"{now}:{secrets.token_hex(4)}": now})
            pipe.zremrangebyrank(name, 0, -(keep + 1))  # only the latest `keep` matter
            pipe.expire(name, period + 1)
            await pipe.execute()

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()


Counter = MemoryCounter | RedisCounter


class Limiter:
    """The app's limits: settings, and where the attempts are remembered.

    A sliding window: a rule "10/minute" refuses a caller who had 10 refused attempts in the
    last 60 seconds, until the oldest of them is a minute old (that is the Retry-After)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        redis = settings.broker_url.startswith(("redis://", "rediss://", "unix://"))
        self.counter: Counter = RedisCounter(settings.broker_url) if redis else MemoryCounter()

    def rate(self, rule: Rule) -> tuple[int, int] | None:
        return parse_rate(getattr(self.settings, rule.setting))

    async def check(self, rule: Rule, key: str) -> None:
        """Raise TooManyAttempts if the rule's budget for `key` is spent."""
        rate = self.rate(rule)
        if rate is None:
            return
        limit, period = rate
        try:
            times = await self.counter.recent(key, period)
        except Exception as error:  # the limiter's store is down: let the caller through
            log.warning("rate limit store unreachable, not limiting: %s", error)
            return
        if len(times) >= limit:
            retry_after = max(1, math.ceil(times[-limit] + period - time.time()))
            raise TooManyAttempts(rule, retry_after)

    async def hit(self, rule: Rule, key: str) -> None:
        """Remember one refused attempt."""
        rate = self.rate(rule)
        if rate is None:
            return
        limit, period = rate
        try:
            await self.counter.hit(key, period, max(limit, 1))
        except Exception as error:
            log.warning("rate limit store unreachable, attempt not counted: %s", error)

    async def close(self) -> None:
        await self.counter.close()


# The dependency ---------------------------------------------------------------------------

KeyPart = Callable[[Request], Awaitable[str]]


def client_address(request: Request) -> str:
    """The caller's network address (the proxy's view of it when uvicorn trusts the proxy)."""
    return request.client.host if request.client else "unknown"


async def email_in_body(request: Request) -> str:
    """The `email` of a JSON body, normalized and hashed (no address is kept in the store)."""
    try:
        body = await request.json()
    except Exception:
        return ""
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str):
        return ""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class RateLimited:
    """Dependency: refuse with 429 when the caller spent the rule's budget of refused attempts;
    otherwise let the request through, counted if it is refused.

    `by` adds to the client address another part of the key (sign-in: the email)."""

    def __init__(self, rule: str, *, by: KeyPart | None = None) -> None:
        self.name = rule
        self.rule = RULES[rule]  # an unknown rule name fails at import, not at request time
        self.by = by

    async def __call__(self, request: Request) -> None:
        key = f"{self.name}:{client_address(request)}"
        if self.by is not None:
            key += ":" + await self.by(request)
        limiter: Limiter = request.app.state.limiter
        await limiter.check(self.rule, key)
        request.scope.setdefault(SCOPE_KEY, []).append((self.rule, key))


# Counting refusals, answering 429 ---------------------------------------------------------


class RateLimitMiddleware:
    """Counts a request marked by `RateLimited` against its rules when it is refused."""

    def __init__(self, app: ASGIApp, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in REFUSED:
                buckets: list[tuple[Rule, str]] = scope.get(SCOPE_KEY, [])
                await asyncio.gather(*(self.limiter.hit(rule, key) for rule, key in buckets))
            await send(message)

        await self.app(scope, receive, counting_send)


def _is_page(request: Request) -> bool:
    route: Any = request.scope.get("route")
    return not request.url.path.startswith("/api/") and not getattr(
        route, "include_in_schema", True
    )


async def too_many_attempts(request: Request, error: Exception) -> Response:
    """429 with Retry-After: a plain-words page for pages, `{"detail": ...}` for the API."""
    assert isinstance(error, TooManyAttempts)
    headers = {"Retry-After": str(error.retry_after), "Cache-Control": "no-store"}
    if _is_page(request):
        from app.pages import render

        context = {
            "title": "Too many attempts",
            "message": error.message,
            "hint": "",
            "status_code": status.HTTP_429_TOO_MANY_REQUESTS,
        }
        return render(
            request,
            "error.html",
            context,
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers=headers,
        )
    return JSONResponse({"detail": error.message}, status.HTTP_429_TOO_MANY_REQUESTS, headers)


def install(app: FastAPI, settings: Settings) -> Limiter:
    """Give the app its limiter, the 429 answer and the counting middleware."""
    limiter = Limiter(settings)
    app.state.limiter = limiter
    app.add_exception_handler(TooManyAttempts, too_many_attempts)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    return limiter
