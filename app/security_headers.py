"""Security headers on every answer: what a browser may load, frame, send and keep.

- Content-Security-Policy: scripts, styles, images and connections from this site only, no
  inline script or style (the templates have none), never framed, forms post here only.
  FastAPI's API documentation pages (/docs, /redoc) load their code from a CDN and start it
  with an inline script; they get a policy that allows exactly that, and nothing else does.
- Referrer-Policy no-referrer: links carry tokens in their path (/join/…, /progress/…,
  /read/…), which must not travel to other sites in a Referer header.
- X-Content-Type-Options nosniff, X-Frame-Options DENY (for browsers without CSP's
  frame-ancestors), Permissions-Policy (no camera, microphone, location, payment, USB),
  Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy same-origin.
- Strict-Transport-Security, only when BASE_URL is https.
- Cache-Control no-store on the pages and API answers reached by a link token, so a shared
  computer's cache does not keep them.

A header the route set itself is kept.
"""

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# Swagger UI and ReDoc, as FastAPI serves them: CDN code, one inline starter script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# Paths reached by a secret link token: invitation, progress, report-back reader and public
# links, as pages and as API calls.
TOKEN_PATHS = re.compile(
    r"^/(join|progress|read)/|^/api/(invitations|progress|public/report|read)/[^/]"
)


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP answer."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.headers: list[tuple[str, str]] = [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Permissions-Policy", PERMISSIONS_POLICY),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
        ]
        if base_url.startswith("https://"):
            self.headers.append(("Strict-Transport-Security", "max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = DOCS_CSP if path in DOCS_PATHS else CSP
        no_store = bool(TOKEN_PATHS.match(path))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in [("Content-Security-Policy", policy), *self.headers]:
                    headers.setdefault(name, value)
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
