"""Messages table: partition `room`, sort key `id` (a ULID), so a Query on one room reads its
history in time order. Also the one place that turns an item, written by us or by anyone else,
into a Message."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from parley.ids import MIN_ULID, is_ulid, iso_utc, ulid_datetime
from parley.models import QUOTE_LENGTH, Message, Page, Quote, Reaction
from parley.storage.direct import DirectDynamo
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


# Attributes of a message item beyond the contract's (docs/reference.md, "DynamoDB").
EDITED_AT, DELETED, REPLY_TO, MENTIONS = "editedAt", "deleted", "replyTo", "mentions"
# A new ULID on every change made through the app (edit, delete, reaction, a parent's
# deletion blanking a quote): the sort key of the sparse CHANGES_INDEX, and the token of the
# change's "delivered once" mark (storage/sends.py).
CHANGED_AT = "changedAt"
CHANGES_INDEX = "changes"
# On a parent: the ids of its replies (a string set), so deleting it erases their quotes.
REPLIES = "replies"
# Reactions: one top-level string set of usernames per emoji, because DynamoDB's ADD and
# DELETE (atomic set updates: two people reacting at once both count) work on top-level
# attributes only; the emoji's first use (ms since the epoch) orders them; REACTION_KINDS,
# the set of emoji on the message, bounds how many there are in the same conditional update.
REACTION_PREFIX, REACTION_AT_PREFIX, REACTION_KINDS = "reaction:", "reactionAt:", "reactionKinds"
MAX_REACTION_KINDS = 20


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
    if message.edited_at is not None:
        item[EDITED_AT] = {"S": message.edited_at}
    if message.deleted:
        item[DELETED] = {"BOOL": True}
    if message.reply_to is not None:
        quote = message.reply_to
        item[REPLY_TO] = {
            "M": {
                "id": {"S": quote.id},
                "username": {"S": quote.username},
                "text": {"S": quote.text},
            }
        }
    if message.mentions:
        item[MENTIONS] = {"L": [{"S": name} for name in message.mentions]}
    for order, reaction in enumerate(message.reactions):
        item[REACTION_PREFIX + reaction.emoji] = {"SS": list(reaction.users)}
        item[REACTION_AT_PREFIX + reaction.emoji] = {"N": str(order)}
    if message.reactions:
        item[REACTION_KINDS] = {"SS": [reaction.emoji for reaction in message.reactions]}
    return item


def tombstone_item(message: Message, *, change: str) -> Item:
    """What stays of a deleted message: the contract's tombstone, and its change."""
    return {
        "room": {"S": message.room},
        "id": {"S": message.id},
        "username": {"S": message.username},
        "createdAt": {"S": message.created_at},
        "text": {"S": ""},
        DELETED: {"BOOL": True},
        CHANGED_AT: {"S": change},
    }


def _string(item: Item, name: str) -> str | None:
    value = item.get(name)
    if isinstance(value, dict) and isinstance(value.get("S"), str):
        return str(value["S"])
    return None


def string_of(item: Item, name: str) -> str | None:
    """A string attribute of an item, or None."""
    return _string(item, name)


def _iso(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return iso_utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        return None


def _created_at(item: Item, message_id: str) -> str:
    return _iso(_string(item, "createdAt")) or iso_utc(ulid_datetime(message_id))


def _quote(item: Item) -> Quote | None:
    value = item.get(REPLY_TO)
    fields = value.get("M") if isinstance(value, dict) else None
    if not isinstance(fields, dict):
        return None
    quoted_id, username = _string(fields, "id"), _string(fields, "username")
    text = _string(fields, "text")
    if quoted_id is None or not is_ulid(quoted_id) or not username or text is None:
        return None
    return Quote(id=quoted_id, username=username, text=text[:QUOTE_LENGTH])


def _reactions(item: Item) -> tuple[Reaction, ...]:
    """The reactions REACTION_KINDS names (the app writes both in one update; an item
    without it, the common case, is read at the cost of one lookup)."""
    kinds = item.get(REACTION_KINDS)
    emojis = kinds.get("SS") if isinstance(kinds, dict) else None
    if not isinstance(emojis, list):
        return ()
    found: list[tuple[float, str, tuple[str, ...]]] = []
    for emoji in map(str, emojis):
        users = item.get(REACTION_PREFIX + emoji, {}).get("SS")
        if not isinstance(users, list) or not users:
            continue  # nobody reacts with it any more (its place not yet freed)
        at = item.get(REACTION_AT_PREFIX + emoji, {}).get("N")
        try:
            first_use = float(at) if at is not None else math.inf
        except ValueError:
            first_use = math.inf
        found.append((first_use, emoji, tuple(sorted(map(str, users), key=str.lower))))
    found.sort()
    return tuple(Reaction(emoji=emoji, users=users) for _, emoji, users in found)


def _mentions(item: Item) -> tuple[str, ...]:
    value = item.get(MENTIONS)
    names = value.get("L") if isinstance(value, dict) else None
    if not isinstance(names, list):
        return ()
    return tuple(str(v["S"]) for v in names if isinstance(v, dict) and isinstance(v.get("S"), str))


def is_deleted(item: Item) -> bool:
    value = item.get(DELETED)
    return isinstance(value, dict) and value.get("BOOL") is True


def from_item(item: Item) -> Message:
    """Validate and normalize an item (DynamoDB JSON, as in Query results and stream images).
    Items written before the rich fields, or by others, simply lack them."""
    room, message_id = _string(item, "room"), _string(item, "id")
    username, raw_text = _string(item, "username"), _string(item, "text")
    if not room or len(room) > MAX_NAME_LENGTH:
        raise InvalidItem("room missing or too long")
    if message_id is None or not is_ulid(message_id):
        raise InvalidItem("id is not a ULID")
    if not username or not username.strip() or len(username) > MAX_NAME_LENGTH:
        raise InvalidItem("username missing or too long")
    created_at = _created_at(item, message_id)
    if is_deleted(item):
        # Whatever else a deleted item holds (an outside writer's), a tombstone shows none of it.
        return Message(
            id=message_id,
            room=room,
            username=username.strip(),
            text="",
            created_at=created_at,
            deleted=True,
        )
    text = clean_text(raw_text) if raw_text is not None else None
    if text is None:
        raise InvalidItem(f"text must be 1-{MAX_TEXT_LENGTH} characters after trimming")
    return Message(
        id=message_id,
        room=room,
        username=username.strip(),
        text=text,
        created_at=created_at,
        client_id=_string(item, "clientId"),
        edited_at=_iso(_string(item, EDITED_AT)),
        reply_to=_quote(item),
        reactions=_reactions(item),
        mentions=_mentions(item),
    )


# A condition that holds for an item not deleted (an outside writer may store `false`).
_NOT_DELETED = "(attribute_not_exists(deleted) OR deleted = :false)"


class NotApplied(Exception):
    """A conditional change that did not apply; `current` is the message as it is now (None:
    no item, or one that is not a message)."""

    def __init__(self, current: Message | None) -> None:
        super().__init__("condition not met")
        self.current = current


class ItemTooLarge(Exception):
    """The change would make the item larger than DynamoDB's 400 KB (many people reacting
    with many emoji): refused, nothing written."""


def _too_large(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    return error.get(
        "Code"
    ) == "ValidationException" and "exceeded the maximum allowed size" in str(
        error.get("Message", "")
    )


class ParentGone(Exception):
    """A reply whose parent no longer exists (or was deleted) when the reply was stored."""


class MessageStore:
    def __init__(
        self, client: DynamoClient, table: str, *, direct: DirectDynamo | None = None
    ) -> None:
        self._client = client
        self._table = table
        # Where a plain message's PutItem goes: the lean path of every send (storage/direct.py).
        self._direct = direct

    async def put(self, message: Message) -> None:
        """Store the message; storing one that is there already (same room and id) is a
        no-op, so a write may be retried after an uncertain failure. A reply is stored in one
        transaction with its id added to the parent's REPLIES, on condition that the parent
        still exists and is not deleted (else ParentGone): a parent deleted at any moment
        knows every reply that quotes it."""
        if message.reply_to is not None:
            await self._put_reply(message, message.reply_to)
            return
        params = {
            "TableName": self._table,
            "Item": to_item(message),
            "ConditionExpression": "attribute_not_exists(id)",
        }
        with unavailable_on_failure():
            try:
                if self._direct is not None:
                    await self._direct.call("PutItem", params)
                else:
                    await self._client.put_item(**params)
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise

    async def _put_reply(self, message: Message, quote: Quote) -> None:
        with unavailable_on_failure():
            try:
                await self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": to_item(message),
                                "ConditionExpression": "attribute_not_exists(id)",
                            }
                        },
                        {
                            "Update": {
                                "TableName": self._table,
                                "Key": self._key(message.room, quote.id),
                                "UpdateExpression": "ADD #replies :reply",
                                "ConditionExpression": f"attribute_exists(id) AND {_NOT_DELETED}",
                                "ExpressionAttributeNames": {"#replies": REPLIES},
                                "ExpressionAttributeValues": {
                                    ":reply": {"SS": [message.id]},
                                    ":false": {"BOOL": False},
                                },
                            }
                        },
                    ]
                )
            except ClientError as exc:
                reasons = [
                    str(reason.get("Code", "None"))
                    for reason in exc.response.get("CancellationReasons", [])
                ]
                if len(reasons) != 2:
                    raise
                if reasons[0] == "ConditionalCheckFailed":
                    return  # stored before: the same id, a retry
                if reasons[1] == "ConditionalCheckFailed":
                    raise ParentGone(quote.id) from None
                raise

    @staticmethod
    def _key(room: str, message_id: str) -> Item:
        return {"room": {"S": room}, "id": {"S": message_id}}

    async def _update(
        self,
        room: str,
        message_id: str,
        *,
        update: str,
        condition: str,
        names: dict[str, str] | None = None,
        values: Item,
    ) -> Item:
        """One conditional UpdateItem; the item as it is after it. NotApplied (with the item
        as it is, read again) when the condition does not hold."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(room, message_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        with unavailable_on_failure():
            try:
                response = await self._client.update_item(**kwargs)
            except ClientError as exc:
                if _too_large(exc):
                    raise ItemTooLarge(message_id) from None
                if not is_conditional_failure(exc):
                    raise
            else:
                attributes: Item = response["Attributes"]
                return attributes
        raise NotApplied(await self.get(room, message_id))

    async def edit(
        self,
        room: str,
        message_id: str,
        *,
        author: str,
        text: str,
        mentions: Sequence[str],
        edited_at: str,
        change: str,
    ) -> Message:
        """Replace the text of `author`'s message unless it is deleted."""
        values: Item = {
            ":text": {"S": text},
            ":edited": {"S": edited_at},
            ":change": {"S": change},
            ":author": {"S": author},
            ":false": {"BOOL": False},
        }
        update = "SET #text = :text, #edited = :edited, #changed = :change"
        if mentions:
            update += ", #mentions = :mentions"
            values[":mentions"] = {"L": [{"S": name} for name in mentions]}
        else:
            update += " REMOVE #mentions"
        item = await self._update(
            room,
            message_id,
            update=update,
            condition=f"attribute_exists(id) AND username = :author AND {_NOT_DELETED}",
            names={
                "#text": "text",
                "#edited": EDITED_AT,
                "#changed": CHANGED_AT,
                "#mentions": MENTIONS,
            },
            values=values,
        )
        return from_item(item)

    async def erase(self, message: Message, *, change: str) -> list[str]:
        """Replace the item with its tombstone (one conditional PutItem: every attribute goes,
        the reactions' too, whose names depend on the emoji), unless it is gone or deleted
        already (NotApplied). The ids of its replies, as they were at that moment."""
        with unavailable_on_failure():
            try:
                response = await self._client.put_item(
                    TableName=self._table,
                    Item=tombstone_item(message, change=change),
                    ConditionExpression=f"attribute_exists(id) AND {_NOT_DELETED}",
                    ExpressionAttributeValues={":false": {"BOOL": False}},
                    ReturnValues="ALL_OLD",
                )
            except ClientError as exc:
                if not is_conditional_failure(exc):
                    raise
                raise NotApplied(await self.get(message.room, message.id)) from None
        replies = response.get("Attributes", {}).get(REPLIES, {}).get("SS", [])
        return sorted(str(reply) for reply in replies)

    async def blank_quote(self, room: str, reply_id: str, *, parent: str, change: str) -> Message:
        """Erase the quote of a deleted parent from one of its replies (NotApplied: the reply
        is gone, deleted, or quotes another message)."""
        item = await self._update(
            room,
            reply_id,
            update="SET #reply.#text = :empty, #changed = :change",
            condition=f"#reply.id = :parent AND {_NOT_DELETED}",
            names={"#reply": REPLY_TO, "#text": "text", "#changed": CHANGED_AT},
            values={
                ":empty": {"S": ""},
                ":change": {"S": change},
                ":parent": {"S": parent},
                ":false": {"BOOL": False},
            },
        )
        return from_item(item)

    async def react(
        self, room: str, message_id: str, *, emoji: str, username: str, change: str, now_ms: int
    ) -> Message:
        """Add `username` to the emoji's reactions, unless the message is gone or deleted, the
        user reacted so already, or it would be one emoji too many (NotApplied)."""
        item = await self._update(
            room,
            message_id,
            update=(
                "ADD #users :user, #kinds :emoji "
                "SET #at = if_not_exists(#at, :now), #changed = :change"
            ),
            condition=(
                f"attribute_exists(id) AND {_NOT_DELETED} AND NOT contains(#users, :name) AND "
                "(attribute_not_exists(#kinds) OR contains(#kinds, :one) OR size(#kinds) < :max)"
            ),
            names={
                "#users": REACTION_PREFIX + emoji,
                "#at": REACTION_AT_PREFIX + emoji,
                "#kinds": REACTION_KINDS,
                "#changed": CHANGED_AT,
            },
            values={
                ":user": {"SS": [username]},
                ":name": {"S": username},
                ":emoji": {"SS": [emoji]},
                ":one": {"S": emoji},
                ":now": {"N": str(now_ms)},
                ":change": {"S": change},
                ":max": {"N": str(MAX_REACTION_KINDS)},
                ":false": {"BOOL": False},
            },
        )
        return from_item(item)

    async def unreact(
        self, room: str, message_id: str, *, emoji: str, username: str, change: str
    ) -> Message:
        """Take `username` off the emoji's reactions (NotApplied: the message is gone or
        deleted, or the user had not reacted so). The last one off frees the emoji's place."""
        names = {"#users": REACTION_PREFIX + emoji, "#changed": CHANGED_AT}
        item = await self._update(
            room,
            message_id,
            update="DELETE #users :user SET #changed = :change",
            condition=f"attribute_exists(id) AND {_NOT_DELETED} AND contains(#users, :name)",
            names=names,
            values={
                ":user": {"SS": [username]},
                ":name": {"S": username},
                ":change": {"S": change},
                ":false": {"BOOL": False},
            },
        )
        if REACTION_PREFIX + emoji not in item:  # DynamoDB removes a set emptied by DELETE
            await self._forget_emoji(room, message_id, emoji)
        return from_item(item)

    async def _forget_emoji(self, room: str, message_id: str, emoji: str) -> None:
        """Free an emoji nobody reacts with any more (its order and its place among the 20),
        unless someone reacted with it again meanwhile. Nothing shown changes."""
        with contextlib.suppress(NotApplied):
            await self._update(
                room,
                message_id,
                update="REMOVE #at DELETE #kinds :emoji",
                condition="attribute_exists(id) AND attribute_not_exists(#users)",
                names={
                    "#at": REACTION_AT_PREFIX + emoji,
                    "#kinds": REACTION_KINDS,
                    "#users": REACTION_PREFIX + emoji,
                },
                values={":emoji": {"SS": [emoji]}},
            )

    async def changes(self, room: str, *, since: str, limit: int) -> Page:
        """The room's messages changed through the app after the change `since`, in change
        order, from the sparse CHANGES_INDEX (only changed items are in it). `next` is the
        `since` of the following page."""
        with unavailable_on_failure():
            response = await self._client.query(
                TableName=self._table,
                IndexName=CHANGES_INDEX,
                KeyConditionExpression="#r = :r AND #changed > :since",
                ExpressionAttributeNames={"#r": "room", "#changed": CHANGED_AT},
                ExpressionAttributeValues={":r": {"S": room}, ":since": {"S": since}},
                ScanIndexForward=True,
                Limit=limit + 1,
            )
        items: list[Item] = response.get("Items", [])[:limit]
        has_more = len(response.get("Items", [])) > limit or "LastEvaluatedKey" in response
        messages = [m for m in (_valid(item) for item in items) if m is not None]
        edge = _string(items[-1], CHANGED_AT) if has_more and items else None
        return Page(messages=messages, next=edge)

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
