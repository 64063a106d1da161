"""The whole app (`create_app`: HTTP and Socket.IO) served by uvicorn inside the test's own
process and event loop, on a free port; clients talk to it over a real WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from parley.app import create_app
from parley.config import Settings
from parley.devstack.services import free_port
from parley.storage.dynamo import TableNames
from tests.realtime.client import ChatClient
from tests.unit.support import new_name
from tests.utils import register_and_login


@dataclass(frozen=True)
class InProcessServer:
    url: str


@pytest.fixture(scope="session")
async def chat_server(
    unit_settings: Settings, tables: TableNames
) -> AsyncIterator[InProcessServer]:
    async with serving(unit_settings) as server:
        yield server


@asynccontextmanager
async def serving(unit_settings: Settings, **changes: object) -> AsyncIterator[InProcessServer]:
    """The app with `unit_settings` (and `changes`) served by uvicorn in this event loop."""
    port = free_port()
    # No stream consumer: the ingest tests of this layer hold the stream's lease themselves.
    settings = unit_settings.model_copy(update={"port": port, "stream_consumer": False, **changes})
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the in-process app stopped at start-up")
        await asyncio.sleep(0.02)
    try:
        yield InProcessServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await task


@dataclass
class Person:
    username: str
    cookie: str


Tab = Callable[..., Awaitable[ChatClient]]


@pytest.fixture
async def person(chat_server: InProcessServer, redis: Redis) -> Person:
    """A registered user with a live session (Redis emptied first, as in every unit test)."""
    return await sign_up(chat_server)


async def sign_up(server: InProcessServer) -> Person:
    username = new_name("user")
    async with httpx.AsyncClient(base_url=server.url) as http:
        return Person(username, await register_and_login(http, username))


@pytest.fixture
async def open_tab(chat_server: InProcessServer) -> AsyncIterator[Tab]:
    """Open a connected socket for a person; all are closed at the end of the test."""
    tabs: list[ChatClient] = []

    async def open_one(person: Person, *, origin: str | None = None) -> ChatClient:
        tab = ChatClient(chat_server, person.cookie)
        tabs.append(tab)
        await tab.connect(origin=origin)
        return tab

    yield open_one
    for tab in tabs:
        await tab.close()
