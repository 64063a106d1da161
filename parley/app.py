"""The app factory: FastAPI for HTTP and python-socketio for real time, on one origin."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import socketio
from fastapi import FastAPI

from parley.api import auth, health, rooms
from parley.api.errors import install_error_handlers
from parley.api.security import SecurityMiddleware
from parley.api.web import DEFAULT_DIST, mount_web
from parley.config import Settings
from parley.ingest.runner import consuming_stream
from parley.realtime.server import Realtime
from parley.services import open_services

log = logging.getLogger(__name__)


def create_api(settings: Settings, realtime: Realtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            services = await stack.enter_async_context(open_services(settings))
            await services.rooms.ensure_general()
            app.state.services = services
            realtime.start(services)
            stack.push_async_callback(realtime.stop)
            if settings.stream_consumer:
                await stack.enter_async_context(consuming_stream(services, realtime.broadcaster))
            yield

    api = FastAPI(
        title="Parley",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    api.state.realtime = realtime
    install_error_handlers(api)
    for module in (auth, rooms, health):
        api.include_router(module.router)
    mount_web(api, Path(settings.web_dist) if settings.web_dist else DEFAULT_DIST)
    api.add_middleware(SecurityMiddleware, allowed_origins=settings.origins)
    return api


def create_app(settings: Settings) -> socketio.ASGIApp:
    """HTTP routes and the front end go to FastAPI; /socket.io/ goes to Socket.IO."""
    realtime = Realtime(settings)
    return socketio.ASGIApp(realtime.server, other_asgi_app=create_api(settings, realtime))
