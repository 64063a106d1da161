"""Messages table: partition `room`, sort key `id` (a ULID), so a Query on one room reads its
history in time order. Also the one place that turns an item, written by us or by anyone else,
into a Message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from parley.ids import MIN_ULID, is_ulid, iso_utc, ulid_datetime
from parley.models import Message, Page
from parley.storage.dynamo import DynamoClient, is_conditional_failure, unavailable_on_failure

MAX_TEXT_LENGTH = 4000  # code points, after trimming
# And in bytes (UTF-8), what Redis, DynamoDB and every ack and join are sized by: 4000 code
# points take at most 16,000 bytes, so today the code-point limit binds first; this one keeps
# a message's size bounded if that limit ever grows.
MAX_TEXT_BYTES = 16 * 1024
MAX_NAME_LENGTH = 64

Item = dict[str, dict[str, Any]]


# `unread` counts at most this many (100 means "100 or more": docs/reference.md).
UNREAD_CAP = 100
# Counting reads the messages after the marker, newest first, in pages of UNREAD_CAP + 1 items of
# three small attributes, and stops at UNREAD_CAP others' messages or this many items (the
# reader's own messages do not count but are read): a room is never read whole.
UNREAD_MAX_ITEMS = 5 * (UNREAD_CAP + 1)


@dataclass(frozen=True, slots=True)
class ReadCounts:
    unread: int
    mentions: int
    last_message_id: str | None
    items_read: int = 0  # what the count cost (bench/unread_cost.py)


class InvalidItem(ValueError):
    """An item in the messages table that is not a message we can show."""


def clean_text(text: str) -> str | None:
    """The text as stored and shown, or None when it is empty or too long."""
    trimmed = text.strip()
    return trimmed if 1 <= len(trimmed) <= MAX_TEXT_LENGTH else None


def to_item(message: Message) -> Item:
    item: Item = {
        "room": {"S": message.room},
        "id": {"S": message.id},
        "username": {"S": message.username},
        "text": {"S": message.text},
        "createdAt": {"S": message.created_at},
    }
    if message.client_id is not None:
        item["clientId"] = {"S": message.client_id}
    return item


def _string(item: Item, name: str) -> str | None:
    value = item.get(name)
    if isinstance(value, dict) and isinstance(value.get("S"), str):
        return str(value["S"])
    return None


def _created_at(item: Item, message_id: str) -> str:
    raw = _string(item, "createdAt")
    if raw is not None:
        try:
            return iso_utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
        except ValueError:
            pass
    return iso_utc(ulid_datetime(message_id))


def from_item(item: Item) -> Message:
    """Validate and normalize an item (DynamoDB JSON, as in Query results and stream images)."""
    room, message_id = _string(item, "room"), _string(item, "id")
    username, raw_text = _string(item, "username"), _string(item, "text")
    if not room or len(room) > MAX_NAME_LENGTH:
        raise InvalidItem("room missing or too long")
    if message_id is None or not is_ulid(message_id):
        raise InvalidItem("id is not a ULID")
    if not username or not username.strip() or len(username) > MAX_NAME_LENGTH:
        raise InvalidItem("username missing or too long")
    text = clean_text(raw_text) if raw_text is not None else None
    if text is None:
        raise InvalidItem(f"text must be 1-{MAX_TEXT_LENGTH} characters after trimming")
    return Message(
        id=message_id,
        room=room,
        username=username.strip(),
        text=text,
        created_at=_created_at(item, message_id),
        client_id=_string(item, "clientId"),
    )


class MessageStore:
    def __init__(self, client: DynamoClient, table: str) -> None:
        self._client = client
        self._table = table

    async def put(self, message: Message) -> None:
        """Store the message; storing one that is there already (same room and id) is a
        no-op, so a write may be retried after an uncertain failure."""
        with unavailable_on_failure():
            try:
                await self._client.put_item(
                    TableName=self._table,
                    Item=to_item(message),
                    ConditionExpression="attribute_not_exists(id)",
                )
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise

    async def get(self, room: str, message_id: str) -> Message | None:
        """The message at this key (a strongly consistent read), or None: none there, or an
        item that is not a message we can show."""
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table,
                Key={"room": {"S": room}, "id": {"S": message_id}},
                ConsistentRead=True,
            )
        return _valid(response["Item"]) if "Item" in response else None

    async def exists(self, room: str, message_id: str) -> bool:
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table,
                Key={"room": {"S": room}, "id": {"S": message_id}},
                ProjectionExpression="id",
                ConsistentRead=True,
            )
        return "Item" in response

    async def read_counts(self, room: str, *, after: str | None, reader: str) -> ReadCounts:
        """Messages newer than `after` (the reader's marker) written by others, capped at
        UNREAD_CAP; how many of those mention the reader (their item's `mentions`, a list of
        lower-cased names); and the room's newest id (`after` when nothing is newer). A bounded
        Query newest first, projecting three attributes (docs/design/conversations.md, "Read
        state")."""
        me = reader.lower()
        unread = mentions = read = 0
        newest: str | None = None
        start: Item | None = None
        while unread < UNREAD_CAP and read < UNREAD_MAX_ITEMS:
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#r = :r AND id > :after",
                "ExpressionAttributeNames": {"#r": "room", "#u": "username", "#m": "mentions"},
                "ExpressionAttributeValues": {
                    ":r": {"S": room},
                    ":after": {"S": after or MIN_ULID},
                },
                "ProjectionExpression": "id, #u, #m",
                "ScanIndexForward": False,
                "Limit": min(UNREAD_CAP + 1, UNREAD_MAX_ITEMS - read),
            }
            if start is not None:
                request["ExclusiveStartKey"] = start
            with unavailable_on_failure():
                response = await self._client.query(**request)
            items: list[Item] = response.get("Items", [])
            read += len(items)
            if newest is None and items:
                newest = items[0]["id"]["S"]
            for item in items:
                if (_string(item, "username") or "").strip().lower() == me:
                    continue
                if unread < UNREAD_CAP:
                    unread += 1
                    mentions += me in _names(item.get("mentions"))
            start = response.get("LastEvaluatedKey")
            if start is None:
                break
        return ReadCounts(unread, mentions, newest or after, read)

    async def latest(self, room: str, *, limit: int) -> Page:
        return await self._page(room, "#r = :r", {}, newest_first=True, limit=limit)

    async def before(self, room: str, *, before: str, limit: int) -> Page:
        bound = {":bound": {"S": before}}
        return await self._page(
            room, "#r = :r AND id < :bound", bound, newest_first=True, limit=limit
        )

    async def after(self, room: str, *, after: str, limit: int) -> Page:
        bound = {":bound": {"S": after or MIN_ULID}}
        return await self._page(
            room, "#r = :r AND id > :bound", bound, newest_first=False, limit=limit
        )

    async def _page(
        self, room: str, condition: str, values: Item, *, newest_first: bool, limit: int
    ) -> Page:
        # One extra item tells whether another page exists, so `next` is null exactly when
        # nothing is left. Items that are not valid messages are skipped here as they are by
        # the stream pipeline, so history shows what live clients were shown.
        with unavailable_on_failure():
            response = await self._client.query(
                TableName=self._table,
                KeyConditionExpression=condition,
                ExpressionAttributeNames={"#r": "room"},
                ExpressionAttributeValues={":r": {"S": room}, **values},
                ScanIndexForward=not newest_first,
                Limit=limit + 1,
                ConsistentRead=True,
            )
        items: list[Item] = response.get("Items", [])[:limit]
        # A Query also stops early at 1 MB of data (DynamoDB's page size limit).
        has_more = len(response.get("Items", [])) > limit or "LastEvaluatedKey" in response
        messages = [m for m in (_valid(item) for item in items) if m is not None]
        if newest_first:
            messages.reverse()
        edge = items[-1]["id"]["S"] if has_more and items else None
        return Page(messages=messages, next=edge)


def _names(value: dict[str, Any] | None) -> set[str]:
    """A `mentions` attribute, a list of strings or a string set, as a set of names."""
    if not isinstance(value, dict):
        return set()
    if isinstance(value.get("SS"), list):
        return {str(name) for name in value["SS"]}
    if isinstance(value.get("L"), list):
        return {str(entry["S"]) for entry in value["L"] if isinstance(entry, dict) and "S" in entry}
    return set()


def _valid(item: Item) -> Message | None:
    try:
        return from_item(item)
    except InvalidItem:
        return None
