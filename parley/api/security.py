"""Browser-facing protections applied to every HTTP response of the app."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.api.errors import error_response
from parley.errors import ErrorCode

# OWASP Secure Headers Project; the CSP is one the built front end satisfies (no inline code).
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]

_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# API answers are per user and per moment (sessions, rooms, history): no cache, private or
# shared, may keep one (OWASP REST Security Cheat Sheet, "Security headers").
_NO_STORE = (b"cache-control", b"no-store")
# Set in the scope by the outer SecurityHeaders, so the FastAPI app's middleware does not add
# the headers a second time.
_HEADERS_ADDED = "parley.security_headers"


def _with_headers(scope: Scope, send: Send) -> Send:
    """`send`, adding the security headers to the response (and no-store under /api/)."""
    extra = [*SECURITY_HEADERS]
    no_store = scope["path"].startswith("/api/")
    if no_store:
        extra.append(_NO_STORE)

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if no_store:
                headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
            message["headers"] = [*headers, *extra]
        await send(message)

    return send_with_headers


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SecurityMiddleware:
    """Adds the security headers, and refuses a state-changing request that a browser sent
    from a foreign page (CSRF: OWASP CSRF Cheat Sheet, "Verifying Origin With Standard
    Headers"). Requests without Origin or Referer are non-browser clients and pass."""

    def __init__(self, app: ASGIApp, *, allowed_origins: frozenset[str]) -> None:
        self.app = app
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send_with_headers = send if scope.get(_HEADERS_ADDED) else _with_headers(scope, send)
        if scope["method"] in _UNSAFE_METHODS and not self._same_site(scope):
            response = error_response(ErrorCode.FORBIDDEN, "Cross-site request refused")
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _same_site(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        origin = headers.get(b"origin")
        if origin is not None:
            return origin.decode("latin-1").rstrip("/") in self.allowed_origins
        referer = headers.get(b"referer")
        if referer is not None:
            return _origin_of(referer.decode("latin-1")) in self.allowed_origins
        return True


class SecurityHeaders:
    """The security headers on every HTTP response of the process. socketio.ASGIApp answers
    /socket.io/ (the handshake, long-polling) itself, before the FastAPI app and its
    SecurityMiddleware see the request: this wraps the whole ASGI app so those answers carry
    them too. The CSRF check stays the FastAPI app's (Socket.IO checks the origin itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app({**scope, _HEADERS_ADDED: True}, receive, _with_headers(scope, send))
