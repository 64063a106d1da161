"""Broadcasting from a process without sockets (the stream Lambda): events published on the
channel of their room, user or session (parley/realtime/bus.py), where every app instance
holding a socket there hears them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from parley.config import Settings
from parley.devstack.services import free_port
from parley.realtime.bus import bus_channel
from parley.realtime.channels import session_channel, socketio_channel
from parley.realtime.emitter import RedisEmitter
from parley.storage.sessions import session_ref
from tests.unit.support import make_message

# The Socket.IO rooms these tests publish to.
ROOMS = ("room:general", "room:plans", "user:ada", session_channel(session_ref("the-session-key")))


@pytest.fixture
async def channel(unit_settings: Settings, redis: Redis) -> AsyncIterator[PubSub]:
    base = socketio_channel(unit_settings.require_redis_url(), unit_settings.table_prefix)
    pubsub = redis.pubsub()
    for room in ROOMS:
        await pubsub.ssubscribe(bus_channel(base, room))
    yield pubsub
    await pubsub.aclose()  # type: ignore[no-untyped-call]


@pytest.fixture
async def emitter(unit_settings: Settings) -> AsyncIterator[RedisEmitter]:
    emitter = RedisEmitter(
        unit_settings.require_redis_url(), table_prefix=unit_settings.table_prefix
    )
    yield emitter
    await emitter.close()


async def published(pubsub: PubSub) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                data: dict[str, Any] = json.loads(message["data"])
                return data


async def test_a_message_is_published_to_its_room(emitter: RedisEmitter, channel: PubSub) -> None:
    message = make_message(room="general")
    await emitter.message(message)
    event = await published(channel)
    assert (event["event"], event["room"], event["namespace"]) == ("message", "room:general", "/")
    assert event["data"] == [message.to_json()]


async def test_a_session_end_is_published_to_its_sockets(
    emitter: RedisEmitter, channel: PubSub
) -> None:
    await emitter.end_session(session_ref("the-session-key"))
    event = await published(channel)
    assert (event["event"], event["room"]) == (
        "session_expired",
        session_channel(session_ref("the-session-key")),
    )


async def test_a_failed_publish_raises_so_the_record_is_retried() -> None:
    gone = RedisEmitter(f"redis://127.0.0.1:{free_port()}/0", table_prefix="p-")
    try:
        with pytest.raises(RedisConnectionError):
            await gone.message(make_message())
    finally:
        await gone.close()


async def test_conversation_events_reach_a_users_sockets_and_a_rooms(
    emitter: RedisEmitter, channel: PubSub
) -> None:
    await emitter.to_user("Ada", "room_removed", {"room": "plans"})
    event = await published(channel)
    assert (event["event"], event["room"], event["data"]) == (
        "room_removed",
        "user:ada",
        [{"room": "plans"}],
    )
    await emitter.to_room("plans", "member", {"room": "plans", "username": "bob", "role": None})
    event = await published(channel)
    assert (event["event"], event["room"]) == ("member", "room:plans")


async def test_the_socket_server_sends_conversation_events_to_every_instance(
    unit_settings: Settings, channel: PubSub
) -> None:
    from parley.realtime.server import SocketServer

    sockets = SocketServer(unit_settings)
    await sockets.to_user("Ada", "read", {"room": "plans", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"})
    event = await published(channel)
    assert (event["event"], event["room"]) == ("read", "user:ada")
    await sockets.to_room("plans", "room_updated", {"id": "plans"})
    event = await published(channel)
    assert (event["event"], event["room"], event["data"]) == (
        "room_updated",
        "room:plans",
        [{"id": "plans"}],
    )
    await sockets._manager.flush(5)
    await sockets._manager.close()
