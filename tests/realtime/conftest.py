"""Logged-in Socket.IO clients against a running app process."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import register_and_login


class Person:
    """A registered, logged-in user who can open sockets ("tabs") on any app instance."""

    def __init__(self, username: str, cookie: str) -> None:
        self.username = username
        self.cookie = cookie


Signup = Callable[..., Awaitable[Person]]
Connect = Callable[..., Awaitable[ChatClient]]


@pytest.fixture
def signup(app: AppServer) -> Signup:
    async def make(server: AppServer = app) -> Person:
        username = f"u_{secrets.token_hex(4)}"
        async with httpx.AsyncClient(base_url=server.url) as http:
            cookie = await register_and_login(http, username)
        return Person(username, cookie)

    return make


@pytest.fixture
async def connect(app: AppServer) -> AsyncIterator[Connect]:
    clients: list[ChatClient] = []

    async def make(person: Person, server: AppServer = app) -> ChatClient:
        client = ChatClient(server, person.cookie)
        clients.append(client)
        await client.connect()
        return client

    yield make
    for client in clients:
        await client.close()
