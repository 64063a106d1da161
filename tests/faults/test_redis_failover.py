"""A Redis Cluster primary dies mid-traffic (kill -9) and its replica takes over: the app
follows the new slot map by itself, and nothing it acknowledged is lost: the session still
works, every acknowledged message is stored once, and a retry of an acknowledged clientId gets
its first ack back instead of a copy.

Redis replicates asynchronously, so a write acknowledged in the last instant before a crash
can be lost by any Redis failover; the test waits until the replica has everything the primary
acknowledged (its replication offset) before the kill, which is what "nothing acked is lost"
can promise (docs/deploy.md)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.crc import key_slot

from parley.storage.redis_keys import user_tag
from tests.realtime.client import ChatClient
from tests.redis_cluster import ClusterNode, LocalCluster, start_cluster
from tests.servers import start_app
from tests.utils import register_and_login

FAILOVER_SECONDS = 60  # generous: the election itself takes a few seconds (node timeout 2 s)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    started = start_cluster(tmp_path / "cluster", primaries=3, replicas=True)
    yield started
    started.stop()


def owner_of(cluster: LocalCluster, slot: int) -> ClusterNode:
    with cluster.primaries[0].client() as client:
        nodes = client.execute_command("CLUSTER NODES")
    for address, node in nodes.items():
        for first, *last in node["slots"]:
            if int(first) <= slot <= int(last[0] if last else first):
                port = int(address.split(":")[1].split("@")[0])
                return next(n for n in cluster.primaries if n.port == port)
    raise AssertionError(f"no primary serves slot {slot}")


def replica_of(cluster: LocalCluster, primary: ClusterNode) -> ClusterNode:
    for replica in cluster.replicas:
        with replica.client() as client:
            if int(client.info("replication")["master_port"]) == primary.port:
                return replica
    raise AssertionError(f"no replica of {primary.port}")


async def replica_caught_up(primary: ClusterNode, replica: ClusterNode) -> None:
    for _ in range(200):
        with primary.client() as p, replica.client() as r:
            written = p.info("replication")["master_repl_offset"]
            if r.info("replication")["master_repl_offset"] == written:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the replica did not catch up")


async def promoted(replica: ClusterNode) -> None:
    for _ in range(FAILOVER_SECONDS * 10):
        with replica.client() as client:
            if client.info("replication")["role"] == "master":
                info = client.execute_command("CLUSTER INFO")
                if info.get("cluster_state") == "ok":
                    return
        await asyncio.sleep(0.1)
    raise AssertionError("the replica was not promoted")


async def send_until_ok(client: ChatClient, text: str, client_id: str) -> Any:
    """A client retrying the same clientId while Redis fails over (503s in between)."""
    for _ in range(FAILOVER_SECONDS * 2):
        ack = await client.send(text, client_id=client_id)
        if ack["ok"]:
            return ack
        assert ack["code"] == "unavailable", ack
        await asyncio.sleep(0.5)
    raise AssertionError(f"{client_id} never sent")


def a_name_away_from(cluster: LocalCluster) -> str:
    """A user whose keys live on a primary other than the URL's node (which also carries
    Socket.IO's pub/sub connection): that primary is the one killed."""
    url_node = cluster.primaries[0]
    while True:
        name = f"u_{secrets.token_hex(4)}"
        if owner_of(cluster, key_slot(user_tag(name).encode())) is not url_node:
            return name


async def test_a_primary_failover_loses_nothing_acked(
    cluster: LocalCluster, base_env: dict[str, str], tables: object, tmp_path: Path
) -> None:
    env = {**base_env, "PARLEY_REDIS_URL": cluster.url, "PARLEY_REDIS_CLUSTER": "true"}
    server = start_app(env, tmp_path)
    client: ChatClient | None = None
    try:
        name = a_name_away_from(cluster)
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            cookie = await register_and_login(http, name)
        client = ChatClient(server, cookie)
        await client.connect()
        await client.join()
        acked = [await client.send(f"before {n}", client_id=f"f-{n}") for n in range(5)]
        assert all(ack["ok"] for ack in acked)

        victim = owner_of(cluster, key_slot(user_tag(name).encode()))
        heir = replica_of(cluster, victim)
        await replica_caught_up(victim, heir)
        victim.service.kill()
        await promoted(heir)

        # The retry of an acknowledged send finds its record on the promoted replica.
        assert await send_until_ok(client, "before 4", "f-4") == acked[4]
        after = await send_until_ok(client, "after", "f-after")
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            http.cookies.set("parley_session", cookie)
            assert (await http.get("/api/auth/me")).status_code == 200  # the session survived
            history = (await http.get("/api/rooms/general/messages")).json()
        ids = [m["id"] for m in history["messages"]]
        mine = [ack["message"]["id"] for ack in [*acked, after]]
        assert [i for i in ids if i in mine] == mine  # each once, in order
    finally:
        if client is not None:
            await client.close()
        server.stop()
