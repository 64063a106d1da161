"""What one socket, user and address may hold (parley/realtime/limits.py and its use in the
namespace): event budgets, rooms per socket, sockets per session and per address, the bytes of a
join's history; against the app served in this process."""

from __future__ import annotations

import asyncio
import json
import secrets

import httpx
import pytest
import socketio
from pydantic import SecretStr

from parley.config import Settings
from parley.realtime import namespace
from parley.realtime.limits import (
    MAX_EVENTS_IN_FLIGHT,
    SOCKET_BUDGETS,
    STRIKES,
    USER_BUDGETS,
    Budget,
    TokenBucket,
)
from parley.realtime.namespace import MAX_HISTORY_ACK_BYTES, history_within_bytes
from parley.realtime.protocol import CLIENT_EVENTS
from tests.realtime.client import ChatClient
from tests.unit.realtime.conftest import InProcessServer, Person, Tab, serving
from tests.utils import ORIGIN_SECRET, seen_from


def test_every_client_event_has_a_budget() -> None:
    """Every event that writes (edit, delete, react too) is rate limited."""
    assert set(SOCKET_BUDGETS) == CLIENT_EVENTS == set(USER_BUDGETS)


def test_a_bucket_gives_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(Budget(rate=2, burst=3))
    assert [bucket.take(10.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.take(10.0) == pytest.approx(0.5)
    assert bucket.take(10.5) == 0  # one token back after 1/rate s
    assert bucket.take(10.5) > 0
    assert bucket.take(100.0) == 0  # refilled, never beyond the burst
    assert [bucket.take(100.0) for _ in range(3)][-1] > 0


def test_history_keeps_the_newest_messages_within_the_byte_cap() -> None:
    big = [{"id": f"{i:03}", "text": "😀" * 4000} for i in range(50)]
    kept = history_within_bytes(big)
    assert 0 < len(kept) < 50
    assert kept == big[-len(kept) :]  # the newest, still oldest first
    wire = json.dumps(kept, separators=(",", ":"))  # as python-socketio encodes the ack
    assert len(wire) <= MAX_HISTORY_ACK_BYTES
    small = [{"id": f"{i:03}", "text": "hi"} for i in range(50)]
    assert history_within_bytes(small) == small


async def test_a_join_ack_is_capped_in_bytes(person: Person, open_tab: Tab) -> None:
    tab = await open_tab(person)
    await tab.join()
    sent = [await tab.send("😀" * 4000) for _ in range(12)]  # ~48 KiB each on the wire
    assert all(ack["ok"] for ack in sent)
    other = await open_tab(person)
    ack = await other.call("join", {"room": "general"})
    assert ack["ok"] is True
    assert len(json.dumps(ack["messages"], separators=(",", ":"))) <= MAX_HISTORY_ACK_BYTES
    assert 0 < len(ack["messages"]) < 12
    assert ack["messages"][-1] == sent[-1]["message"]  # the newest are kept
    assert ack["hasOlder"] is True  # what was left out is paged over HTTP


async def test_events_past_the_socket_budget_are_rate_limited(
    person: Person, open_tab: Tab
) -> None:
    tab = await open_tab(person)
    await tab.join()
    burst = SOCKET_BUDGETS["typing"].burst
    acks = await asyncio.gather(
        *(tab.call("typing", {"room": "general"}) for _ in range(burst * 3))
    )
    refused = [ack for ack in acks if not ack["ok"]]
    assert refused  # a token comes back every 0.1 s: only a slow run could refill 60 of them
    assert refused[0]["code"] == "rate_limited"
    assert refused[0]["error"].startswith("Rate limit: too many 'typing' events, retry in")
    assert 0 < refused[0]["retryAfter"] <= 1 / SOCKET_BUDGETS["typing"].rate + 0.1
    # Other events have budgets of their own, and the socket stays up.
    assert (await tab.call("leave", {"room": "general"}))["ok"] is True


async def test_the_user_budget_spans_their_sockets(
    person: Person, open_tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(namespace.USER_BUDGETS, "leave", Budget(rate=0.01, burst=3))
    first, second = await open_tab(person), await open_tab(person)
    leave = {"room": "general"}
    assert [(await tab.call("leave", leave))["ok"] for tab in (first, second, first)] == [True] * 3
    refused = await second.call("leave", leave)
    assert refused["code"] == "rate_limited"
    assert refused["retryAfter"] > 0


async def test_a_socket_far_past_its_budget_is_disconnected(person: Person, open_tab: Tab) -> None:
    tab = await open_tab(person)
    await tab.join()
    # Without waiting for acks: far more than the budget and every strike.
    for _ in range(SOCKET_BUDGETS["typing"].burst + STRIKES.burst + 50):
        await tab.sio.emit("typing", {"room": "general"})
    await asyncio.wait_for(tab.disconnected.wait(), 10)


async def test_rooms_per_socket_are_capped(
    chat_server: InProcessServer, person: Person, open_tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(namespace, "MAX_ROOMS_PER_SOCKET", 2)
    rooms = []
    async with httpx.AsyncClient(
        base_url=chat_server.url, cookies={"parley_session": person.cookie}
    ) as http:
        for _ in range(2):
            response = await http.post("/api/rooms", json={"name": f"r{secrets.token_hex(4)}"})
            assert response.status_code == 201, response.text
            rooms.append(response.json()["id"])
    tab = await open_tab(person)
    await tab.join("general")
    await tab.join(rooms[0])
    refused = await tab.call("join", {"room": rooms[1]})
    assert refused["ok"] is False
    assert refused["code"] == "rate_limited"
    assert refused["error"].startswith("Too many rooms")
    assert (await tab.call("join", {"room": "general"}))["ok"] is True  # already joined
    assert (await tab.call("leave", {"room": "general"}))["ok"] is True
    await tab.join(rooms[1])  # room again after leaving one


async def test_sockets_per_session_are_capped(
    chat_server: InProcessServer, person: Person, open_tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(namespace, "MAX_SOCKETS_PER_SESSION", 2)
    first = await open_tab(person)
    await open_tab(person)
    third = ChatClient(chat_server, person.cookie)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await third.connect()
    assert third.connect_error == {
        "message": "too many connections",
        "data": {"code": "rate_limited"},
    }
    await first.close()
    await asyncio.sleep(0.2)  # the server hears the close
    await open_tab(person)  # a place came free


async def test_sockets_per_address_are_capped(
    chat_server: InProcessServer,
    person: Person,
    open_tab: Tab,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(namespace, "MAX_SOCKETS_PER_ADDRESS", 1)
    await open_tab(person)
    other = ChatClient(chat_server, person.cookie)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await other.connect()  # from the same address (loopback)
    assert other.connect_error == {
        "message": "too many connections",
        "data": {"code": "rate_limited"},
    }


async def test_a_rotated_client_ip_header_counts_against_the_peer_without_the_secret(
    unit_settings: Settings, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a front that names the client in X-Forwarded-For, a handshake that writes that
    header itself (no origin secret, or a wrong one) is counted against its real peer, as the
    HTTP routes count it (parley/client_address.py)."""
    monkeypatch.setattr(namespace, "MAX_SOCKETS_PER_ADDRESS", 1)
    secret = SecretStr(ORIGIN_SECRET)
    async with serving(
        unit_settings, client_ip_header="X-Forwarded-For", origin_secret=secret
    ) as server:
        tabs = [ChatClient(server, person.cookie) for _ in range(4)]
        try:
            await tabs[0].connect(headers={"X-Forwarded-For": "203.0.113.1"})
            for n, secret in ((1, None), (2, "wrong")):
                tab = tabs[n]
                rotated = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
                if secret is not None:
                    rotated["X-Parley-Origin-Verify"] = secret
                with pytest.raises(socketio.exceptions.ConnectionError):
                    await tab.connect(headers=rotated)  # loopback already holds its one socket
                assert tab.connect_error == {
                    "message": "too many connections",
                    "data": {"code": "rate_limited"},
                }
            await tabs[3].connect(headers=seen_from("203.0.113.9"))  # the front's: its address
        finally:
            for tab in tabs:
                await tab.close()


async def test_events_past_those_in_flight_are_refused_at_once(
    person: Person, open_tab: Tab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that sends without waiting for acks gets at most MAX_EVENTS_IN_FLIGHT events
    handled at once; the rest are refused before any work is queued for them."""
    release, started = asyncio.Event(), []

    async def held(self: namespace.ChatNamespace, *args: object) -> dict[str, bool]:
        started.append(1)
        await release.wait()  # the app runs in this process: the handler stays in flight
        return {"ok": True}

    # `message`: its budget's burst (60) is above what is sent here, so only the cap refuses.
    monkeypatch.setattr(namespace.ChatNamespace, "_message", held)
    tab = await open_tab(person)
    await tab.join()
    sends = [
        asyncio.create_task(
            tab.call("message", {"room": "general", "text": "hi", "clientId": f"c{n}"})
        )
        for n in range(MAX_EVENTS_IN_FLIGHT + 8)
    ]
    refused = [await sends[i] for i in range(MAX_EVENTS_IN_FLIGHT, len(sends))]
    for _ in range(200):  # the admitted ones' handlers all get going
        if len(started) >= MAX_EVENTS_IN_FLIGHT:
            break
        await asyncio.sleep(0.01)
    assert len(started) == MAX_EVENTS_IN_FLIGHT
    for ack in refused:
        assert ack["ok"] is False
        assert ack["code"] == "rate_limited"
        assert ack["retryAfter"] == 1
    release.set()
    answered = [await send for send in sends[:MAX_EVENTS_IN_FLIGHT]]
    assert answered == [{"ok": True}] * MAX_EVENTS_IN_FLIGHT
    assert await tab.call("typing", {"room": "general"}) == {"ok": True}  # room again
