"""The Fanout (parley/realtime/fanout.py): one frame written straight to each idle socket's
transport, queued behind anything already waiting, bounded in bytes. Real Engine.IO sockets
and a real transport (one end of a socket pair); the WebSocket protocol object under it is the
few attributes of uvicorn's that the Fanout reads."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import engineio
import pytest
from engineio.async_socket import AsyncSocket

from parley.realtime import fanout
from parley.realtime.engine import _poll
from parley.realtime.fanout import DirectWriter, Fanout, queued_bytes, text_frame


@dataclass
class Protocol:
    transport: asyncio.Transport
    writable: asyncio.Event = field(default_factory=asyncio.Event)
    close_sent: bool = False
    disconnected: bool = False


@dataclass
class Peer:
    """A socket whose transport's far end this test reads."""

    sock: AsyncSocket
    direct: DirectWriter
    reader: asyncio.StreamReader


@pytest.fixture
async def peers() -> AsyncIterator[tuple[dict[str, AsyncSocket], list[Peer], list[str]]]:
    server = engineio.AsyncServer()
    sockets: dict[str, AsyncSocket] = {}
    made: list[Peer] = []
    writers: list[asyncio.StreamWriter] = []
    for i in range(2):
        near, far = socket.socketpair()
        transport, _ = await asyncio.get_running_loop().connect_accepted_socket(
            asyncio.Protocol, near
        )
        reader, writer = await asyncio.open_connection(sock=far)
        writers.append(writer)
        protocol = Protocol(transport)  # type: ignore[arg-type]
        protocol.writable.set()
        direct = DirectWriter(protocol)
        sock = AsyncSocket(server, f"s{i}")
        sock.connected = sock.upgraded = True
        sock.parley_direct = direct
        sockets[sock.sid] = sock
        made.append(Peer(sock, direct, reader))
    dropped: list[str] = []
    yield sockets, made, dropped
    for peer in made:
        peer.direct.transport.close()
    for writer in writers:
        writer.close()


async def read_text_frame(reader: asyncio.StreamReader) -> str:
    head = await reader.readexactly(2)
    assert head[0] == 0x81  # FIN, text
    size = head[1]
    assert size & 0x80 == 0  # not masked
    if size == 126:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", await reader.readexactly(8))[0]
    return (await reader.readexactly(size)).decode()


def make_fanout(sockets: dict[str, AsyncSocket], dropped: list[str]) -> Fanout:
    async def drop(eio_sid: str, sock: AsyncSocket) -> None:
        dropped.append(eio_sid)

    return Fanout(sockets, drop)


@pytest.mark.parametrize("size", [1, 125, 126, 65535, 65536, 100_000])
def test_a_text_frame_carries_its_length(size: int) -> None:
    payload = b"x" * size
    frame = text_frame(payload)
    assert frame.endswith(payload)
    header = frame[: len(frame) - size]
    assert header[0] == 0x81
    if size < 126:
        assert header[1:] == bytes([size])
    elif size < 65536:
        assert header[1:] == bytes([126]) + struct.pack("!H", size)
    else:
        assert header[1:] == bytes([127]) + struct.pack("!Q", size)


async def test_idle_sockets_get_the_same_frame_written_directly(peers: Any) -> None:
    sockets, made, dropped = peers
    out = make_fanout(sockets, dropped)
    text = '2["message",' + json.dumps({"text": "hi"}) + "]"
    out.deliver(list(sockets), text)
    for peer in made:
        assert await read_text_frame(peer.reader) == "4" + text
        assert peer.sock.queue.empty()
    assert out.direct_writes == 2
    assert out.queued == 0


async def test_a_socket_with_something_queued_gets_the_broadcast_behind_it(peers: Any) -> None:
    sockets, made, dropped = peers
    out = make_fanout(sockets, dropped)
    busy, idle = made
    first = engineio.packet.Packet(engineio.packet.MESSAGE, "0first")
    busy.sock.queue.put_nowait(first)
    out.deliver(list(sockets), "2second")
    assert await read_text_frame(idle.reader) == "42second"
    assert busy.sock.queue.qsize() == 2
    assert queued_bytes(busy.sock) > 0
    taken = await _poll(busy.sock)  # what its writer sends next, in order
    assert [p.encode() for p in taken] == ["40first", "42second"]
    assert queued_bytes(busy.sock) == 0


@pytest.mark.parametrize("state", ["sending", "paused", "closing"])
async def test_a_socket_not_ready_for_a_direct_write_is_queued(peers: Any, state: str) -> None:
    sockets, made, dropped = peers
    out = make_fanout(sockets, dropped)
    peer = made[0]
    if state == "sending":
        peer.direct.sending = 1  # its writer is inside the ASGI send
    elif state == "paused":
        peer.direct.protocol.writable.clear()  # over the transport's high-water mark
    else:
        peer.direct.protocol.close_sent = True
    out.deliver([peer.sock.sid], "2x")
    assert peer.sock.queue.qsize() == 1
    assert out.direct_writes == 0


async def test_a_socket_over_the_byte_bound_is_dropped(
    peers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sockets, made, dropped = peers
    monkeypatch.setattr(fanout, "MAX_BUFFERED_BYTES", 1000)
    out = make_fanout(sockets, dropped)
    slow, other = made
    slow.direct.protocol.writable.clear()  # it stopped reading: everything is queued
    for _ in range(4):
        out.deliver(list(sockets), "2" + "y" * 300)
    await out.settle()
    assert dropped == [slow.sock.sid]
    assert slow.sock.sid not in sockets
    assert queued_bytes(slow.sock) <= 1000
    for _ in range(4):
        assert (await read_text_frame(other.reader)).startswith("42yyy")


def test_only_uvicorns_sansio_protocol_is_written_to_directly() -> None:
    async def send(message: Any) -> None:
        return None

    assert DirectWriter.of(send) is None
    assert DirectWriter.of(Protocol.__init__) is None
