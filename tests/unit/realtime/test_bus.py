"""The bus's subscriptions (and the server's, through its room index) follow the count of
local sockets per channel: subscribed (and confirmed) from the first, unsubscribed after the
last, subscribed again after Redis comes back; what is published on a channel reaches the
buses that hold it and no other."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeoutError

from parley.config import Settings
from parley.devstack.services import start_redis
from parley.realtime.bus import SHARDED, Bus, bus_channel
from parley.realtime.channels import socketio_channel
from tests.unit.realtime.conftest import Person, Tab


def a_channel() -> str:
    return bus_channel("parley-test-socketio:13", f"room:r-{secrets.token_hex(4)}") or ""


async def until(
    probe: Callable[[], object], what: str, *, expect: object = True, seconds: float = 10
) -> None:
    """Polls `probe()` (a value, or an awaitable of one) until it gives `expect`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if result == expect:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def subscribers(redis: Redis, channel: str) -> int:
    counts = await redis.execute_command("PUBSUB", "SHARDNUMSUB", channel)
    return int(counts[1])


@pytest.fixture
async def bus(unit_settings: Settings) -> AsyncIterator[Bus]:
    bus = Bus(unit_settings.require_redis_url())
    yield bus
    await bus.close()


async def next_received(bus: Bus) -> bytes:
    async with asyncio.timeout(5):
        async for data in bus.received():
            return data
    raise AssertionError("nothing received")


def test_channels_carry_the_hash_tag_of_their_room_user_or_session() -> None:
    assert bus_channel("p-socketio:0", "room:general") == "p-socketio:0:room:{r:general}"
    assert bus_channel("p-socketio:0", "user:ada") == "p-socketio:0:user:{u:ada}"
    assert bus_channel("p-socketio:0", "session:x1") == "p-socketio:0:session:{s:x1}"
    assert bus_channel("p-socketio:0", "9f8e7d") is None  # a socket's own room stays local
    assert bus_channel("p-socketio:0", None) is None


async def test_a_channel_is_subscribed_from_its_first_holder_until_its_last(
    bus: Bus, redis: Redis
) -> None:
    assert await bus.commands() is SHARDED  # the tests' redis-server is Redis 7 or later
    channel = a_channel()
    bus.hold(channel)
    bus.hold(channel)
    await bus.ready(channel)
    assert await subscribers(redis, channel) == 1
    assert bus.channels == {channel: 2}
    bus.release(channel)
    await until(bus.settled, "settled")
    assert await subscribers(redis, channel) == 1
    bus.release(channel)
    await until(bus.settled, "settled")
    assert bus.channels == {}
    assert await subscribers(redis, channel) == 0


async def test_held_again_while_being_dropped_ends_subscribed(bus: Bus, redis: Redis) -> None:
    channel = a_channel()
    bus.hold(channel)
    await bus.ready(channel)
    bus.release(channel)
    bus.hold(channel)  # before the worker sent the unsubscribe, or after: either way
    await bus.ready(channel)
    await until(bus.settled, "settled")
    assert await subscribers(redis, channel) == 1
    await redis.execute_command("SPUBLISH", channel, "after")
    assert await next_received(bus) == b"after"


async def test_a_bus_receives_its_channels_and_nothing_else(
    unit_settings: Settings, bus: Bus, redis: Redis
) -> None:
    other = Bus(unit_settings.require_redis_url())
    try:
        mine, theirs = a_channel(), a_channel()
        bus.hold(mine)
        other.hold(theirs)
        await bus.ready(mine)
        await other.ready(theirs)
        for n in range(5):
            await bus.publish(mine, f"m{n}")
        await bus.publish(theirs, "marker")
        # One publisher, one node: the marker arrives after everything published before it.
        assert await next_received(other) == b"marker"
        assert other.messages_received == 1
        assert [await next_received(bus) for _ in range(5)] == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    finally:
        await other.close()


async def test_every_channel_is_subscribed_again_after_redis_restarts(tmp_path: Path) -> None:
    server = start_redis(tmp_path / "redis", persist=False)
    bus = Bus(f"redis://127.0.0.1:{server.port}/0")
    try:
        channels = [a_channel() for _ in range(3)]
        for channel in channels:
            bus.hold(channel)
            await bus.ready(channel)
        server.stop()
        server = start_redis(tmp_path / "redis", port=server.port, persist=False)
        await until(lambda: bus.resubscriptions == 1 and bus.settled(), "resubscribed")
        async with Redis(port=server.port) as redis:
            for channel in channels:
                assert await subscribers(redis, channel) == 1
            await redis.execute_command("SPUBLISH", channels[2], "after the restart")
        assert await next_received(bus) == b"after the restart"
    finally:
        await bus.close()
        server.stop()


async def test_the_server_holds_a_rooms_channel_while_a_local_socket_is_in_it(
    unit_settings: Settings, person: Person, open_tab: Tab, redis: Redis
) -> None:
    base = socketio_channel(unit_settings.require_redis_url(), unit_settings.table_prefix)
    room = bus_channel(base, "room:general") or ""
    user = bus_channel(base, f"user:{person.username.lower()}") or ""
    first, second = await open_tab(person), await open_tab(person)
    assert await subscribers(redis, user) == 1  # before the connection was acknowledged
    await first.join()
    assert await subscribers(redis, room) == 1  # before the join was acknowledged
    await second.join()
    assert await first.call("leave", {"room": "general"}) == {"ok": True}
    assert await subscribers(redis, room) == 1  # the second socket is still in it
    assert await second.call("leave", {"room": "general"}) == {"ok": True}
    await until(lambda: subscribers(redis, room), "unsubscribed", expect=0)
    await first.close()
    await second.close()
    await until(lambda: subscribers(redis, user), "unsubscribed", expect=0)


async def test_a_channel_held_while_redis_is_down_is_subscribed_once_it_is_back(
    tmp_path: Path,
) -> None:
    server = start_redis(tmp_path / "redis", persist=False)
    bus = Bus(f"redis://127.0.0.1:{server.port}/0")
    try:
        first, late = a_channel(), a_channel()
        bus.hold(first)
        await bus.ready(first)
        server.stop()
        bus.hold(late)
        with pytest.raises(RedisTimeoutError):
            await bus.ready(late, seconds=0.5)  # a join now is answered `unavailable`
        server = start_redis(tmp_path / "redis", port=server.port, persist=False)
        await bus.ready(late, seconds=10)
        await until(bus.settled, "settled")
        await bus.publish(late, "late")
        await bus.publish(first, "first")
        assert {await next_received(bus), await next_received(bus)} == {b"late", b"first"}
    finally:
        await bus.close()
        server.stop()
