"""What an idle authenticated socket keeps in the server (bench/socket_memory.py measures its
size): against the app served in this process, so the test can look at the server's objects
for a real WebSocket. Its queues and events hold no container while nothing waits in them, and
nothing keeps the handshake's headers; the socket still works afterwards."""

from __future__ import annotations

import gc
from typing import Any

from engineio.async_socket import AsyncSocket

from parley.realtime.slim import SlimEvent, SlimQueue
from tests.unit.realtime.conftest import Person, Tab


def server_socket(eio_sid: str) -> AsyncSocket:
    found = [o for o in gc.get_objects() if isinstance(o, AsyncSocket) and o.sid == eio_sid]
    assert len(found) == 1, found
    return found[0]


async def test_an_idle_socket_holds_no_queue_container_and_no_handshake(
    person: Person, open_tab: Tab
) -> None:
    tab = await open_tab(person)
    await tab.join()
    sock = server_socket(tab.sio.eio.sid)

    assert isinstance(sock.queue, SlimQueue)
    assert sock.queue._items is None
    direct = sock.parley_direct
    assert direct is not None  # uvicorn's websockets-sansio protocol, written to directly
    protocol: Any = direct.protocol
    assert protocol.request is None
    assert protocol.response is None
    parser = protocol.conn.parser.gi_frame.f_locals  # websockets' parser keeps the request
    assert len(parser["request"].headers) == 0
    assert isinstance(protocol.queue, SlimQueue)
    assert isinstance(protocol.writable, SlimEvent)
    assert protocol.writable.is_set()
    assert protocol.scope["headers"] == []

    # Still a working socket: an event in, its ack and a broadcast out.
    ack = await tab.send("after the slimming")
    assert ack["ok"] is True
    assert (await tab.next("message"))["text"] == "after the slimming"
    assert sock.queue._items is None
