"""What every Redis store shares: the client type (one node or a Redis Cluster) and the hash
tags that keep the keys of one script in one hash slot.

A Redis Cluster runs a script or a multi-key command only when all its keys hash to one slot;
only the part of a key between the first `{` and the next `}` is hashed (the "hash tag", Redis
Cluster specification, "Hash tags"). Keys that change together therefore carry the same tag:
a user's send gate (`{u:<name>}`), an address's login throttle (`{a:<address>}`), an account's
failure alert (`{u:<name>}`). Whatever a name holds, every key of one script starts its tag the
same way, so they agree on the slot even when the name itself contains a brace."""

from __future__ import annotations

from typing import TypeAlias

from redis.asyncio import Redis, RedisCluster

# The client every store takes: parley.container.open_redis builds one or the other.
RedisClient: TypeAlias = Redis | RedisCluster


def user_tag(username: str) -> str:
    """The hash tag of a user's keys (names compare case-insensitively)."""
    return "{u:" + username.lower() + "}"


def address_tag(address: str) -> str:
    """The hash tag of one client address's keys."""
    return "{a:" + address + "}"
