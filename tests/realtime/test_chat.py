"""Rooms, messages, history, presence and typing over real sockets."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
import socketio

from tests.conftest import Connect, Signup
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import register_and_login


async def test_two_users_chatting(signup: Signup, connect: Connect) -> None:
    alice, bob = await signup(), await signup()
    a, b = await connect(alice), await connect(bob)
    room = await create_room(a, f"chat {secrets.token_hex(3)}")
    await a.join(room)
    await b.join(room)
    ack = await a.send("  hello bob  ", room)
    assert ack["ok"] is True
    sent = ack["message"]
    assert sent["text"] == "hello bob"
    assert sent["username"] == alice.username
    assert sent["room"] == room
    assert sent["createdAt"].endswith("Z")
    assert len(sent["id"]) == 26
    assert await b.next("message") == sent
    assert await a.next("message") == sent  # the sender gets the broadcast too
    reply = await b.send("hi alice", room)
    assert (await a.next("message"))["text"] == "hi alice"
    assert reply["ok"]


async def test_delivery_order_equals_id_order(signup: Signup, connect: Connect) -> None:
    sender, reader = await connect(await signup()), await connect(await signup())
    room = f"order-{secrets.token_hex(3)}"
    await create_room(sender, room)
    await sender.join(room)
    await reader.join(room)
    acks = await asyncio.gather(*(sender.send(f"m{i}", room) for i in range(25)))
    assert all(ack["ok"] for ack in acks)
    received = [await reader.next("message") for _ in acks]
    ids = [message["id"] for message in received]
    assert ids == sorted(ids)
    assert sorted(ids) == sorted(ack["message"]["id"] for ack in acks)


async def create_room(client: ChatClient, name: str) -> str:
    async with httpx.AsyncClient(
        base_url=client.server.url, cookies={"parley_session": client.cookie or ""}
    ) as http:
        response = await http.post("/api/rooms", json={"name": name})
        assert response.status_code == 201, response.text
        room_id: str = response.json()["id"]
        return room_id


async def test_a_repeated_client_id_is_stored_and_broadcast_once(
    signup: Signup, connect: Connect
) -> None:
    sender, reader = await connect(await signup()), await connect(await signup())
    room = await create_room(sender, f"retries {secrets.token_hex(3)}")
    await sender.join(room)
    await reader.join(room)
    first = await sender.send("only once", room, client_id="retry-1")
    again = await sender.send("only once", room, client_id="retry-1")
    assert again == first
    # Concurrent repeats, as when a retry races the first attempt.
    racing = await asyncio.gather(
        *(sender.send("racing", room, client_id="race-1") for _ in range(5))
    )
    assert len({ack["message"]["id"] for ack in racing}) == 1
    # The same clientId in another room is still the same message.
    await sender.join("general")
    assert (await sender.send("elsewhere", "general", client_id="retry-1")) == first
    await sender.send("marker", room)
    texts = [(await reader.next("message"))["text"] for _ in range(3)]
    assert texts == ["only once", "racing", "marker"]
    assert reader.drain("message") == []


async def test_join_returns_latest_history_oldest_first(signup: Signup, connect: Connect) -> None:
    writer = await connect(await signup())
    room = await create_room(writer, f"history {secrets.token_hex(3)}")
    await writer.join(room)
    sent = [(await writer.send(f"h{i}", room))["message"] for i in range(55)]
    reader = await connect(await signup())
    history = await reader.join(room)
    assert history == sent[-50:]


async def test_a_join_asks_for_as_much_history_as_it_shows(
    signup: Signup, connect: Connect
) -> None:
    writer = await connect(await signup())
    room = await create_room(writer, f"listening {secrets.token_hex(3)}")
    await writer.join(room)
    sent = [(await writer.send(f"l{i}", room))["message"] for i in range(3)]
    listener, shower = await connect(await signup()), await connect(await signup())
    assert await listener.join(room, limit=0) == []
    assert await shower.join(room, limit=2) == sent[-2:]
    # Whether there is more to page over HTTP than the ack carries.
    for limit, has_older in ((2, True), (3, False), (50, False), (0, False)):
        ack = await shower.call("join", {"room": room, "limit": limit})
        assert ack["hasOlder"] is has_older, (limit, ack)
    for limit in (-1, 51, "5"):
        ack = await listener.call("join", {"room": room, "limit": limit})
        assert ack["ok"] is False, ack
        assert ack["code"] == "invalid", ack
    live = await writer.send("live", room)
    assert await listener.next("message") == live["message"]  # a listener hears the room


async def test_history_pages_before_and_after(
    app: AppServer, signup: Signup, connect: Connect
) -> None:
    writer = await connect(await signup())
    room = await create_room(writer, f"pages {secrets.token_hex(3)}")
    await writer.join(room)
    ids = [(await writer.send(f"p{i}", room))["message"]["id"] for i in range(12)]
    async with httpx.AsyncClient(
        base_url=app.url, cookies={"parley_session": writer.cookie or ""}
    ) as http:

        async def page(query: str) -> dict[str, object]:
            response = await http.get(f"/api/rooms/{room}/messages?{query}")
            assert response.status_code == 200, response.text
            body: dict[str, object] = response.json()
            return body

        def page_ids(body: dict[str, object]) -> list[str]:
            return [m["id"] for m in body["messages"]]  # type: ignore[attr-defined,index]

        latest = await page("limit=5")
        assert page_ids(latest) == ids[-5:]
        assert latest["next"] == ids[-5]
        older = await page(f"limit=5&before={latest['next']}")
        assert page_ids(older) == ids[-10:-5]
        oldest = await page(f"limit=5&before={older['next']}")
        assert page_ids(oldest) == ids[:2]
        assert oldest["next"] is None

        start = await page("after=00000000000000000000000000&limit=5")
        assert page_ids(start) == ids[:5]
        assert start["next"] == ids[4]
        rest = await page(f"after={ids[4]}&limit=7")
        assert page_ids(rest) == ids[5:]
        assert rest["next"] is None
        assert (await page(f"after={ids[-1]}")) == {"messages": [], "next": None}
        missing = await http.get("/api/rooms/no-such-room/messages")
        assert missing.status_code == 404
        assert missing.json() == {"error": "No room 'no-such-room'", "code": "not_found"}


async def test_reconnect_then_catch_up_returns_exactly_the_missed(
    app: AppServer, signup: Signup, connect: Connect
) -> None:
    alice, bob = await signup(), await signup()
    room = f"catchup-{secrets.token_hex(3)}"
    a = await connect(alice)
    await create_room(a, room)
    await a.join(room)
    b = await connect(bob)
    await b.join(room)
    await a.send("before", room)
    last_seen = (await b.next("message"))["id"]
    await b.close()
    missed = [(await a.send(f"missed {i}", room))["message"] for i in range(5)]
    b = await connect(bob)
    await b.join(room)
    async with httpx.AsyncClient(base_url=app.url, cookies={"parley_session": bob.cookie}) as http:
        body = (await http.get(f"/api/rooms/{room}/messages?after={last_seen}")).json()
    assert body == {"messages": missed, "next": None}


async def test_rooms_api(app: AppServer, signup: Signup) -> None:
    person = await signup()
    async with httpx.AsyncClient(
        base_url=app.url, cookies={"parley_session": person.cookie}
    ) as http:
        suffix = secrets.token_hex(3)
        response = await http.post("/api/rooms", json={"name": f"Random Talk! {suffix}"})
        assert response.status_code == 201
        created = {"id": f"random-talk-{suffix}", "name": f"Random Talk! {suffix}"}
        assert created.items() <= response.json().items()
        again = await http.post("/api/rooms", json={"name": f"random   talk {suffix}"})
        assert again.status_code == 409
        assert again.json()["code"] == "conflict"
        rooms = (await http.get("/api/rooms")).json()
        assert {"id": "general", "name": "general"}.items() <= rooms[0].items()
        assert [created.items() <= room.items() for room in rooms].count(True) == 1


async def test_presence_follows_joins_leaves_and_disconnects(
    signup: Signup, connect: Connect
) -> None:
    alice, bob = await signup(), await signup()
    room = f"presence-{secrets.token_hex(3)}"
    a = await connect(alice)
    await create_room(a, room)
    await a.join(room)
    assert await a.next("presence") == {"room": room, "users": [alice.username]}
    b = await connect(bob)
    second_tab = await connect(bob)
    await b.join(room)
    await second_tab.join(room)
    both = sorted([alice.username, bob.username], key=str.lower)
    assert (await a.next("presence"))["users"] == both
    assert (await a.next("presence"))["users"] == both
    await b.close()  # bob still has his second tab
    assert (await a.next("presence"))["users"] == both
    await second_tab.call("leave", {"room": room})
    assert await a.next("presence") == {"room": room, "users": [alice.username]}


async def test_typing_reaches_the_others_throttled(signup: Signup, connect: Connect) -> None:
    alice, bob = await signup(), await signup()
    room = f"typing-{secrets.token_hex(3)}"
    a, b = await connect(alice), await connect(bob)
    await create_room(a, room)
    await a.join(room)
    await b.join(room)
    for _ in range(5):
        await a.call("typing", {"room": room})
    assert await b.next("typing") == {"room": room, "username": alice.username}
    await asyncio.sleep(0.3)
    assert b.drain("typing") == []
    assert a.drain("typing") == []


@pytest.mark.parametrize(
    ("origin", "cookie", "error", "code"),
    [
        ("https://evil.example", True, "forbidden origin", "forbidden"),
        (None, False, "unauthorized", "unauthorized"),
        ("APP", False, "unauthorized", "unauthorized"),
    ],
)
async def test_handshake_refusals(
    app: AppServer, signup: Signup, origin: str | None, cookie: bool, error: str, code: str
) -> None:
    person = await signup()
    client = ChatClient(app, person.cookie if cookie else "forged")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(origin=app.url if origin == "APP" else origin)
    assert client.connect_error == {"message": error, "data": {"code": code}}


async def test_allowed_origins_connect(app: AppServer, signup: Signup) -> None:
    person = await signup()
    for origin in (app.url, f"http://localhost:{app.port}", None):
        client = ChatClient(app, person.cookie)
        await client.connect(origin=origin)
        assert (await client.call("join", {"room": "general"}))["ok"] is True
        await client.close()


async def test_history_and_rooms_need_a_login(app: AppServer) -> None:
    async with httpx.AsyncClient(base_url=app.url) as http:
        assert (await http.get("/api/rooms/general/messages")).status_code == 401
        cookie = await register_and_login(http, f"u_{secrets.token_hex(4)}")
        assert cookie
        assert (await http.get("/api/rooms/general/messages")).status_code == 200
