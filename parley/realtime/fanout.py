"""Fan-out: one broadcast encoded and framed once, written to every idle recipient's transport.

python-socketio hands a broadcast to each recipient's Engine.IO queue, whose writer task then
wakes, encodes the packet again, and goes through the ASGI `send` and the WebSocket library to
frame it: some 40 µs of one core per recipient, most of the server's time under fan-out
(issue #13). Here the Engine.IO packet is encoded once and framed once as a WebSocket text
frame, and for each recipient whose WebSocket is idle (nothing queued, its writer not
mid-send, the transport not paused by its high-water mark) the same bytes are written straight
to the transport: no task wakes and nothing is allocated per recipient. A socket that is not
idle gets the packet in its queue behind what is there (order kept), as does a long-polling
socket (Engine.IO's own path).

Backpressure: what one socket has waiting, in its transport's write buffer plus its queue, is
bounded by MAX_BUFFERED_BYTES; a socket past it has stopped reading and is disconnected at once,
its buffers dropped (its client reconnects and catches up over HTTP, docs/reference.md).

Reaching the transport below the ASGI `send` is the one place that depends on the server's
internals: uvicorn's `websockets-sansio` protocol (its default), recognised from the `send`
callable the ASGI app receives. Under any other server or protocol every socket takes the
queue path, which is correct everywhere, only slower.

The same protocol is slimmed once its upgrade is answered (`slim_protocol`): it lets go of the
handshake's request and response, and its receive queue and `writable` event become
parley/realtime/slim.py's, which hold nothing while idle (bench/socket_memory.py)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

from parley.realtime.slim import SlimEvent, SlimQueue

# Bytes one socket may have waiting (transport write buffer + queued broadcasts) before it is
# disconnected as not reading. Typical chat packets are a few hundred bytes, so 1 MiB is some
# thousands of messages (many seconds of the busiest room measured) and 20 of the largest
# (~48 KiB in Socket.IO's ASCII-escaped JSON). At most this plus one batch its writer holds.
MAX_BUFFERED_BYTES = 1 << 20

_TEXT = 0x81  # FIN + text opcode; a server's frames are not masked (RFC 6455 5.1)


def text_frame(payload: bytes) -> bytes:
    """One unmasked, unfragmented WebSocket text frame."""
    size = len(payload)
    if size < 126:
        header = bytes((_TEXT, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", _TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT, 127, size)
    return header + payload


def _sansio_protocol(asgi_send: Any) -> Any | None:
    """uvicorn's websockets-sansio protocol behind an ASGI `send`, or None under another."""
    protocol: Any = getattr(asgi_send, "__self__", None)
    return protocol if type(protocol).__name__ == "WebSocketsSansIOProtocol" else None


def slim_protocol(protocol: Any) -> None:
    """Once uvicorn has sent the upgrade's response (`websocket.accept`), nothing reads the
    handshake's `request` and `response` again (they hold its headers twice), and its
    receive queue (put_nowait, get, empty) and `writable` event (set, clear, is_set, wait)
    are unbounded queue and plain event: the slim ones behave the same (test_slim.py)."""
    if not protocol.handshake_complete:
        return
    request = getattr(protocol, "request", None)
    if request is not None:
        # websockets' parser generator keeps the request in a local for as long as the
        # connection is open, though it never reads it again after the handshake.
        request.headers.clear()
    protocol.request = protocol.response = None
    queue = SlimQueue()
    while not protocol.queue.empty():  # what the client sent already, in order
        queue.put_nowait(protocol.queue.get_nowait())
    protocol.queue = queue
    writable = SlimEvent()
    if protocol.writable.is_set():
        writable.set()
    protocol.writable = writable


class _SizedPacket(eio_packet.Packet):  # type: ignore[misc]
    """A queued broadcast, counted in its socket's queued bytes until its writer takes it."""

    def __init__(self, data: str, size: int) -> None:
        super().__init__(eio_packet.MESSAGE, data=data)
        self.size = size


class DirectWriter:
    """The transport under one socket's WebSocket (uvicorn's websockets-sansio protocol), and
    whether its Engine.IO writer is in the middle of a send."""

    __slots__ = ("protocol", "sending", "transport")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.transport: asyncio.Transport = protocol.transport
        self.sending = 0

    @classmethod
    def of(cls, asgi_send: Callable[..., Awaitable[None]]) -> DirectWriter | None:
        protocol = _sansio_protocol(asgi_send)
        if protocol is None:
            return None
        if protocol.conn.extensions:  # a compressing connection frames its own messages
            return None
        return cls(protocol)

    def ready(self) -> bool:
        """Whether a frame written now goes out after everything sent before it."""
        protocol = self.protocol
        return (
            self.sending == 0
            and protocol.writable.is_set()
            and not protocol.close_sent
            and not protocol.disconnected
            and not self.transport.is_closing()
        )

    def wrap(self, send: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        async def counted(message: Any) -> None:
            self.sending += 1
            try:
                await send(message)
            finally:
                self.sending -= 1

        return counted


def queued_bytes(socket: AsyncSocket) -> int:
    return int(getattr(socket, "parley_queued_bytes", 0))


def took(socket: AsyncSocket, pkt: Any) -> None:
    """The writer took `pkt` from the queue (parley/realtime/engine.py's poll)."""
    size = getattr(pkt, "size", 0)
    if size:
        socket.parley_queued_bytes = queued_bytes(socket) - size


def use_direct_writes() -> None:
    """Every WebSocket that Engine.IO serves from now on is slimmed and records its
    DirectWriter, if any."""
    if getattr(AsyncSocket, "_parley_direct_installed", False):
        return
    handler = AsyncSocket._websocket_handler

    async def websocket_handler(self: AsyncSocket, ws: Any) -> Any:
        asgi_send = getattr(ws, "asgi_send", None)
        protocol = _sansio_protocol(asgi_send)
        if protocol is not None:
            slim_protocol(protocol)
        direct = DirectWriter.of(asgi_send)  # type: ignore[arg-type]
        if direct is not None:
            ws.send = direct.wrap(ws.send)
            self.parley_direct = direct
        try:
            return await handler(self, ws)
        finally:
            self.parley_direct = None

    AsyncSocket._websocket_handler = websocket_handler
    AsyncSocket._parley_direct_installed = True


class Fanout:
    """Delivers one Engine.IO message packet to many sockets of this process."""

    def __init__(
        self,
        sockets: dict[str, AsyncSocket],
        drop: Callable[[str, AsyncSocket], Coroutine[Any, Any, None]],
    ) -> None:
        self._sockets = sockets
        self._drop = drop
        self._dropping: set[asyncio.Task[None]] = set()
        self.direct_writes = 0  # counters for tests and the benchmark's profile
        self.queued = 0

    def deliver(self, eio_sids: Iterable[str], text: str) -> None:
        """`text` is the encoded Socket.IO packet; each socket gets it as an Engine.IO
        MESSAGE, in the order deliveries are made."""
        frame = text_frame(("4" + text).encode())  # "4": Engine.IO's MESSAGE
        size = len(frame)
        sockets = self._sockets
        for eio_sid in eio_sids:
            socket = sockets.get(eio_sid)
            if socket is None or socket.closed or socket.closing:
                continue
            direct: DirectWriter | None = getattr(socket, "parley_direct", None)
            if (
                direct is not None
                and socket.upgraded
                and not socket.upgrading
                and socket.queue.empty()
                and direct.ready()
            ):
                transport = direct.transport
                transport.write(frame)
                self.direct_writes += 1
                if transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
                    self._disconnect(eio_sid, socket)
                continue
            waiting = queued_bytes(socket) + size
            if direct is not None:
                waiting += direct.transport.get_write_buffer_size()
            if waiting > MAX_BUFFERED_BYTES:
                self._disconnect(eio_sid, socket)
                continue
            socket.parley_queued_bytes = queued_bytes(socket) + size
            socket.queue.put_nowait(_SizedPacket(text, size))
            self.queued += 1

    def _disconnect(self, eio_sid: str, socket: AsyncSocket) -> None:
        """Off this process's sockets at once (later deliveries skip it), then closed."""
        self._sockets.pop(eio_sid, None)
        task = asyncio.get_running_loop().create_task(self._drop(eio_sid, socket))
        self._dropping.add(task)
        task.add_done_callback(self._dropping.discard)

    async def settle(self) -> None:
        """Wait for the disconnects under way (tests, shutdown)."""
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._dropping)
