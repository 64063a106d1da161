"""What an instance hears from Redis follows the rooms of its own sockets (the sharded bus,
parley/realtime/bus.py): an instance with no socket in a room is not subscribed to the room's
channel and receives none of its broadcasts, while its user's events still reach it."""

from __future__ import annotations

import re

import httpx
import pytest
from redis.asyncio import RedisCluster

from parley.realtime.bus import bus_channel
from parley.realtime.channels import socketio_channel
from tests.conftest import Connect, Signup, StartApp
from tests.servers import AppServer
from tests.utils import redis_of

# Pub/sub channels carry the database number: a database of its own keeps the other suites'
# broadcasts off these two instances (in cluster mode, a cluster of its own).
BUS_DB = 1


@pytest.fixture(scope="module")
def pair(start_server: StartApp) -> tuple[AppServer, AppServer]:
    # No stream consumer: it would broadcast the other suites' messages of the shared tables.
    quiet = {"PARLEY_STREAM_CONSUMER": "false"}
    return start_server(redis_db=BUS_DB, **quiet), start_server(redis_db=BUS_DB, **quiet)


async def bus_received(server: AppServer) -> float:
    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    found = re.search(r"^parley_bus_messages_received_total (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return float(found[1])


async def subscribers(server: AppServer, room: str) -> int:
    url = server.env["PARLEY_REDIS_URL"]
    channel = bus_channel(socketio_channel(url, server.env["PARLEY_TABLE_PREFIX"]), room)
    redis = redis_of(server.env)
    try:
        if isinstance(redis, RedisCluster):  # the node that serves the channel's slot
            await redis.initialize()
            node = redis.get_node_from_key(channel)
            counts = await redis.execute_command(
                "PUBSUB", "SHARDNUMSUB", channel, target_nodes=node
            )
        else:
            counts = await redis.execute_command("PUBSUB", "SHARDNUMSUB", channel)
    finally:
        await redis.aclose()
    return int(counts[1])


async def test_an_instance_without_a_socket_in_a_room_receives_nothing_of_it(
    pair: tuple[AppServer, AppServer], signup: Signup, connect: Connect
) -> None:
    one, two = pair
    alice, bob = await signup(one), await signup(two)
    a = await connect(alice, one)
    b = await connect(bob, two)  # in no room: it holds bob's user and session channels only
    await a.join("general")
    assert await subscribers(one, "room:general") == 1  # instance one only

    before = await bus_received(two)
    for n in range(20):
        assert (await a.send(f"not for instance two {n}"))["ok"]
    sent = (await a.send(f"hello @{bob.username}"))["message"]
    # The mention goes to bob's user channel, which instance two holds.
    assert await b.next("mention") == {"room": "general", "message": sent}
    assert await bus_received(two) - before == 1
    assert await subscribers(two, f"user:{bob.username.lower()}") == 1
