"""A test chat client: python-socketio's AsyncClient over a real WebSocket, recording events."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from typing import Any, Protocol

import socketio


class Server(Protocol):
    """An app process (tests.servers.AppServer) or an app served in the test's own process."""

    @property
    def url(self) -> str: ...


class ChatClient:
    def __init__(self, server: Server, cookie: str | None) -> None:
        self.server = server
        self.cookie = cookie
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queues: defaultdict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.connect_error: Any = None
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("disconnect", self._on_disconnect)

    async def _record(self, event: str, data: Any = None) -> None:
        self.queues[event].put_nowait(data)

    async def _on_connect_error(self, data: Any) -> None:
        self.connect_error = data

    async def _on_disconnect(self, *_: Any) -> None:
        self.disconnected.set()

    async def connect(
        self, *, origin: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        headers = dict(headers or {})
        if self.cookie is not None:
            headers["Cookie"] = f"parley_session={self.cookie}"
        if origin is not None:
            headers["Origin"] = origin
        try:
            await self.sio.connect(
                self.server.url, headers=headers, transports=["websocket"], wait_timeout=10
            )
        except socketio.exceptions.ConnectionError:
            await self._close_http()  # a refused handshake leaves Engine.IO's session open
            raise

    async def call(self, event: str, data: Any = None, timeout: float = 15) -> Any:
        if data is None:
            return await self.sio.call(event, timeout=timeout)
        return await self.sio.call(event, data, timeout=timeout)

    async def join(self, room: str = "general", limit: int | None = None) -> list[dict[str, Any]]:
        payload: dict[str, Any] = {"room": room}
        if limit is not None:
            payload["limit"] = limit
        ack = await self.call("join", payload)
        assert ack["ok"] is True, ack
        messages: list[dict[str, Any]] = ack["messages"]
        return messages

    async def send(self, text: str, room: str = "general", client_id: str | None = None) -> Any:
        payload = {"room": room, "text": text, "clientId": client_id or secrets.token_hex(8)}
        return await self.call("message", payload)

    async def next(self, event: str, timeout: float = 5) -> Any:
        return await asyncio.wait_for(self.queues[event].get(), timeout)

    def drain(self, event: str) -> list[Any]:
        items = []
        queue = self.queues[event]
        while not queue.empty():
            items.append(queue.get_nowait())
        return items

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        await self._close_http()

    async def _close_http(self) -> None:
        http = getattr(self.sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()
