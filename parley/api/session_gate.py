"""Every /api/ route but the public ones needs a live session. It is checked here, before
anything else looks at the request (its body included), so without one the answer is always
`401 {"error": "Unauthorized", "redirect": "/login"}`; the session found is handed to the route
(`deps.CurrentSession`) and its idle TTL restarted."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.api.errors import error_response
from parley.api.state import running_in

log = logging.getLogger(__name__)

PUBLIC_API_PATHS = frozenset(
    {"/api/auth/register", "/api/auth/login", "/api/auth/logout", "/api/openapi.json"}
)


def is_protected(path: str) -> bool:
    return path.startswith("/api/") and path not in PUBLIC_API_PATHS


class SessionGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        services = running_in(scope).services
        key = HTTPConnection(scope).cookies.get(services.settings.cookie_name)
        try:
            session = await services.sessions.touch(key) if key else None
        except RedisError as exc:
            log.warning("redis unavailable: %s", exc)
            services.metrics.backend_errors.labels("redis").inc()
            response = error_response(503, "Session store unavailable, try again shortly")
            await response(scope, receive, send)
            return
        if session is None:
            response = error_response(401, "Unauthorized", redirect="/login")
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["session"] = session
        await self.app(scope, receive, send)
