"""`make run-cluster`: instances behind HAProxy on a local Redis Cluster. Long-polling clients
(each request of a connection is a request of its own) work only because HAProxy pins a client
to one instance with its cookie; a message crosses from one instance to the other."""

from __future__ import annotations

import asyncio
import secrets
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import socketio

from parley.devstack.run_cluster import STICKY_COOKIE
from parley.devstack.services import LOOPBACK, free_port
from tests.utils import register_and_login

START_SECONDS = 120


@pytest.fixture(scope="module")
def balancer() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "parley.devstack.run_cluster",
            "--port",
            str(port),
            "--instances",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_SECONDS)
    line = process.stdout.readline().decode() if ready else ""
    if "Parley is at" not in line:
        process.kill()
        pytest.fail(f"run-cluster did not start: {line}{process.stdout.read().decode()}")
    yield f"http://{LOOPBACK}:{port}"
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(60) == 0
    finally:
        process.stdout.close()


class PollingClient:
    """A Socket.IO client on long-polling only, keeping cookies as a browser does."""

    def __init__(self, url: str, session_cookie: str) -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies of an IP address host too
        self.http = aiohttp.ClientSession(cookie_jar=jar)
        jar.update_cookies({"parley_session": session_cookie}, response_url=aiohttp.client.URL(url))
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.url = url
        self.messages: asyncio.Queue[Any] = asyncio.Queue()
        self.sio.on("message", self.messages.put_nowait)

    async def connect(self) -> None:
        await self.sio.connect(self.url, transports=["polling"], wait_timeout=20)

    @property
    def instance(self) -> str:
        cookies = {c.key: c.value for c in self.http.cookie_jar}
        return cookies[STICKY_COOKIE]

    async def close(self) -> None:
        await self.sio.disconnect()
        await self.http.close()


@pytest.fixture
async def clients(balancer: str) -> AsyncIterator[list[PollingClient]]:
    opened: list[PollingClient] = []
    async with httpx.AsyncClient(base_url=balancer, timeout=20) as http:
        cookie = await register_and_login(http, f"u_{secrets.token_hex(4)}")
    try:
        # Round-robin places new clients in turn: open until two sit on different instances.
        while len({c.instance for c in opened}) < 2 and len(opened) < 6:
            client = PollingClient(balancer, cookie)
            opened.append(client)
            await client.connect()
        yield list({c.instance: c for c in opened}.values())
    finally:
        for client in opened:
            await client.close()


async def test_long_polling_clients_stay_on_their_instance_and_hear_each_other(
    clients: list[PollingClient],
) -> None:
    sender, receiver = clients[:2]
    assert sender.instance != receiver.instance
    for client in (sender, receiver):
        joined = await client.sio.call("join", {"room": "general"}, timeout=20)
        assert joined["ok"] is True, joined
    payload = {"room": "general", "text": "across", "clientId": "rc-1"}
    ack = await sender.sio.call("message", payload, timeout=20)
    assert ack["ok"] is True, ack
    heard = await asyncio.wait_for(receiver.messages.get(), 20)
    assert heard["id"] == ack["message"]["id"]
