"""Who may open a socket: an allowed Origin (against cross-site WebSocket hijacking) and a live
session cookie. A handshake without an Origin header is a non-browser client, judged by its
cookie alone."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio

from parley.errors import ErrorCode


def origin_allowed(environ: dict[str, Any], allowed: frozenset[str]) -> bool:
    origin = environ.get("HTTP_ORIGIN")
    return origin is None or origin.rstrip("/") in allowed


def cookie_value(environ: dict[str, Any], name: str) -> str | None:
    header = environ.get("HTTP_COOKIE")
    if not header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None else None


def refusal(message: str, code: ErrorCode, retry_after: float | None = None) -> Exception:
    """A refused handshake: the client's error says `message` and carries `{"code"}` as its
    data (`err.data.code` in socket.io-client)."""
    data: dict[str, Any] = {"code": code.value}
    if retry_after is not None:
        data["retryAfter"] = retry_after
    refused: Exception = socketio.exceptions.ConnectionRefusedError(message, data)
    return refused


def release(environ: dict[str, Any]) -> None:
    """Drop what the handshake's environ holds that no later event needs: python-socketio
    keeps a socket's connect environ for as long as it is open, with the request's headers
    (the cookie's session secret among them) and Engine.IO's request body object, an
    instance of a class it defines per request (bench/socket_memory.py: together about
    4 KiB of every idle socket). Called once the connect has read what it needs; a later
    HTTP request of the socket (long-polling) comes with an environ of its own.

    The ASGI scope the environ was made from keeps the same headers as a list (as does the
    server's protocol, which holds the same scope): emptied in place, as nothing reads a
    request's headers once it is answered and the connect has read them."""
    for key in [key for key in environ if key.startswith("HTTP_")]:
        del environ[key]
    environ.pop("wsgi.input", None)
    scope = environ.get("asgi.scope")
    if isinstance(scope, dict) and isinstance(scope.get("headers"), list):
        scope["headers"].clear()
