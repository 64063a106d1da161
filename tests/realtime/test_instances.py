"""Two `parley serve` processes sharing Redis and DynamoDB behave as one."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.conftest import Connect, Signup, StartApp
from tests.realtime.client import ChatClient
from tests.servers import AppServer


@pytest.fixture(scope="module")
def second(start_server: StartApp) -> AppServer:
    return start_server()  # same Redis database and tables as `app`


async def test_messages_presence_and_logout_cross_instances(
    app: AppServer, second: AppServer, signup: Signup, connect: Connect
) -> None:
    alice, bob = await signup(app), await signup(second)
    a = await connect(alice, app)
    b = await connect(bob, second)
    room = f"across-{secrets.token_hex(3)}"
    async with httpx.AsyncClient(base_url=app.url, cookies={"parley_session": alice.cookie}) as h:
        assert (await h.post("/api/rooms", json={"name": room})).status_code == 201
    await a.join(room)
    await b.join(room)  # the room was created through the other instance

    both = sorted([alice.username, bob.username], key=str.lower)
    assert (await a.next("presence"))["users"] == [alice.username]
    assert (await a.next("presence"))["users"] == both
    assert (await b.next("presence"))["users"] == both

    first = await a.send("through instance one", room)
    second_ack = await b.send("through instance two", room)
    for client in (a, b):
        assert await client.next("message") == first["message"]
        assert await client.next("message") == second_ack["message"]

    await a.call("typing", {"room": room})
    assert await b.next("typing") == {"room": room, "username": alice.username}

    # Bob logs out through instance one; his socket on instance two is dropped.
    async with httpx.AsyncClient(base_url=app.url, cookies={"parley_session": bob.cookie}) as h:
        assert (await h.post("/api/auth/logout")).status_code == 204
    assert await b.next("session_expired") == {}
    assert (await a.next("presence"))["users"] == [alice.username]


async def test_many_clients_over_two_instances_see_one_order(
    app: AppServer, second: AppServer, signup: Signup
) -> None:
    room = f"order2-{secrets.token_hex(3)}"
    people = [await signup(app) for _ in range(6)]
    clients = [ChatClient(app if i % 2 else second, p.cookie) for i, p in enumerate(people)]
    async with httpx.AsyncClient(
        base_url=app.url, cookies={"parley_session": people[0].cookie}
    ) as h:
        assert (await h.post("/api/rooms", json={"name": room})).status_code == 201
    try:
        for client in clients:
            await client.connect()
            await client.join(room)
        sender = clients[0]
        acks = [await sender.send(f"n{i}", room) for i in range(10)]
        expected = [ack["message"]["id"] for ack in acks]
        for client in clients:
            assert [(await client.next("message"))["id"] for _ in expected] == expected
    finally:
        for client in clients:
            await client.close()
