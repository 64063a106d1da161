"""The app factory: FastAPI for HTTP and python-socketio for real time, on one origin."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Protocol

import socketio
from fastapi import FastAPI

from parley.api import auth, health, rooms
from parley.api.errors import install_error_handlers
from parley.api.limits import BodyLimitMiddleware
from parley.api.request_id import RequestIdMiddleware
from parley.api.security import SecurityMiddleware
from parley.api.session_gate import SessionGate
from parley.api.web import DEFAULT_DIST, mount_web
from parley.config import Settings
from parley.ingest.runner import consuming_stream
from parley.realtime.emitter import RedisEmitter
from parley.realtime.server import Realtime
from parley.services import Services, open_services

log = logging.getLogger(__name__)


class LiveSessions(Protocol):
    """Whoever can tell a session's open sockets that it ended."""

    async def end_session(self, key: str) -> None: ...


def create_api(settings: Settings, realtime: Realtime | None = None) -> FastAPI:
    """The HTTP app. With `realtime`, this process also holds sockets and reads the stream;
    without (the HTTP Lambda), session ends reach the sockets through the Redis channel."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            services = await stack.enter_async_context(open_services(settings))
            app.state.services = services
            app.state.live_sessions = await stack.enter_async_context(
                _live_sessions(services, realtime)
            )
            # Everything made so far lives as long as the process (modules, botocore's service
            # models, the app); moved out of the collector's reach, a full collection walks
            # ~15,000 objects instead of ~265,000, which took 130 ms a time and stalled every
            # socket under load (bench/README.md; https://docs.python.org/3/library/gc.html).
            gc.freeze()
            yield

    api = FastAPI(
        title="Parley",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(api)
    for module in (auth, rooms, health):
        api.include_router(module.router)
    mount_web(api, Path(settings.web_dist) if settings.web_dist else DEFAULT_DIST)
    api.add_middleware(BodyLimitMiddleware)
    api.add_middleware(SessionGate)
    api.add_middleware(SecurityMiddleware, allowed_origins=settings.origins)
    api.add_middleware(RequestIdMiddleware)
    return api


@asynccontextmanager
async def _live_sessions(
    services: Services, realtime: Realtime | None
) -> AsyncIterator[LiveSessions]:
    if realtime is None:
        emitter = RedisEmitter(
            services.settings.require_redis_url(), table_prefix=services.settings.table_prefix
        )
        try:
            yield emitter
        finally:
            await emitter.close()
        return
    await services.rooms.ensure_general()
    realtime.start(services)
    try:
        if services.settings.stream_consumer:
            async with consuming_stream(services, realtime.broadcaster):
                yield realtime
        else:
            yield realtime
    finally:
        await realtime.stop()


def create_app(settings: Settings) -> socketio.ASGIApp:
    """HTTP routes and the front end go to FastAPI; /socket.io/ goes to Socket.IO."""
    realtime = Realtime(settings)
    return socketio.ASGIApp(realtime.server, other_asgi_app=create_api(settings, realtime))
