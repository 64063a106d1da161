"""Conversations over sockets: who may join, send and mark read, and membership changes reaching
every socket of a user, on every instance, before anything more of the room."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Connect, Person, Signup, StartApp
from tests.servers import AppServer


@pytest.fixture(scope="module")
def second(start_server: StartApp) -> AppServer:
    return start_server()  # same Redis database and tables as `app`


@pytest.fixture
async def http_as(app: AppServer) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    def make(person: Person, server: AppServer = app) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            base_url=server.url, cookies={"parley_session": person.cookie}, timeout=20
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def new_room(http: httpx.AsyncClient, kind: str = "private") -> str:
    response = await http.post(
        "/api/rooms", json={"name": f"Room {secrets.token_hex(4)}", "kind": kind}
    )
    assert response.status_code == 201, response.text
    room: str = response.json()["id"]
    return room


async def add(http: httpx.AsyncClient, room: str, person: Person) -> None:
    response = await http.post(f"/api/rooms/{room}/members", json={"username": person.username})
    assert response.status_code == 201, response.text


async def test_a_private_room_answers_a_stranger_like_a_missing_room(
    signup: Signup, connect: Connect, http_as: Any
) -> None:
    owner, stranger = await signup(), await signup()
    room = await new_room(http_as(owner))
    s = await connect(stranger)
    missing = await s.call("join", {"room": "no-such-room-here"})
    refused = await s.call("join", {"room": room})
    assert missing == {"ok": False, "error": "No room 'no-such-room-here'", "code": "not_found"}
    assert refused == {"ok": False, "error": f"No room '{room}'", "code": "not_found"}
    sent = await s.call("message", {"room": room, "text": "hi", "clientId": "c1"})
    assert sent["code"] == "not_joined"
    typing = await s.call("typing", {"room": room})
    assert typing["code"] == "not_joined"


async def test_an_added_member_hears_it_on_every_socket_and_can_join(
    signup: Signup, connect: Connect, http_as: Any
) -> None:
    owner, bob = await signup(), await signup()
    http = http_as(owner)
    room = await new_room(http)
    tab1, tab2 = await connect(bob), await connect(bob)
    await add(http, room, bob)
    for tab in (tab1, tab2):  # without joining anything
        added = await tab.next("room_added")
        assert added["id"] == room
        assert added["kind"] == "private"
        assert added["role"] == "member"
    o = await connect(owner)
    await o.join(room)
    await tab1.join(room)
    sent = await o.send("welcome", room)
    assert await tab1.next("message") == sent["message"]


async def test_sending_to_a_public_room_one_only_reads_joins_it(
    signup: Signup, connect: Connect, http_as: Any
) -> None:
    owner, reader = await signup(), await signup()
    room = await new_room(http_as(owner), kind="public")
    r = await connect(reader)
    await r.join(room)
    members = (await http_as(owner).get(f"/api/rooms/{room}/members")).json()
    assert reader.username not in [m["username"] for m in members]
    ack = await r.send("hello, I read along", room)
    assert ack["ok"], ack
    added = await r.next("room_added")
    assert (added["id"], added["role"]) == (room, "member")
    members = (await http_as(owner).get(f"/api/rooms/{room}/members")).json()
    assert {"username": reader.username, "role": "member"}.items() <= next(
        m for m in members if m["username"] == reader.username
    ).items()


async def test_a_removal_on_one_instance_silences_the_room_on_the_other_at_once(
    app: AppServer,
    second: AppServer,
    signup: Signup,
    connect: Connect,
    http_as: Any,
) -> None:
    owner, bob, carol = await signup(), await signup(), await signup()
    http = http_as(owner, app)
    room = await new_room(http)
    await add(http, room, bob)
    await add(http, room, carol)
    o = await connect(owner, app)
    b1, b2 = await connect(bob, second), await connect(bob, app)
    c = await connect(carol, second)  # on bob's instance: what she hears, he would have
    for client in (o, b1, b2, c):
        await client.join(room)
    before = await o.send("before", room)
    for client in (b1, b2, c):
        assert await client.next("message") == before["message"]

    response = await http.delete(f"/api/rooms/{room}/members/{bob.username}")
    assert response.status_code == 204
    after = await o.send("after", room)
    assert await c.next("message") == after["message"]
    for tab in (b1, b2):
        assert await tab.next("room_removed") == {"room": room}
        assert tab.drain("message") == []
        refused = await tab.call("message", {"room": room, "text": "x", "clientId": "gone"})
        assert refused["code"] == "not_joined"
        rejoin = await tab.call("join", {"room": room})
        assert rejoin == {"ok": False, "error": f"No room '{room}'", "code": "not_found"}
    removed = await c.next("member")
    while removed["username"] != bob.username:  # carol's own addition came first
        removed = await c.next("member")
    assert removed == {"room": room, "username": bob.username, "role": None}


async def test_a_banned_reader_of_a_public_room_is_out_and_stays_out(
    app: AppServer, second: AppServer, signup: Signup, connect: Connect, http_as: Any
) -> None:
    owner, troll, witness = await signup(), await signup(), await signup()
    http = http_as(owner)
    room = await new_room(http, kind="public")
    o, t = await connect(owner, app), await connect(troll, second)
    w = await connect(witness, second)  # on the troll's instance
    for client in (o, t, w):
        await client.join(room)
    spam = await t.send("spam", room)
    assert spam["ok"]  # and so a member
    for client in (t, w):
        assert await client.next("message") == spam["message"]
    response = await http.delete(f"/api/rooms/{room}/members/{troll.username}?ban=true")
    assert response.status_code == 204
    assert await t.next("room_removed") == {"room": room}
    rejoin = await t.call("join", {"room": room})
    assert rejoin["ok"] is False
    assert rejoin["code"] == "forbidden"
    quiet = await o.send("the troll is gone", room)
    assert await w.next("message") == quiet["message"]
    assert t.drain("message") == []


async def test_a_read_marker_reaches_the_other_devices_only(
    signup: Signup, connect: Connect, http_as: Any
) -> None:
    owner, bob = await signup(), await signup()
    http = http_as(owner)
    room, elsewhere = await new_room(http), await new_room(http)
    await add(http, room, bob)
    phone, laptop = await connect(bob), await connect(bob)
    o = await connect(owner)
    await o.join(room)
    await o.join(elsewhere)
    sent = (await o.send("read me", room))["message"]
    other = (await o.send("not in bob's room", elsewhere))["message"]

    assert await phone.call("read", {"room": room, "id": sent["id"]}) == {"ok": True}
    assert await laptop.next("read") == {"room": room, "id": sent["id"]}
    assert phone.drain("read") == []
    rooms = (await http_as(bob).get("/api/rooms")).json()
    assert next(r for r in rooms if r["id"] == room)["lastRead"] == sent["id"]

    wrong_room = await phone.call("read", {"room": room, "id": other["id"]})
    assert wrong_room["code"] == "not_found"
    not_a_member = await phone.call("read", {"room": elsewhere, "id": other["id"]})
    assert not_a_member == {"ok": False, "error": f"No room '{elsewhere}'", "code": "not_found"}
    bad = await phone.call("read", {"room": room, "id": "not-an-id"})
    assert bad["code"] == "invalid"


async def test_a_mention_reaches_every_socket_of_a_member_and_counts(
    signup: Signup, connect: Connect, http_as: Any
) -> None:
    owner, bob, outsider = await signup(), await signup(), await signup()
    http = http_as(owner)
    room = await new_room(http)
    await add(http, room, bob)
    o = await connect(owner)
    b = await connect(bob)  # has not opened the room
    await o.join(room)
    text = f"@{bob.username.upper()} look, and @{outsider.username} cannot see this"
    sent = (await o.send(text, room))["message"]
    assert sent["mentions"] == [bob.username.lower()]  # members only
    assert await b.next("mention") == {"room": room, "message": sent}
    rooms = (await http_as(bob).get("/api/rooms")).json()
    shown = next(r for r in rooms if r["id"] == room)
    assert (shown["unread"], shown["mentions"]) == (1, 1)


async def test_owners_and_admins_delete_others_messages_members_do_not(
    signup: Signup, connect: Connect, http_as: Any
) -> None:
    owner, admin, member = await signup(), await signup(), await signup()
    http = http_as(owner)
    room = await new_room(http)
    for person in (admin, member):
        await add(http, room, person)
    o, a, m = await connect(owner), await connect(admin), await connect(member)
    for client in (o, a, m):
        await client.join(room)
    first = (await m.send("first", room))["message"]
    second = (await m.send("second", room))["message"]
    mine = (await o.send("the owner's", room))["message"]

    refused = await m.call("delete", {"room": room, "id": mine["id"]})
    assert refused["code"] == "forbidden"
    refused = await a.call("delete", {"room": room, "id": first["id"]})
    assert refused["code"] == "forbidden"  # not an admin yet
    promoted = await http.patch(
        f"/api/rooms/{room}/members/{admin.username}", json={"role": "admin"}
    )
    assert promoted.status_code == 200
    # The promotion reaches the admin's socket with the `member` event, before its next event.
    while (await a.next("member"))["username"] != admin.username:
        pass
    deleted = await a.call("delete", {"room": room, "id": first["id"]})
    assert deleted["ok"], deleted
    assert deleted["message"]["deleted"] is True
    by_owner = await o.call("delete", {"room": room, "id": second["id"]})
    assert by_owner["ok"], by_owner
