"""A socket that stops reading is disconnected once more than MAX_BUFFERED_BYTES wait for it
(parley/realtime/fanout.py: its transport's buffer plus its queue), and what waits never grows
past that by more than one packet; against the app served in this process, so the test can
watch the server's buffers."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from collections.abc import Iterable

import pytest

from parley.realtime import fanout
from parley.realtime.fanout import Fanout
from parley.realtime.protocol import waiting_bytes
from tests.unit.realtime.conftest import InProcessServer, Person, Tab, sign_up

BOUND = 256 * 1024  # the test's bound, so the flood that fills the TCP buffers first stays small
PACKET = 64 * 1024  # more than the largest packet


async def test_a_socket_that_stops_reading_is_disconnected(
    chat_server: InProcessServer, person: Person, open_tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "MAX_BUFFERED_BYTES", BOUND)
    deepest: dict[str, int] = {}
    fanouts: list[Fanout] = []
    deliver = Fanout.deliver

    def watched(self: Fanout, eio_sids: Iterable[str], text: str) -> None:
        eio_sids = list(eio_sids)
        if not fanouts:
            fanouts.append(self)
        deliver(self, eio_sids, text)
        for eio_sid in eio_sids:
            sock = self._sockets.get(eio_sid)
            if sock is not None:
                deepest[eio_sid] = max(deepest.get(eio_sid, 0), waiting_bytes(sock))

    monkeypatch.setattr(Fanout, "deliver", watched)

    # A raw WebSocket client with a small receive buffer that joins, then never reads again.
    reader, writer = await raw_websocket(chat_server, person.cookie)
    opened = await read_frame(reader)
    eio_sid = opened.split('"sid":"')[1].split('"')[0]
    write_frame(writer, "40")
    assert (await read_frame(reader)).startswith("40")
    write_frame(writer, '421["join",{"room":"general"}]')
    while not (await read_frame(reader)).startswith("431["):  # after a presence event
        pass
    # From here it reads nothing.

    flooders = [await open_tab(await sign_up(chat_server)) for _ in range(4)]
    for flooder in flooders:
        await flooder.join()
    text = "😀" * 4000  # ~48 KiB a packet on the wire
    sent = 0
    while not fanouts or eio_sid in fanouts[0]._sockets:
        acks = await asyncio.gather(*(flooder.send(text) for flooder in flooders))
        assert all(ack["ok"] for ack in acks), acks
        sent += len(acks)
        assert sent < 2000, "never disconnected"
    assert max(deepest.values()) <= BOUND + PACKET
    assert deepest[eio_sid] > BOUND - PACKET  # disconnected for its bound, not otherwise
    assert fanouts[0].direct_writes > 0  # written straight to the transport while it kept up
    assert fanouts[0].queued > 0  # and queued behind once its transport was paused
    # Reading again, the client finds the end of its connection.
    async with asyncio.timeout(30):
        try:
            while await reader.read(1 << 20):
                pass
        except ConnectionResetError:
            pass  # its buffered frames were dropped with the connection
    writer.close()
    # The others never noticed.
    assert (await flooders[0].send("still here"))["ok"] is True


async def raw_websocket(
    server: InProcessServer, cookie: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Cookie: parley_session={cookie}\r\n\r\n"
        ).encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    return reader, writer


def write_frame(writer: asyncio.StreamWriter, text: str) -> None:
    data, mask = text.encode(), os.urandom(4)
    assert len(data) < 126
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
    writer.write(bytes([0x81, 0x80 | len(data)]) + mask + masked)


async def read_frame(reader: asyncio.StreamReader) -> str:
    head = await reader.readexactly(2)
    size = head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", await reader.readexactly(8))[0]
    return (await reader.readexactly(size)).decode()
