"""Every /api/ route but the public ones needs a live session. It is checked here, before
anything else looks at the request (its body included), so without one the answer is always
`401 {"error": "Unauthorized", "code": "unauthorized", "redirect": "/login"}`; the session
found is handed to the route (`deps.CurrentSession`) and its idle TTL restarted."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from parley.api.errors import problem_response, session_required
from parley.api.state import running_in
from parley.errors import BACKEND_ERRORS, backend_unavailable

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
        except BACKEND_ERRORS as exc:
            response = problem_response(backend_unavailable(exc, services.metrics))
            await response(scope, receive, send)
            return
        if session is None:
            await session_required()(scope, receive, send)
            return
        scope.setdefault("state", {})["session"] = session
        await self.app(scope, receive, send)
