"""Cross-site request forgery: browsers say where a request comes from; refuse other sites.

Convene's browsers are authenticated by cookies (the convener's session, a seat's binding, a
report-back reader's link), which a browser attaches to requests another website makes it
send. Modern browsers label every request with `Sec-Fetch-Site` and unsafe requests with
`Origin`, and neither can be forged by a page. So a change (POST, PUT, PATCH, DELETE) is
refused with 403 when `Sec-Fetch-Site` is `cross-site`, or when `Origin` is present and is
neither this request's own origin nor `BASE_URL`'s. The same holds for a websocket handshake,
which browsers send across sites with cookies and an `Origin`.

Requests with neither header (scripts, command-line clients) pass, and so do requests with a
bearer token, which no other website can attach. This applies to changes without a cookie
too: signing a browser into someone else's account, or into a seat, is an attack as well.
SameSite=Lax cookies are a second line: they are not sent on cross-site POSTs at all.
"""

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSAL = (
    "This change was refused because it was sent from another website. If you did mean to "
    "make it, open Convene itself and do it there."
)
CLOSE_FORBIDDEN = 4403


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-case, default ports left out ("" if malformed)."""
    try:
        parts = urlsplit(url)
        number = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    port = f":{number}" if number and number != default else ""
    return f"{scheme}://{host}{port}"


class CSRFMiddleware:
    """Refuse cross-site changes and cross-site websockets (see the module's description)."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.base_origin = origin_of(base_url)

    def _own_origins(self, scope: Scope, headers: Headers) -> set[str]:
        scheme = {"ws": "http", "wss": "https"}.get(scope["scheme"], scope["scheme"])
        own = {self.base_origin}
        if host := headers.get("host"):
            own.add(origin_of(f"{scheme}://{host}"))
        return own

    def _cross_site(self, scope: Scope, headers: Headers) -> bool:
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return True
        origin = headers.get("origin")
        if origin is None:
            return False
        seen = origin_of(origin)
        return not seen or seen not in self._own_origins(scope, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if self._cross_site(scope, Headers(scope=scope)):
                await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN, "reason": ""})
                return
        elif scope["type"] == "http" and scope["method"] in UNSAFE:
            headers = Headers(scope=scope)
            scheme, _, token = headers.get("authorization", "").partition(" ")
            bearer = scheme.lower() == "bearer" and token.strip()
            if not bearer and self._cross_site(scope, headers):
                body = json.dumps({"detail": REFUSAL}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
