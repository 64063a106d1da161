"""What the socket fuzz found below the event payloads: event names python-socketio dispatches
to lifecycle handlers, names that are not strings, and packets its decoder refuses (each was a
defect, fixed in parley/realtime/protocol.py).

They run against the HTTP fuzz server (Redis database 14): a server whose log no other test
reads, since several of these put tracebacks into it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets

import engineio
import httpx
import pytest

from tests.conftest import Connect, Signup
from tests.servers import AppServer

SETTLE = 0.5  # time for the server to act on (or log) what it was sent
WITHIN = 5.0  # the contract's bound for dropping the sockets of an ended session
LOG_PROBLEM = re.compile(r"Traceback|Exception")


class LogWatch:
    """The lines the server logs from now on that hold a traceback or an exception."""

    def __init__(self, app: AppServer) -> None:
        self.app = app
        self.offset = app.log.stat().st_size

    def problems(self) -> list[str]:
        with self.app.log.open("rb") as log:
            log.seek(self.offset)
            text = log.read().decode(errors="replace")
        return [line[:600] for line in text.splitlines() if LOG_PROBLEM.search(line)]


@pytest.fixture
def target(http_fuzz_app: AppServer) -> AppServer:
    return http_fuzz_app


@pytest.fixture
async def room(target: AppServer, signup: Signup) -> str:
    name = f"protocol-{secrets.token_hex(3)}"
    person = await signup(target)
    cookies = {"parley_session": person.cookie}
    async with httpx.AsyncClient(base_url=target.url, cookies=cookies) as http:
        assert (await http.post("/api/rooms", json={"name": name})).status_code == 201
    return name


async def test_a_disconnect_event_from_the_client_does_not_outlive_logout(
    target: AppServer, room: str, signup: Signup, connect: Connect
) -> None:
    eve_person, bob_person = await signup(target), await signup(target)
    eve, bob = await connect(eve_person, target), await connect(bob_person, target)
    await eve.join(room)
    await bob.join(room)
    await eve.sio.emit("disconnect", "client disconnect")
    await asyncio.sleep(SETTLE)
    async with httpx.AsyncClient(
        base_url=target.url, cookies={"parley_session": eve_person.cookie}
    ) as http:
        assert (await http.post("/api/auth/logout")).status_code == 204
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(eve.disconnected.wait(), WITHIN)
    eve.drain("message")
    assert (await bob.send("said after eve logged out", room=room))["ok"] is True
    await asyncio.sleep(SETTLE)
    leaked = [message["text"] for message in eve.drain("message")]
    assert not eve.sio.connected, f"still connected {WITHIN} s after logout; received {leaked}"


async def test_a_connect_event_from_the_client_changes_nothing(
    target: AppServer, room: str, signup: Signup, connect: Connect
) -> None:
    person = await signup(target)
    client = await connect(person, target)
    await client.join(room)
    log = LogWatch(target)
    await client.sio.emit("connect", {})
    await client.sio.emit("connect", {"HTTP_COOKIE": f"parley_session={person.cookie}"})
    await asyncio.sleep(SETTLE)
    ack = await client.send("still in the room", room=room)
    assert (ack["ok"], log.problems()) == (True, [])


async def test_event_names_that_are_not_strings_are_ignored_quietly(
    target: AppServer, signup: Signup, connect: Connect
) -> None:
    client = await connect(await signup(target), target)
    log = LogWatch(target)
    for name in (123, 1.5, True, ["join"], {"join": 1}):
        await client.sio.emit(name, {"room": "general"})
    await asyncio.sleep(SETTLE)
    assert client.sio.connected
    assert log.problems() == []


async def test_an_event_with_a_101_digit_integer_gets_an_error_ack(
    target: AppServer, signup: Signup, connect: Connect
) -> None:
    client = await connect(await signup(target), target)
    await client.join()
    log = LogWatch(target)
    payload = {"room": "general", "text": "hi", "clientId": "big-int", "n": 10**100}
    try:
        ack = await client.call("message", payload, timeout=WITHIN)
    except Exception as exc:  # socketio.exceptions.TimeoutError
        ack = f"no ack within {WITHIN} s ({type(exc).__name__})"
    assert ack == {"ok": False, "error": "payload is not plain JSON", "code": "invalid"}, (
        ack,
        log.problems(),
    )


async def test_an_unknown_event_with_an_ack_id_gets_an_error_ack(
    target: AppServer, signup: Signup, connect: Connect
) -> None:
    client = await connect(await signup(target), target)
    ack = await client.call("no_such_event", {"room": "general"}, timeout=WITHIN)
    assert ack == {"ok": False, "error": "unknown event", "code": "not_found"}
    assert (await client.call("join", {"room": "general"}))["ok"] is True


MALFORMED_PACKETS = [
    "2[",  # not JSON
    "2[]",  # an event without a name
    "2{}",  # an event that is not a list
    '2"join"',
    "9",  # no such packet type
    '51-["join",{"_placeholder":true,"num":0}]',  # binary header; the next text frame is taken
    "2[]",  # ... as its attachment, and so is every frame after it
]


async def test_malformed_packets_without_a_session_leave_no_traceback(target: AppServer) -> None:
    log = LogWatch(target)
    raw = engineio.AsyncClient()
    await raw.connect(target.url, transports=["websocket"], engineio_path="socket.io")
    try:
        for packet in MALFORMED_PACKETS:
            await raw.send(packet)
        await asyncio.sleep(SETTLE)
    finally:
        await raw.disconnect()
    problems = log.problems()
    assert problems == [], f"{len(problems)} log lines, first: {problems[:1]}"
