"""The HTTP app (`create_api`, without the socket side) run in this process through httpx's
ASGI transport, its lifespan opening the session's Redis and DynamoDB."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.app import create_api
from parley.config import Settings
from parley.devstack.services import free_port
from parley.storage.dynamo import TableNames
from tests.unit.support import new_name
from tests.utils import PASSWORD


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[ASGIApp]:
    """The app started as an ASGI server starts it (the lifespan protocol, with its state),
    and a handle that gives every request that state, as the server would."""
    app = create_api(settings)
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    lifespan = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"app did not start: {started.get('message')}")

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "state": state.copy()}, receive, send)

    try:
        yield with_state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await lifespan


@pytest.fixture(scope="session")
async def api(
    unit_settings: Settings, tables: TableNames, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ASGIApp]:
    dist = tmp_path_factory.mktemp("dist")
    (dist / "index.html").write_text("<!doctype html><title>Parley</title>")
    async with running(unit_settings.model_copy(update={"web_dist": str(dist)})) as app:
        yield app


@pytest.fixture(scope="session")
async def api_without_redis(unit_settings: Settings, tables: TableNames) -> AsyncIterator[ASGIApp]:
    """The app with its Redis gone (nothing listens on its port)."""
    gone = f"redis://127.0.0.1:{free_port()}/0"
    async with running(unit_settings.model_copy(update={"redis_url": gone})) as app:
        yield app


def client(app: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


@pytest.fixture
async def http(api: ASGIApp, redis: Redis) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh client (no cookies) and a fresh Redis database: no session, no lock-out."""
    async with client(api) as http:
        yield http


@pytest.fixture
async def logged_in(http: httpx.AsyncClient) -> str:
    """Register and log in on `http`; the name."""
    name = new_name("user")
    credentials = {"username": name, "password": PASSWORD}
    assert (await http.post("/api/auth/register", json=credentials)).status_code == 201
    assert (await http.post("/api/auth/login", json=credentials)).status_code == 200
    return name
