"""Who is online, per room, shared by every app instance. Each connected socket in a room is a
member of the sorted set `presence:<room>` scored by when it expires; instances refresh their
own sockets' entries, so the entries of an instance that died fade within PRESENCE_TTL."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from parley.storage.redis_keys import RedisClient

PRESENCE_TTL_SECONDS = 30
REFRESH_INTERVAL_SECONDS = 10


@dataclass(frozen=True, slots=True)
class PresenceEntry:
    room: str
    sid: str
    username: str

    @property
    def member(self) -> str:
        return f"{self.sid}\t{self.username}"


def _key(room: str) -> str:
    return f"presence:{room}"


def _expiry() -> float:
    return (time.time() + PRESENCE_TTL_SECONDS) * 1000


class PresenceStore:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def add(self, entry: PresenceEntry) -> list[str]:
        """Enter `entry`; the room's users after it (one round trip)."""
        return await self._change(entry, add=True, read=True) or []

    async def remove(self, entry: PresenceEntry) -> list[str]:
        """Remove `entry`; the room's users after it (one round trip)."""
        return await self._change(entry, add=False, read=True) or []

    async def enter(self, entry: PresenceEntry) -> None:
        """Enter `entry` without reading the list back (the announcement is coalesced)."""
        await self._change(entry, add=True, read=False)

    async def leave(self, entry: PresenceEntry) -> None:
        await self._change(entry, add=False, read=False)

    async def _change(self, entry: PresenceEntry, *, add: bool, read: bool) -> list[str] | None:
        key = _key(entry.room)
        async with self._redis.pipeline(transaction=False) as pipe:
            if add:
                pipe.zadd(key, {entry.member: _expiry()})
            else:
                pipe.zrem(key, entry.member)
            if read:
                pipe.zremrangebyscore(key, "-inf", time.time() * 1000)
                pipe.zrange(key, 0, -1)
            replies = await pipe.execute()
        return _names(replies[-1]) if read else None

    async def refresh(self, entries: Iterable[PresenceEntry]) -> None:
        expiry = _expiry()
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.zadd(_key(entry.room), {entry.member: expiry})
            await pipe.execute()

    async def users(self, room: str) -> list[str]:
        """Sorted, distinct names of the users with at least one live socket in the room."""
        key = _key(room)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", time.time() * 1000)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        return _names(members)


def _names(members: list[str]) -> list[str]:
    return sorted({member.split("\t", 1)[1] for member in members}, key=str.lower)
