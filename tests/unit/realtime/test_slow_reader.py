"""A socket that stops reading is disconnected once its outgoing queue reaches
MAX_QUEUED_PACKETS (parley/realtime/protocol.py), and its queue never grows past that; against
the app served in this process, so the test can watch the server's queue."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import websockets

from parley.realtime import protocol
from parley.realtime.protocol import GuardedServer
from tests.unit.realtime.conftest import InProcessServer, Person, Tab, sign_up

BOUND = 32  # the test's bound, so the flood that fills the TCP buffers first stays small


async def test_a_socket_that_stops_reading_is_disconnected(
    chat_server: InProcessServer, person: Person, open_tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "MAX_QUEUED_PACKETS", BOUND)
    deepest: dict[str, int] = {}
    servers: list[GuardedServer] = []
    send = GuardedServer._send_eio_packet

    async def watched(self: GuardedServer, eio_sid: str, eio_pkt: Any) -> None:
        await send(self, eio_sid, eio_pkt)
        if not servers:
            servers.append(self)
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:
            deepest[eio_sid] = max(deepest.get(eio_sid, 0), sock.queue.qsize())

    monkeypatch.setattr(GuardedServer, "_send_eio_packet", watched)

    # A raw client with a small receive buffer that joins, then never reads again.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = chat_server.url.removeprefix("http://").split(":")
    raw.connect((host, int(port)))
    raw.setblocking(False)
    ws = await websockets.connect(
        f"ws://{host}:{port}/socket.io/?EIO=4&transport=websocket",
        sock=raw,
        additional_headers={"Cookie": f"parley_session={person.cookie}"},
        max_queue=1,
        ping_interval=None,
    )
    opened = await ws.recv()
    assert isinstance(opened, str)
    eio_sid = opened.split('"sid":"')[1].split('"')[0]
    await ws.send("40")
    assert str(await ws.recv()).startswith("40")
    await ws.send('421["join",{"room":"general"}]')
    assert str(await ws.recv()).startswith("431[")  # its ack; from here it reads nothing

    flooders = [await open_tab(await sign_up(chat_server)) for _ in range(4)]
    for flooder in flooders:
        await flooder.join()
    text = "😀" * 4000  # ~48 KiB a packet on the wire
    sent = 0
    while eio_sid in servers[0].eio.sockets if servers else True:
        acks = await asyncio.gather(*(flooder.send(text) for flooder in flooders))
        assert all(ack["ok"] for ack in acks), acks
        sent += len(acks)
        assert sent < 2000, "never disconnected"
    assert max(deepest.values()) <= BOUND
    assert deepest[eio_sid] == BOUND
    # Reading again, the client finds the end of its connection.
    async with asyncio.timeout(30):
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await ws.recv()
    # The others never noticed.
    assert (await flooders[0].send("still here"))["ok"] is True
