"""The chat events (parley/realtime/namespace.py) against the app served in this process: each
handler checks the session, validates the payload and answers with an ack."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

import httpx
import pytest
import socketio
from redis.asyncio import Redis

from parley.realtime.namespace import Connection
from tests.realtime.client import ChatClient
from tests.unit.realtime.conftest import InProcessServer, Person, Tab, sign_up
from tests.utils import sess_key


async def test_a_socket_needs_a_live_session(chat_server: InProcessServer, redis: Redis) -> None:
    for cookie in (None, "no-such-session"):
        tab = ChatClient(chat_server, cookie)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await tab.connect()
        assert tab.connect_error == {"message": "unauthorized", "data": {"code": "unauthorized"}}


async def test_a_foreign_origin_is_refused(chat_server: InProcessServer, person: Person) -> None:
    tab = ChatClient(chat_server, person.cookie)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await tab.connect(origin="https://evil.example")
    assert tab.connect_error == {"message": "forbidden origin", "data": {"code": "forbidden"}}


async def test_join_answers_with_history_and_announces_presence(
    person: Person, open_tab: Tab
) -> None:
    tab = await open_tab(person)
    ack = await tab.call("join", {"room": "general"})
    assert ack["ok"] is True
    assert isinstance(ack["messages"], list)
    assert await tab.next("presence") == {"room": "general", "users": [person.username]}


async def test_joining_an_unknown_room_fails(person: Person, open_tab: Tab) -> None:
    tab = await open_tab(person)
    assert await tab.call("join", {"room": "no-such-room"}) == {
        "ok": False,
        "error": "No room 'no-such-room'",
        "code": "not_found",
    }


async def test_a_message_reaches_the_room_once_per_client_id(
    chat_server: InProcessServer, person: Person, open_tab: Tab
) -> None:
    sender, reader = await open_tab(person), await open_tab(await sign_up(chat_server))
    await sender.join()
    await reader.join()
    ack = await sender.send("  hello  ", client_id="c1")
    assert ack["ok"] is True
    assert (ack["message"]["text"], ack["message"]["username"]) == ("hello", person.username)
    assert await reader.next("message") == ack["message"]
    assert await sender.send("hello", client_id="c1") == ack
    await asyncio.sleep(0.2)
    assert reader.drain("message") == []


async def test_sending_needs_the_room_joined(person: Person, open_tab: Tab) -> None:
    tab = await open_tab(person)
    assert await tab.send("hello") == {
        "ok": False,
        "error": "Join room 'general' before sending to it",
        "code": "not_joined",
    }


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"room": "general", "text": "   ", "clientId": "c1"}, "text: must be 1-4000"),
        ({"room": "general", "text": "hi"}, "clientId: Field required"),
        ("general", "payload must be one object"),
    ],
)
async def test_an_invalid_payload_gets_an_error_ack(
    person: Person, open_tab: Tab, payload: object, error: str
) -> None:
    tab = await open_tab(person)
    await tab.join()
    ack = await tab.call("message", payload)
    assert ack["ok"] is False
    assert ack["error"].startswith(error)
    assert ack["code"] == "invalid"


async def test_typing_reaches_the_others_at_most_every_interval(
    chat_server: InProcessServer, person: Person, open_tab: Tab
) -> None:
    typist, reader = await open_tab(person), await open_tab(await sign_up(chat_server))
    assert await typist.call("typing", {"room": "general"}) == {
        "ok": False,
        "error": "Join room 'general' first",
        "code": "not_joined",
    }
    await typist.join()
    await reader.join()
    assert await typist.call("typing", {"room": "general"}) == {"ok": True}
    assert await typist.call("typing", {"room": "general"}) == {"ok": True}
    assert await reader.next("typing") == {"room": "general", "username": person.username}
    await asyncio.sleep(0.2)
    assert reader.drain("typing") == []
    assert typist.drain("typing") == []


async def test_leaving_updates_presence(
    chat_server: InProcessServer, person: Person, open_tab: Tab
) -> None:
    other = await sign_up(chat_server)
    leaver, stayer = await open_tab(person), await open_tab(other)
    await leaver.join()
    await stayer.join()
    stayer.drain("presence")
    assert await leaver.call("leave", {"room": "general"}) == {"ok": True}
    assert await stayer.next("presence") == {"room": "general", "users": [other.username]}
    assert await leaver.call("leave", {"room": "general"}) == {"ok": True}  # not in it


async def test_a_disconnect_updates_presence(
    chat_server: InProcessServer, person: Person, open_tab: Tab
) -> None:
    other = await sign_up(chat_server)
    leaver, stayer = await open_tab(person), await open_tab(other)
    await leaver.join()
    await stayer.join()
    stayer.drain("presence")
    await leaver.close()
    assert await stayer.next("presence") == {"room": "general", "users": [other.username]}


async def test_an_event_after_the_session_ended_expires_the_socket(
    person: Person, open_tab: Tab, redis: Redis
) -> None:
    tab = await open_tab(person)
    await redis.delete(sess_key(person.cookie))
    assert await tab.call("join", {"room": "general"}) == {
        "ok": False,
        "error": "session expired",
        "code": "unauthorized",
    }
    assert await tab.next("session_expired") == {}
    await asyncio.wait_for(tab.disconnected.wait(), 5)


async def test_logout_expires_every_socket_of_the_session(
    chat_server: InProcessServer, person: Person, open_tab: Tab
) -> None:
    tabs = [await open_tab(person), await open_tab(person)]
    cookies = {"parley_session": person.cookie}
    async with httpx.AsyncClient(base_url=chat_server.url, cookies=cookies) as http:
        assert (await http.post("/api/auth/logout")).status_code == 204
    for tab in tabs:
        assert await tab.next("session_expired") == {}
        await asyncio.wait_for(tab.disconnected.wait(), 5)


def _size(obj: Any, seen: set[int]) -> int:
    """Bytes of `obj` and of what it holds, skipping classes and what `seen` already counted."""
    if id(obj) in seen or isinstance(obj, type) or obj is None:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_size(key, seen) + _size(value, seen) for key, value in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(_size(item, seen) for item in obj)
    for slot in getattr(type(obj), "__slots__", ()):
        size += _size(getattr(obj, slot, None), seen)
    if hasattr(obj, "__dict__"):
        size += _size(vars(obj), seen)
    return size


async def test_an_idle_socket_holds_little_of_its_own(
    chat_server: InProcessServer, open_tab: Tab
) -> None:
    """Every open socket keeps its Connection: what all sockets could share (the budgets'
    settings) is the namespace's, and a socket's own part stays small (bench/socket_memory.py
    measures the whole socket, the libraries' part included)."""
    first, second = await sign_up(chat_server), await sign_up(chat_server)
    await open_tab(first)
    await open_tab(second)
    # Made after start-up, so not among the objects gc.freeze() set aside (realtime/server.py).
    by_user = {o.username: o for o in gc.get_objects() if isinstance(o, Connection)}
    one, other = by_user[first.username], by_user[second.username]
    assert one.budgets.budgets is other.budgets.budgets
    assert one.strikes.budget is other.strikes.budget
    shared: set[int] = set()
    _size(other, shared)
    own = _size(one, shared)
    print(f"an idle socket's own Connection state: {own} bytes")
    assert own <= 1024
