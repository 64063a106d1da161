"""Rooms table: one item per room (docs/design/conversations.md, "Tables"), with the sparse
`directory` index of public rooms by name. Rooms are never deleted, so a room seen once is known
to exist for the process's life (its kind, name and counts are read afresh)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from parley.access import Kind, RoomRecord
from parley.ids import iso_utc
from parley.storage.dynamo import (
    DIRECTORY_INDEX,
    DynamoClient,
    StorageUnavailable,
    is_conditional_failure,
    unavailable_on_failure,
)
from parley.storage.redis_keys import RedisClient

Item = dict[str, dict[str, Any]]

GENERAL_ID = "general"
GENERAL = RoomRecord(id=GENERAL_ID, name="general", kind=Kind.PUBLIC, created_by="parley")
LISTED = "public"  # the directory index's one partition
# BatchGetItem takes at most 100 keys a call (DynamoDB API reference, BatchGetItem).
BATCH_GET_KEYS = 100
# One directory request reads at most this many index items looking for matches, then answers
# what it found with a cursor to go on: a search that matches little never reads the whole index.
DIRECTORY_MAX_EVALUATED = 1000
_NON_ID_RUN = re.compile(r"[^a-z0-9]+")


def room_id_for(name: str) -> str:
    """ "Random Talk!" -> "random-talk" (docs/reference.md, POST /api/rooms)."""
    return _NON_ID_RUN.sub("-", name.lower()).strip("-")


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


def room_item(record: RoomRecord, *, created_at: str | None = None) -> Item:
    """The item of a new room; a public room is also in the directory index."""
    item: Item = {
        "id": {"S": record.id},
        "name": {"S": record.name},
        "kind": {"S": record.kind.value},
        "topic": {"S": record.topic},
        "createdBy": {"S": record.created_by},
        "createdAt": {"S": created_at or iso_utc(datetime.now(UTC))},
        "members": {"N": str(record.members)},
        "owners": {"N": str(record.owners)},
    }
    if record.pair is not None:
        item["pair"] = {"L": [{"S": name} for name in record.pair]}
    if record.kind is Kind.PUBLIC:
        item |= directory_fields(record.id, record.name, record.topic)
    return item


def directory_fields(room_id: str, name: str, topic: str) -> Item:
    """What puts a public room in the directory and makes it searchable by name or topic."""
    return {
        "listed": {"S": LISTED},
        "nameKey": {"S": f"{name.lower()}#{room_id}"},
        "search": {"S": f"{name.lower()}\n{topic.lower()}"},
    }


def _number(item: Item, name: str) -> int:
    value = item.get(name, {}).get("N")
    return int(value) if value is not None else 0


def from_room_item(item: Item) -> RoomRecord:
    """A room item as written by any version: without `kind` (before conversations) it is
    public, without counts they are 0."""
    kind_value = item.get("kind", {}).get("S", Kind.PUBLIC.value)
    pair = [entry["S"] for entry in item.get("pair", {}).get("L", [])]
    return RoomRecord(
        id=item["id"]["S"],
        name=item.get("name", item["id"])["S"],
        kind=Kind(kind_value) if kind_value in Kind.__members__.values() else Kind.PUBLIC,
        topic=item.get("topic", {}).get("S", ""),
        members=_number(item, "members"),
        owners=_number(item, "owners"),
        created_by=item.get("createdBy", {}).get("S", ""),
        pair=(pair[0], pair[1]) if len(pair) == 2 else None,
    )


class BadCursor(ValueError):
    """A directory cursor this server did not make."""


def encode_cursor(key: Item) -> str:
    plain = {name: value["S"] for name, value in key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Item:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise BadCursor(cursor) from None
    if not isinstance(plain, dict) or set(plain) != {"listed", "nameKey", "id"}:
        raise BadCursor(cursor)
    if plain["listed"] != LISTED or not all(
        isinstance(value, str) and 0 < len(value) <= 200 for value in plain.values()
    ):
        raise BadCursor(cursor)
    return {name: {"S": value} for name, value in plain.items()}


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    rooms: list[RoomRecord]
    next: str | None


class RoomStore:
    def __init__(self, client: DynamoClient, table: str) -> None:
        self._client = client
        self._table = table
        self._known: set[str] = set()

    async def get(self, room_id: str) -> RoomRecord | None:
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table, Key={"id": {"S": room_id}}, ConsistentRead=True
            )
        if "Item" not in response:
            return None
        self._known.add(room_id)
        return from_room_item(response["Item"])

    async def get_many(self, room_ids: Iterable[str]) -> dict[str, RoomRecord]:
        """The rooms of these ids that exist, in BatchGetItem calls of at most 100 keys."""
        wanted = list(dict.fromkeys(room_ids))
        found: dict[str, RoomRecord] = {}
        for start in range(0, len(wanted), BATCH_GET_KEYS):
            keys = [{"id": {"S": room_id}} for room_id in wanted[start : start + BATCH_GET_KEYS]]
            for item in await batch_get(self._client, self._table, keys):
                record = from_room_item(item)
                found[record.id] = record
        self._known.update(found)
        return found

    async def exists(self, room_id: str) -> bool:
        if room_id in self._known:
            return True
        return await self.get(room_id) is not None

    async def update(
        self, room: RoomRecord, *, name: str | None = None, topic: str | None = None
    ) -> RoomRecord:
        """Rename the room or change its topic (a public room's directory fields follow)."""
        new_name = room.name if name is None else name
        new_topic = room.topic if topic is None else topic
        fields: Item = {"name": {"S": new_name}, "topic": {"S": new_topic}}
        if room.kind is Kind.PUBLIC:
            fields |= directory_fields(room.id, new_name, new_topic)
        names = {f"#{key}": key for key in fields}
        values = {f":{key}": value for key, value in fields.items()}
        with unavailable_on_failure():
            response = await self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": room.id}},
                UpdateExpression="SET " + ", ".join(f"#{key} = :{key}" for key in fields),
                ConditionExpression="attribute_exists(id)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        return from_room_item(response["Attributes"])

    async def directory(self, *, query: str, limit: int, cursor: str | None) -> DirectoryPage:
        """Public rooms whose name or topic holds `query` (case-insensitive), by name: a Query
        of the `directory` index filtered on `search`, never a scan. Raises BadCursor."""
        start = decode_cursor(cursor) if cursor else None
        found: list[RoomRecord] = []
        evaluated = 0
        while True:
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": DIRECTORY_INDEX,
                "KeyConditionExpression": "#listed = :listed",
                "ExpressionAttributeNames": {"#listed": "listed"},
                "ExpressionAttributeValues": {":listed": {"S": LISTED}},
                # Limit counts items read before the filter, so the last evaluated key is
                # exactly where this page stops.
                "Limit": min(limit - len(found), DIRECTORY_MAX_EVALUATED - evaluated),
            }
            if query:
                request["FilterExpression"] = "contains(#search, :q)"
                request["ExpressionAttributeNames"]["#search"] = "search"
                request["ExpressionAttributeValues"][":q"] = {"S": query.lower()}
            if start is not None:
                request["ExclusiveStartKey"] = start
            with unavailable_on_failure():
                response = await self._client.query(**request)
            evaluated += response.get("ScannedCount", 0)
            found.extend(from_room_item(item) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if start is None or len(found) >= limit or evaluated >= DIRECTORY_MAX_EVALUATED:
                break
        cursor_key = {name: start[name] for name in ("listed", "nameKey", "id")} if start else None
        return DirectoryPage(found, encode_cursor(cursor_key) if cursor_key else None)

    async def ensure_general(self) -> None:
        """`general` exists and is public (checked by `parley migrate` and every start): made
        when missing, and given back its kind and directory fields when they are not public's."""
        with unavailable_on_failure():
            try:
                await self._client.put_item(
                    TableName=self._table,
                    Item=room_item(GENERAL),
                    ConditionExpression="attribute_not_exists(id)",
                )
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                await self._keep_public(GENERAL_ID)
        self._known.add(GENERAL_ID)

    async def _keep_public(self, room_id: str) -> None:
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table, Key={"id": {"S": room_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        if item is None or (item.get("kind", {}).get("S") == Kind.PUBLIC and "listed" in item):
            return
        room = from_room_item(item)
        fields: Item = {"kind": {"S": Kind.PUBLIC.value}, "topic": {"S": room.topic}}
        fields |= directory_fields(room.id, room.name, room.topic)
        with unavailable_on_failure():
            await self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": room_id}},
                UpdateExpression="SET " + ", ".join(f"#{key} = :{key}" for key in fields),
                ExpressionAttributeNames={f"#{key}": key for key in fields},
                ExpressionAttributeValues={f":{key}": value for key, value in fields.items()},
            )

    async def make_public(self, room: RoomRecord) -> None:
        """Give a room written before conversations (no `kind`) its kind and directory fields;
        a room that has a kind is left alone."""
        fields: Item = {"kind": {"S": Kind.PUBLIC.value}, "topic": {"S": room.topic}}
        fields |= directory_fields(room.id, room.name, room.topic)
        with unavailable_on_failure():
            try:
                await self._client.update_item(
                    TableName=self._table,
                    Key={"id": {"S": room.id}},
                    UpdateExpression="SET "
                    + ", ".join(f"#{key} = :{key}" for key in fields)
                    + ", #members = if_not_exists(#members, :zero)"
                    + ", #owners = if_not_exists(#owners, :zero)",
                    ConditionExpression="attribute_exists(id) AND attribute_not_exists(#kind)",
                    ExpressionAttributeNames={
                        **{f"#{key}": key for key in fields},
                        "#members": "members",
                        "#owners": "owners",
                    },
                    ExpressionAttributeValues={
                        **{f":{key}": value for key, value in fields.items()},
                        ":zero": {"N": "0"},
                    },
                )
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise

    async def kindless(self) -> list[RoomRecord]:
        """Rooms written before conversations (no `kind`): for `parley migrate` only (a request
        never scans)."""
        rooms: list[RoomRecord] = []
        with unavailable_on_failure():
            async for page in self._client.get_paginator("scan").paginate(
                TableName=self._table,
                FilterExpression="attribute_not_exists(#kind)",
                ExpressionAttributeNames={"#kind": "kind"},
            ):
                rooms.extend(from_room_item(item) for item in page.get("Items", []))
        return rooms


async def batch_get(client: DynamoClient, table: str, keys: list[Item]) -> list[Item]:
    """One BatchGetItem of at most 100 keys, asking again for what DynamoDB left unprocessed."""
    items: list[Item] = []
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    for _ in range(10):
        if not request:
            break
        with unavailable_on_failure():
            response = await client.batch_get_item(RequestItems=request)
        items.extend(response.get("Responses", {}).get(table, []))
        request = response.get("UnprocessedKeys") or {}
    if request:
        raise StorageUnavailable("DynamoDB: keys left unprocessed after 10 tries")
    return items
