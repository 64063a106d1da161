"""Malformed events get an error ack and never cost the connection; the per-user rate limit;
what the transport refuses before decoding (oversized frames, connections that never become a
Socket.IO socket)."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from typing import Any
from urllib.parse import urlsplit

import pytest
import websockets

from parley.realtime.server import MAX_PACKET_BYTES
from tests.conftest import Connect, Signup, StartApp
from tests.realtime.client import ChatClient
from tests.servers import AppServer

# Over the 32 KiB an event may have, within the 64 KiB a packet may have: refused by an ack.
OVERSIZED = "x" * (40 * 1024)

BAD_PAYLOADS: list[tuple[str, Any, str]] = [
    ("join", None, "payload must be one object"),
    ("join", "general", "payload must be one object"),
    ("join", ["general"], "payload must be one object"),
    ("join", {}, "room: Field required"),
    ("join", {"room": 5}, "room: Input should be a valid string"),
    ("join", {"room": ""}, "room: String should have at least 1 character"),
    ("join", {"room": "no-such-room"}, "No room 'no-such-room'"),
    ("join", {"room": OVERSIZED}, "payload too large"),
    ("join", {"room": "general", "extra": 1}, "extra: Extra inputs are not permitted"),
    ("leave", {"room": None}, "room: Input should be a valid string"),
    ("message", {"room": "general", "text": "hi"}, "clientId: Field required"),
    ("message", {"room": "general", "text": "hi", "clientId": ""}, "clientId: String should"),
    ("message", {"room": "general", "text": "hi", "clientId": "c" * 65}, "clientId: String"),
    ("message", {"room": "general", "text": "   ", "clientId": "c1"}, "text: must be 1-4000"),
    ("message", {"room": "general", "text": "y" * 4001, "clientId": "c2"}, "text: must be"),
    ("message", {"room": "general", "text": OVERSIZED, "clientId": "c3"}, "payload too large"),
    ("message", {"room": "general", "text": 42, "clientId": "c4"}, "text: Input should be"),
    ("message", {"room": "elsewhere", "text": "hi", "clientId": "c5"}, "Join room 'elsewhere'"),
    ("message", {"room": "general", "text": {"$gt": ""}, "clientId": "c6"}, "text: Input"),
    ("typing", {"room": 1.5}, "room: Input should be a valid string"),
    ("typing", {"room": "not-joined"}, "Join room 'not-joined' first"),
]
# The code of each refusal above, by the start of its message; all the others are "invalid".
CODES = {"No room": "not_found", "payload too large": "too_large", "Join room": "not_joined"}


def code_of(error: str) -> str:
    return next((code for start, code in CODES.items() if error.startswith(start)), "invalid")


@pytest.mark.parametrize(("event", "payload", "error"), BAD_PAYLOADS)
async def test_malformed_events_get_an_error_ack(
    signup: Signup, connect: Connect, event: str, payload: Any, error: str
) -> None:
    client = await connect(await signup())
    await client.join()
    ack = await client.call(event, payload)
    assert ack["ok"] is False
    assert ack["error"].startswith(error), ack
    assert ack["code"] == code_of(error), ack
    # The connection is still good.
    assert (await client.send("still here"))["ok"] is True


async def test_text_of_exactly_4000_characters_is_accepted(
    signup: Signup, connect: Connect
) -> None:
    client = await connect(await signup())
    await client.join()
    text = "😀" * 4000  # 4000 code points, 16000 bytes
    ack = await client.send(f"  {text}\n")
    assert ack["ok"] is True
    assert ack["message"]["text"] == text


async def test_a_flood_of_bad_events_does_not_hurt_others(signup: Signup, connect: Connect) -> None:
    attacker, bystander = await connect(await signup()), await connect(await signup())
    await bystander.join()
    acks = await asyncio.gather(*(attacker.call(e, p) for e, p, _ in BAD_PAYLOADS * 3))
    assert all(ack["ok"] is False for ack in acks)
    assert (await bystander.send("fine"))["ok"] is True


async def test_rate_limit_burst_then_steady(start_server: StartApp, signup: Signup) -> None:
    # One token every 5 s: a slow machine cannot earn one back in the middle of the burst.
    server = start_server(redis_db=4, PARLEY_MESSAGE_RATE="0.2", PARLEY_MESSAGE_BURST="5")
    person = await signup(server)
    client = ChatClient(server, person.cookie)
    await client.connect()
    try:
        await client.join()
        acks = [await client.send(f"burst {i}") for i in range(6)]
        assert [ack["ok"] for ack in acks] == [True] * 5 + [False]
        assert acks[-1]["error"].startswith("Rate limit: too many messages, retry in")
        assert acks[-1]["code"] == "rate_limited"
        assert 0 < acks[-1]["retryAfter"] <= 5
        assert f"retry in {acks[-1]['retryAfter']:.1f} s" in acks[-1]["error"]
        await asyncio.sleep(acks[-1]["retryAfter"] + 0.1)  # as long as the answer said
        assert (await client.send("after a pause"))["ok"] is True
        assert (await client.send("too soon"))["ok"] is False
        # A retry of a stored message is answered from the ledger, not limited.
        assert (await client.send("burst 0", client_id=acks[0]["message"]["clientId"]))["ok"]
    finally:
        await client.close()


async def test_a_frame_over_the_packet_limit_is_refused_from_its_header(app: AppServer) -> None:
    """A WebSocket frame that announces more than a packet may hold closes the connection
    before its payload is read: the server never holds it (here the payload is never sent)."""
    url = urlsplit(app.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    # A masked text frame announcing 8 MiB (under uvicorn's default 16 MiB), and no payload.
    writer.write(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 8 * 1024 * 1024) + os.urandom(4))
    await writer.drain()
    received = b""
    async with asyncio.timeout(15):
        while chunk := await reader.read(65536):
            received += chunk
    # The Engine.IO open packet, then a close frame 1009 (message too big).
    assert b"\x03\xf1frame with 8388608 bytes exceeds limit of 65536 bytes" in received, received
    writer.close()
    await writer.wait_closed()


async def test_a_packet_just_over_the_limit_closes_the_connection(
    signup: Signup, connect: Connect
) -> None:
    client = await connect(await signup())
    await client.sio.emit("message", {"room": "general", "text": "x" * MAX_PACKET_BYTES})
    await asyncio.wait_for(client.disconnected.wait(), 15)


async def raw_engineio(app: AppServer, headers: dict[str, str] | None = None) -> Any:
    ws = await websockets.connect(
        app.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        additional_headers=headers or {},
    )
    opened = await ws.recv()
    assert isinstance(opened, str)
    assert opened.startswith("0{"), opened
    return ws


async def answer_pings_until_closed(ws: Any) -> list[str]:
    """Everything the server sent, answering each ping, until it closes the connection."""
    received = []
    async with asyncio.timeout(30):  # the server's own ping deadline is 45 s
        try:
            while True:
                frame = await ws.recv()
                received.append(frame)
                if frame == "2":
                    await ws.send("3")
        except websockets.ConnectionClosed:
            return received


async def test_an_engineio_connection_without_socketio_connect_is_closed(app: AppServer) -> None:
    ws = await raw_engineio(app)
    assert await answer_pings_until_closed(ws) == ["1"]  # Engine.IO's CLOSE


async def test_a_refused_socketio_connect_closes_the_connection(app: AppServer) -> None:
    ws = await raw_engineio(app)
    await ws.send("40")  # CONNECT without a session cookie
    received = await answer_pings_until_closed(ws)
    assert received[0].startswith("44"), received  # CONNECT_ERROR
    assert '"code":"unauthorized"' in received[0]
