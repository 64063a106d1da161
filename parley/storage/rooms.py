"""Rooms table. Rooms are never deleted, so a room seen once is cached for the process's life."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from parley.ids import iso_utc
from parley.models import Room
from parley.storage.dynamo import DynamoClient, is_conditional_failure, unavailable_on_failure
from parley.storage.redis_keys import RedisClient

GENERAL = Room(id="general", name="general")
_NON_ID_RUN = re.compile(r"[^a-z0-9]+")


def room_id_for(name: str) -> str:
    """ "Random Talk!" -> "random-talk" (docs/reference.md, POST /api/rooms)."""
    return _NON_ID_RUN.sub("-", name.lower()).strip("-")


class RoomExists(Exception):
    pass


# Rooms are never deleted, so each one created is kept for good: a user creates at most this
# many a day (a window that starts with their first creation).
ROOMS_PER_USER_PER_DAY = 10
ROOM_QUOTA_WINDOW_SECONDS = 24 * 3600

# Count one creation; over the quota, take it back and answer the seconds left in the window.
_TAKE = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if count > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return math.max(redis.call('TTL', KEYS[1]), 1)
end
return 0
"""
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
return 0
"""


class RoomQuota:
    """How many rooms each user may still create today (a Redis counter per user)."""

    def __init__(
        self,
        redis: RedisClient,
        *,
        per_day: int = ROOMS_PER_USER_PER_DAY,
        window_seconds: int = ROOM_QUOTA_WINDOW_SECONDS,
    ) -> None:
        self._per_day = per_day
        self._window = window_seconds
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    @staticmethod
    def _key(username: str) -> str:
        return f"roomquota:{username.lower()}"

    async def take(self, username: str) -> int | None:
        """Count a creation; None when allowed, else the seconds until the next is."""
        wait = int(await self._take(keys=[self._key(username)], args=[self._per_day, self._window]))
        return wait or None

    async def give_back(self, username: str) -> None:
        """A creation that did not happen (the id was taken, DynamoDB away) does not count."""
        await self._give_back(keys=[self._key(username)], args=[])


class RoomStore:
    def __init__(self, client: DynamoClient, table: str) -> None:
        self._client = client
        self._table = table
        self._known: set[str] = set()

    async def create(self, *, name: str, created_by: str) -> Room:
        room = Room(id=room_id_for(name), name=name)
        with unavailable_on_failure():
            try:
                await self._put(room, created_by=created_by)
            except ClientError as exc:
                if is_conditional_failure(exc):
                    raise RoomExists(room.id) from None
                raise
        self._known.add(room.id)
        return room

    async def ensure_general(self) -> None:
        with unavailable_on_failure():
            try:
                await self._put(GENERAL, created_by="parley")
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
        self._known.add(GENERAL.id)

    async def _put(self, room: Room, *, created_by: str) -> None:
        await self._client.put_item(
            TableName=self._table,
            Item={
                "id": {"S": room.id},
                "name": {"S": room.name},
                "createdBy": {"S": created_by},
                "createdAt": {"S": iso_utc(datetime.now(UTC))},
            },
            ConditionExpression="attribute_not_exists(id)",
        )

    async def exists(self, room_id: str) -> bool:
        if room_id in self._known:
            return True
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table, Key={"id": {"S": room_id}}, ProjectionExpression="id"
            )
        if "Item" not in response:
            return False
        self._known.add(room_id)
        return True

    async def list(self) -> list[Room]:
        rooms: list[Room] = []
        with unavailable_on_failure():
            async for page in self._client.get_paginator("scan").paginate(TableName=self._table):
                rooms.extend(
                    Room(id=item["id"]["S"], name=item.get("name", item["id"])["S"])
                    for item in page.get("Items", [])
                )
        self._known.update(room.id for room in rooms)
        return sorted(rooms, key=lambda room: (room.id != GENERAL.id, room.id))
