"""A lean Socket.IO client for load generation: one aiohttp WebSocket per connection speaking
Engine.IO v4 / Socket.IO v5 text frames directly, instead of python-socketio's AsyncClient
(which costs several tasks, queues and a per-packet reader object per connection).

Frames (text, default namespace "/"):
  server `0{"sid", "pingInterval", "pingTimeout", ...}`  Engine.IO open
  client `40` or `40{auth}`                              Socket.IO connect
  server `40{"sid"}` / `44{"message"}`                   connected / refused
  client `42<id>["event", data]`                         event (with an ack id when <id> given)
  server `43<id>[data]`                                  ack of our event
  server `42["event", data]`                             event from the server
  server `2` → client `3`                                Engine.IO ping / pong (EIO v4: the
                                                         server pings; missing pongs for
                                                         pingInterval + pingTimeout = closed)
  server `41` / `1`                                      namespace disconnect / transport close
Only text frames are used: neither Parley nor the baseline sends binary payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

import aiohttp
import orjson

# Per-address limits (parley/realtime/limits.py: 200 sockets per address) apply to hundreds of
# simulated users on 127.0.0.1 too. Each gets an address of its own in the client-IP header
# (PARLEY_CLIENT_IP_HEADER in bench/stack.py), which counts only with the origin secret beside
# it, as the trusted front (CloudFront) sends it in production.
BENCH_ADDRESS_HEADER = "X-Bench-Client"
BENCH_ORIGIN_SECRET = "parley-bench-origin"  # the bench's own servers only


def client_address(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def address_headers(i: int) -> dict[str, str]:
    return {BENCH_ADDRESS_HEADER: client_address(i), "X-Parley-Origin-Verify": BENCH_ORIGIN_SECRET}


EventHandler = Callable[["LeanSocket", str, Any, int], None]
AckHandler = Callable[[Any, int], None]


class ConnectRefused(Exception):
    """The server refused the Socket.IO connect (`44{"message": ...}`) or the handshake."""


def socketio_url(base_url: str) -> str:
    ws = base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1).rstrip("/")
    return f"{ws}/socket.io/?EIO=4&transport=websocket"


class LeanSocket:
    """One connection. `on_event(socket, name, data, recv_ns)` is called synchronously from
    the reader task for every server event; keep it cheap."""

    __slots__ = (
        "_acks",
        "_next_ack",
        "_reader",
        "_ws",
        "closed",
        "disconnect_reason",
        "on_event",
        "ping_interval",
        "pings",
        "sid",
        "tag",
    )

    def __init__(self, on_event: EventHandler | None = None, tag: int = 0) -> None:
        self.on_event = on_event
        self.tag = tag  # the caller's index for this connection
        self.sid = ""
        self.ping_interval = 0.0
        self.pings = 0
        self.closed = asyncio.Event()
        self.disconnect_reason = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._acks: dict[int, AckHandler | asyncio.Future[Any]] = {}
        self._next_ack = 0

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self.closed.is_set()

    async def connect(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        cookie: str | None = None,
        cookie_name: str = "parley_session",
        limit_s: float = 20.0,
        compress: int = 0,
    ) -> None:
        """`compress=15` offers permessage-deflate as browsers do (the server then keeps zlib
        state per connection and compresses every frame for each recipient)."""
        headers = address_headers(self.tag)
        if cookie:
            headers["Cookie"] = f"{cookie_name}={cookie}"
        async with asyncio.timeout(limit_s):
            ws = await session.ws_connect(
                socketio_url(base_url),
                headers=headers,
                autoping=True,
                compress=compress,
                max_msg_size=4 * 1024 * 1024,
            )
            self._ws = ws
            try:
                opened = await ws.receive_str()
                if not opened.startswith("0"):
                    raise ConnectRefused(f"expected Engine.IO open, got {opened[:80]!r}")
                self.ping_interval = orjson.loads(opened[1:])["pingInterval"] / 1000
                await ws.send_str("40")
                while True:
                    frame = await ws.receive_str()
                    if frame == "2":  # a ping can precede the connect reply
                        await ws.send_str("3")
                        continue
                    if frame.startswith("40"):
                        self.sid = orjson.loads(frame[2:]).get("sid", "") if len(frame) > 2 else ""
                        break
                    if frame.startswith("44"):
                        detail = orjson.loads(frame[2:]) if len(frame) > 2 else {}
                        raise ConnectRefused(str(detail.get("message", detail)))
                    raise ConnectRefused(f"unexpected frame during connect: {frame[:80]!r}")
            except BaseException:
                await ws.close()
                self._ws = None
                raise
        self._reader = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    if msg.type is aiohttp.WSMsgType.ERROR:
                        self.disconnect_reason = f"websocket error: {ws.exception()}"
                    continue
                self._dispatch(msg.data, ws)
        except Exception as exc:  # a broken connection ends the reader, not the run
            self.disconnect_reason = f"reader failed: {exc!r}"
        finally:
            if not self.disconnect_reason:
                self.disconnect_reason = f"closed (code {ws.close_code})"
            self.closed.set()
            for pending in self._acks.values():
                if isinstance(pending, asyncio.Future) and not pending.done():
                    pending.set_exception(ConnectionError(self.disconnect_reason))
            self._acks.clear()

    def _dispatch(self, frame: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        kind = frame[0]
        if kind == "4":  # Engine.IO message: a Socket.IO packet follows
            packet = frame[1:2]
            if packet == "2":
                if self.on_event is None:
                    return
                recv_ns = monotonic_ns()
                body = frame[2:]
                start = body.find("[")
                args = orjson.loads(body[start:])
                self.on_event(self, args[0], args[1] if len(args) > 1 else None, recv_ns)
            elif packet == "3":
                recv_ns = monotonic_ns()
                body = frame[2:]
                start = body.find("[")
                ack_id = int(body[:start])
                handler = self._acks.pop(ack_id, None)
                if handler is None:
                    return
                args = orjson.loads(body[start:])
                data = args[0] if args else None
                if isinstance(handler, asyncio.Future):
                    if not handler.done():
                        handler.set_result(data)
                else:
                    handler(data, recv_ns)
            elif packet == "1":
                self.disconnect_reason = "disconnected by the server"
                asyncio.get_running_loop().create_task(ws.close())
        elif kind == "2":  # Engine.IO ping: answer at once, or the server drops us
            self.pings += 1
            asyncio.get_running_loop().create_task(_send_quietly(ws, "3" + frame[1:]))
        elif kind == "1":
            self.disconnect_reason = "Engine.IO close"
            asyncio.get_running_loop().create_task(ws.close())

    def _frame(self, event: str, data: Any, ack_id: int | None) -> str:
        payload = orjson.dumps([event, data] if data is not None else [event]).decode()
        return f"42{ack_id}{payload}" if ack_id is not None else f"42{payload}"

    async def emit(self, event: str, data: Any = None, on_ack: AckHandler | None = None) -> None:
        """Send an event; `on_ack(data, recv_ns)` runs when its ack arrives."""
        if self._ws is None:
            raise ConnectionError("not connected")
        ack_id = None
        if on_ack is not None:
            ack_id = self._next_ack
            self._next_ack += 1
            self._acks[ack_id] = on_ack
        await self._ws.send_str(self._frame(event, data, ack_id))

    async def call(self, event: str, data: Any = None, limit_s: float = 30.0) -> Any:
        """Send an event and wait for its ack."""
        if self._ws is None:
            raise ConnectionError("not connected")
        ack_id = self._next_ack
        self._next_ack += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self._ws.send_str(self._frame(event, data, ack_id))
        try:
            return await asyncio.wait_for(future, limit_s)
        finally:
            self._acks.pop(ack_id, None)

    async def close(self) -> None:
        ws = self._ws
        if ws is None:
            return
        if not ws.closed:
            with contextlib.suppress(Exception):
                await ws.send_str("41")
            with contextlib.suppress(Exception):
                await ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


async def _send_quietly(ws: aiohttp.ClientWebSocketResponse, frame: str) -> None:
    """A pong racing the connection's close is not an error worth a traceback."""
    with contextlib.suppress(Exception):
        await ws.send_str(frame)
