"""The tests' Redis Clusters: in cluster mode (`make test-cluster`) every test Redis "database"
is a local cluster of its own (parley/devstack/cluster.py starts them)."""

from __future__ import annotations

import os
from pathlib import Path

from parley.devstack.cluster import ClusterNode, LocalCluster, start_cluster

__all__ = ["ClusterNode", "ClusterPerDatabase", "LocalCluster", "cluster_mode", "start_cluster"]


class ClusterPerDatabase:
    """In cluster mode the tests' Redis "databases" (a number each suite picks for isolation,
    `start_server(redis_db=N)`) are clusters of their own, since a cluster has database 0
    only; each starts on first use."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir
        self._clusters: dict[int, LocalCluster] = {}

    def url(self, db: int) -> str:
        if db not in self._clusters:
            self._clusters[db] = start_cluster(self._dir / f"db{db}")
        return self._clusters[db].url

    def stop(self) -> None:
        for cluster in self._clusters.values():
            cluster.stop()


# Set by the session fixture `redis_clusters` (tests/conftest.py) in cluster mode.
databases: ClusterPerDatabase | None = None


def cluster_mode() -> bool:
    """`make test-cluster`: the end-to-end suites run against local Redis Clusters."""
    return os.environ.get("PARLEY_TEST_REDIS_CLUSTER", "") == "1"
