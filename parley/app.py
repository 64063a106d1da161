"""The app factory: FastAPI for HTTP and python-socketio for real time, on one origin."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import socketio
from fastapi import FastAPI

from parley.api import auth, dms, health, rooms, sessions
from parley.api.errors import install_error_handlers
from parley.api.limits import BodyLimitMiddleware
from parley.api.request_id import RequestIdMiddleware
from parley.api.security import SecurityHeaders, SecurityMiddleware
from parley.api.session_gate import SessionGate
from parley.api.state import lifespan_state
from parley.api.web import DEFAULT_DIST, mount_web
from parley.config import Settings
from parley.container import Container
from parley.realtime.server import SocketServer


def create_api(settings: Settings, *, sockets: SocketServer | None = None) -> FastAPI:
    """The HTTP app, over what the container builds. With `sockets`, this process also holds
    the sockets and reads the stream; without (the HTTP Lambda), session ends reach the
    sockets through the Redis channel."""
    container = Container(settings, sockets=sockets)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[Mapping[str, object]]:
        async with container.open() as running:
            # Everything made so far lives as long as the process (modules, botocore's service
            # models, the app); moved out of the collector's reach, a full collection walks
            # ~15,000 objects instead of ~265,000, which took 130 ms a time and stalled every
            # socket under load (bench/README.md; https://docs.python.org/3/library/gc.html).
            gc.freeze()
            yield lifespan_state(running)

    api = FastAPI(
        title="Parley",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(api)
    for module in (auth, sessions, rooms, dms, health):
        api.include_router(module.router)
    mount_web(api, Path(settings.web_dist) if settings.web_dist else DEFAULT_DIST)
    api.add_middleware(BodyLimitMiddleware)
    api.add_middleware(SessionGate)
    api.add_middleware(SecurityMiddleware, allowed_origins=settings.origins)
    api.add_middleware(RequestIdMiddleware)
    return api


def create_app(settings: Settings) -> SecurityHeaders:
    """HTTP routes and the front end go to FastAPI; /socket.io/ goes to Socket.IO; every HTTP
    answer of either carries the security headers."""
    sockets = SocketServer(settings)
    api = create_api(settings, sockets=sockets)
    return SecurityHeaders(socketio.ASGIApp(sockets.server, other_asgi_app=api))
