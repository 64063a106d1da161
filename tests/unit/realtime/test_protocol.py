"""Only the client events the interface names reach the chat handlers; a packet python-socketio
cannot decode gets an error ack where it carries an ack id (parley/realtime/protocol.py)."""

from __future__ import annotations

import asyncio

import engineio
import pytest

from tests.unit.realtime.conftest import InProcessServer, Person, Tab


@pytest.mark.parametrize("name", ["hello", "connect", "disconnect", "message_"])
async def test_an_unknown_event_gets_an_error_ack(person: Person, open_tab: Tab, name: str) -> None:
    tab = await open_tab(person)
    assert await tab.call(name, {"room": "general"}) == {
        "ok": False,
        "error": "unknown event",
        "code": "not_found",
    }
    assert (await tab.call("join", {"room": "general"}))["ok"] is True


async def test_a_number_too_big_for_json_gets_an_error_ack(person: Person, open_tab: Tab) -> None:
    tab = await open_tab(person)
    payload = {"room": "general", "text": "hi", "clientId": "c1", "n": 10**100}
    assert await tab.call("message", payload) == {
        "ok": False,
        "error": "payload is not plain JSON",
        "code": "invalid",
    }


async def test_undecodable_packets_leave_the_server_serving(
    chat_server: InProcessServer, person: Person, open_tab: Tab
) -> None:
    raw = engineio.AsyncClient()
    await raw.connect(chat_server.url, transports=["websocket"], engineio_path="socket.io")
    try:
        for packet in ("2[", "9", '51-["join",{"_placeholder":true,"num":0}]', "2[]"):
            await raw.send(packet)
        await asyncio.sleep(0.2)
    finally:
        await raw.disconnect()
    tab = await open_tab(person)
    assert (await tab.call("join", {"room": "general"}))["ok"] is True
