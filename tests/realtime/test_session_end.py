"""When a session ends (logout in any tab, TTL expiry, FLUSHDB), its sockets are told with
`session_expired` and dropped within 5 seconds, and their events are refused."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import socketio
from redis.asyncio import Redis

from tests.conftest import Connect, Signup, StartApp
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import redis_of, sess_key

WITHIN = 5.0


async def assert_kicked(client: ChatClient) -> None:
    assert await client.next("session_expired", timeout=WITHIN) == {}
    await asyncio.wait_for(client.disconnected.wait(), WITHIN)


async def test_logout_in_one_tab_kicks_every_socket_of_the_session(
    app: AppServer, signup: Signup, connect: Connect
) -> None:
    person = await signup()
    tabs = [await connect(person), await connect(person)]
    other = await connect(await signup())
    for tab in tabs:
        await tab.join()
    async with httpx.AsyncClient(
        base_url=app.url, cookies={"parley_session": person.cookie}
    ) as http:
        assert (await http.post("/api/auth/logout")).status_code == 204
    for tab in tabs:
        await assert_kicked(tab)
    assert other.drain("session_expired") == []
    assert (await other.call("join", {"room": "general"}))["ok"] is True


async def test_expiry_kicks_the_socket(signup: Signup, connect: Connect, redis: Redis) -> None:
    person = await signup()
    client = await connect(person)
    await client.join()
    await redis.pexpire(sess_key(person.cookie), 200)
    await assert_kicked(client)


async def test_events_after_the_session_ended_are_refused(
    signup: Signup, connect: Connect, redis: Redis
) -> None:
    person = await signup()
    client = await connect(person)
    await client.join()
    await redis.delete(sess_key(person.cookie))
    ack = await client.send("ghost")
    assert ack == {"ok": False, "error": "session expired", "code": "unauthorized"}
    await assert_kicked(client)


async def test_socket_events_slide_the_session_ttl(
    signup: Signup, connect: Connect, redis: Redis
) -> None:
    person = await signup()
    client = await connect(person)
    await redis.expire(sess_key(person.cookie), 100)
    await client.join()
    assert await redis.ttl(sess_key(person.cookie)) > 1000


async def test_flushed_redis_kicks_every_socket(start_server: StartApp, signup: Signup) -> None:
    server = start_server(redis_db=5)
    people = [await signup(server), await signup(server)]
    clients = [ChatClient(server, person.cookie) for person in people]
    try:
        for client in clients:
            await client.connect()
            await client.join()
        redis = redis_of(server.env)
        await redis.flushdb()
        await redis.aclose()
        for client in clients:
            await assert_kicked(client)
    finally:
        for client in clients:
            await client.close()


async def test_a_stale_cookie_cannot_connect(app: AppServer, signup: Signup, redis: Redis) -> None:
    person = await signup()
    await redis.delete(sess_key(person.cookie))
    client = ChatClient(app, person.cookie)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect()
    assert client.connect_error == {"message": "unauthorized", "data": {"code": "unauthorized"}}
