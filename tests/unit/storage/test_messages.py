"""The messages table: items of ours and of outside writers, validated and normalized into
Messages; idempotent writes; history pages in id order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from parley.ids import new_ulid
from parley.models import Message, Quote, Reaction
from parley.storage.dynamo import DynamoClient, StorageUnavailable, TableNames
from parley.storage.messages import (
    MAX_TEXT_LENGTH,
    UNREAD_CAP,
    InvalidItem,
    Item,
    MessageStore,
    NotApplied,
    ParentGone,
    ReadCounts,
    clean_text,
    from_item,
    to_item,
)
from tests.unit.support import failing, make_message, new_name, refused

ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def outside_item(**fields: Any) -> Item:
    """An item as an outside writer might put it: plain DynamoDB JSON, no clientId."""
    item: Item = {
        "room": {"S": "general"},
        "id": {"S": ULID},
        "username": {"S": "ada"},
        "text": {"S": "hello"},
        "createdAt": {"S": "2016-07-30T23:54:10.259Z"},
    }
    for name, value in fields.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = value if isinstance(value, dict) else {"S": value}
    return item


# --- text and items -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("hi", "hi"),
        ("  hi \n", "hi"),
        ("", None),
        (" \t\n ", None),
        ("x" * MAX_TEXT_LENGTH, "x" * MAX_TEXT_LENGTH),
        ("x" * (MAX_TEXT_LENGTH + 1), None),
        (f"  {'x' * MAX_TEXT_LENGTH}  ", "x" * MAX_TEXT_LENGTH),
    ],
)
def test_clean_text(text: str, cleaned: str | None) -> None:
    assert clean_text(text) == cleaned


@pytest.mark.parametrize("client_id", ["c1", None])
def test_an_item_of_ours_round_trips(client_id: str | None) -> None:
    message = make_message(client_id=client_id)
    item = to_item(message)
    assert ("clientId" in item) is (client_id is not None)
    assert from_item(item) == message


def test_an_outside_item_becomes_a_message() -> None:
    assert from_item(outside_item()) == Message(
        id=ULID,
        room="general",
        username="ada",
        text="hello",
        created_at="2016-07-30T23:54:10.259Z",
        client_id=None,
    )


def test_an_outside_item_is_normalized() -> None:
    message = from_item(outside_item(username="  ada ", text="\n hello  "))
    assert (message.username, message.text) == ("ada", "hello")


@pytest.mark.parametrize(
    ("created_at", "normalized"),
    [
        ("2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05.000Z"),
        ("2026-01-02T04:04:05.5+01:00", "2026-01-02T03:04:05.500Z"),
        ("yesterday", "2016-07-30T23:54:10.259Z"),  # unreadable: the time in the id
        (None, "2016-07-30T23:54:10.259Z"),
        ({"N": "1700000000"}, "2016-07-30T23:54:10.259Z"),
    ],
)
def test_created_at_is_normalized_or_taken_from_the_id(created_at: Any, normalized: str) -> None:
    assert from_item(outside_item(createdAt=created_at)).created_at == normalized


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"room": None}, "room missing or too long"),
        ({"room": ""}, "room missing or too long"),
        ({"room": "r" * 65}, "room missing or too long"),
        ({"room": {"N": "1"}}, "room missing or too long"),
        ({"id": None}, "id is not a ULID"),
        ({"id": "42"}, "id is not a ULID"),
        ({"id": ULID.lower()}, "id is not a ULID"),
        ({"username": None}, "username missing or too long"),
        ({"username": "   "}, "username missing or too long"),
        ({"username": "u" * 65}, "username missing or too long"),
        ({"text": None}, "text must be 1-4000 characters after trimming"),
        ({"text": "  "}, "text must be 1-4000 characters after trimming"),
        ({"text": "x" * 4001}, "text must be 1-4000 characters after trimming"),
        ({"text": {"L": []}}, "text must be 1-4000 characters after trimming"),
    ],
)
def test_an_invalid_item_is_refused_with_its_reason(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidItem) as refusal:
        from_item(outside_item(**fields))
    assert str(refusal.value) == reason


# --- the store ------------------------------------------------------------------------------


@pytest.fixture
def store(dynamo: DynamoClient, tables: TableNames) -> MessageStore:
    return MessageStore(dynamo, tables.messages)


@pytest.fixture
def room() -> str:
    return new_name("room")


async def test_a_stored_message_exists(store: MessageStore, room: str) -> None:
    message = make_message(room=room, client_id="c1")
    assert not await store.exists(room, message.id)
    await store.put(message)
    assert await store.exists(room, message.id)
    assert (await store.latest(room, limit=10)).messages == [message]


async def test_a_message_is_read_back_by_its_key(
    store: MessageStore, dynamo: DynamoClient, tables: TableNames, room: str
) -> None:
    message = make_message(room=room, client_id="c1", text="\U0001f600 hello")
    assert await store.get(room, message.id) is None
    await store.put(message)
    assert await store.get(room, message.id) == message
    assert await store.get(new_name("room"), message.id) is None
    invalid = outside_item(room=room, id=new_ulid(), text="   ")
    await dynamo.put_item(TableName=tables.messages, Item=invalid)
    assert await store.get(room, invalid["id"]["S"]) is None
    with refused(dynamo, "GetItem"), pytest.raises(StorageUnavailable):
        await store.get(room, message.id)


async def test_storing_a_message_twice_keeps_the_first(store: MessageStore, room: str) -> None:
    message = make_message(room=room)
    await store.put(message)
    await store.put(replace(message, text="changed"))
    assert (await store.latest(room, limit=10)).messages == [message]


async def test_history_pages_go_back_and_forth_in_id_order(store: MessageStore, room: str) -> None:
    messages = [make_message(room=room, text=f"m{n}") for n in range(5)]
    for message in reversed(messages):
        await store.put(message)
    latest = await store.latest(room, limit=2)
    assert latest.messages == messages[3:]
    assert latest.next == messages[3].id
    older = await store.before(room, before=latest.next, limit=2)
    assert older.messages == messages[1:3]
    oldest = await store.before(room, before=messages[1].id, limit=2)
    assert (oldest.messages, oldest.next) == ([messages[0]], None)
    newer = await store.after(room, after=messages[1].id, limit=2)
    assert (newer.messages, newer.next) == (messages[2:4], messages[3].id)
    assert (await store.after(room, after="", limit=10)).messages == messages


async def test_a_page_of_exactly_the_rest_has_no_next(store: MessageStore, room: str) -> None:
    messages = [make_message(room=room) for _ in range(2)]
    for message in messages:
        await store.put(message)
    assert (await store.latest(room, limit=2)).next is None
    assert (await store.latest(room, limit=1)).next == messages[1].id


async def test_history_skips_items_that_are_not_valid_messages(
    store: MessageStore, dynamo: DynamoClient, tables: TableNames, room: str
) -> None:
    before = make_message(room=room)
    invalid = outside_item(room=room, id=new_ulid(), text="   ")
    after = make_message(room=room)
    await store.put(before)
    await dynamo.put_item(TableName=tables.messages, Item=invalid)
    await store.put(after)
    page = await store.latest(room, limit=3)
    assert page.messages == [before, after]
    assert page.next is None


async def test_dynamodb_away_is_storage_unavailable(
    store: MessageStore, dynamo: DynamoClient, room: str
) -> None:
    with refused(dynamo, "PutItem"), pytest.raises(StorageUnavailable, match=r"^DynamoDB: "):
        await store.put(make_message(room=room))
    with refused(dynamo, "GetItem"), pytest.raises(StorageUnavailable):
        await store.exists(room, new_ulid())
    with refused(dynamo, "Query"), pytest.raises(StorageUnavailable):
        await store.latest(room, limit=1)


async def test_a_refused_request_is_not_mistaken_for_an_outage(
    store: MessageStore, dynamo: DynamoClient, room: str
) -> None:
    invalid = ClientError({"Error": {"Code": "ValidationException"}}, "PutItem")
    with failing(dynamo, "PutItem", invalid), pytest.raises(ClientError):
        await store.put(make_message(room=room))


# --- read state: the bounded count after a marker -----------------------------------------


async def put_with_mentions(
    dynamo: DynamoClient, table: str, message: Message, mentions: list[str] | None
) -> None:
    item = to_item(message)
    if mentions is not None:  # as the send path writes it: lower-cased names
        item["mentions"] = {"L": [{"S": name} for name in mentions]}
    await dynamo.put_item(TableName=table, Item=item)


async def test_unread_counts_others_messages_after_the_marker(
    dynamo: DynamoClient, tables: TableNames
) -> None:
    store = MessageStore(dynamo, tables.messages)
    room = new_name("unread")
    assert await store.read_counts(room, after=None, reader="ada") == ReadCounts(0, 0, None, 0)
    first = make_message(room=room, username="bob")
    await store.put(first)
    later = [
        (make_message(room=room, username="Bob"), ["ada"]),
        (make_message(room=room, username="ADA"), ["ada"]),  # her own: never unread
        (make_message(room=room, username="eve"), ["bob"]),
        (make_message(room=room, username="eve"), None),
    ]
    for message, mentions in later:
        await put_with_mentions(dynamo, tables.messages, message, mentions)
    newest = later[-1][0].id
    counts = await store.read_counts(room, after=first.id, reader="Ada")
    assert (counts.unread, counts.mentions, counts.last_message_id) == (3, 1, newest)
    caught_up = await store.read_counts(room, after=newest, reader="ada")
    assert (caught_up.unread, caught_up.last_message_id) == (0, newest)
    from_start = await store.read_counts(room, after=None, reader="ada")
    assert (from_start.unread, from_start.mentions) == (4, 1)


async def test_unread_stops_at_its_cap_without_reading_the_room(
    dynamo: DynamoClient, tables: TableNames
) -> None:
    store = MessageStore(dynamo, tables.messages)
    room = new_name("busy")
    for n in range(UNREAD_CAP + 30):
        await store.put(make_message(room=room, username="bob", text=f"m{n}"))
    counts = await store.read_counts(room, after=None, reader="ada")
    assert counts.unread == UNREAD_CAP
    assert counts.items_read == UNREAD_CAP + 1  # one page, not the room


# --- rich messages ---------------------------------------------------------------------------


def test_a_rich_message_round_trips_through_its_item() -> None:
    message = replace(
        make_message(client_id="c1"),
        edited_at="2026-01-02T03:04:05.000Z",
        reply_to=Quote(id=ULID, username="bob", text="the question"),
        reactions=(Reaction("🎉", ("ada", "Bob")), Reaction("👍", ("cy",))),
        mentions=("bob",),
    )
    assert from_item(to_item(message)) == message


def test_reactions_come_in_order_of_first_use_and_empty_ones_are_not_shown() -> None:
    item = outside_item()
    item["reaction:👍"] = {"SS": ["zed", "Ada", "bob"]}
    item["reactionAt:👍"] = {"N": "20"}
    item["reaction:🎉"] = {"SS": ["ada"]}
    item["reactionAt:🎉"] = {"N": "10"}
    item["reaction:😀"] = {"SS": []}  # not something DynamoDB keeps, but an outside writer might
    item["reaction:🙂"] = {"S": "not a set"}
    item["reaction:🤗"] = {"SS": ["ada"]}  # not among the kinds: not the app's, not shown
    item["reactionKinds"] = {"SS": ["👍", "🎉", "😀", "🙂", "🥲"]}  # 🥲: its place not yet freed
    assert from_item(item).reactions == (
        Reaction("🎉", ("ada",)),
        Reaction("👍", ("Ada", "bob", "zed")),
    )


def test_a_deleted_item_shows_only_its_tombstone() -> None:
    item = outside_item(deleted={"BOOL": True}, text="an outside writer left this")
    item["reaction:👍"] = {"SS": ["ada"]}
    message = from_item(item)
    assert (message.deleted, message.text, message.reactions) == (True, "", ())
    assert from_item(outside_item(deleted={"BOOL": True}, text="")).deleted


@pytest.mark.parametrize(
    "rich",
    [
        {"editedAt": "not a time"},
        {"replyTo": {"M": {"id": {"S": "nope"}, "username": {"S": "x"}, "text": {"S": "y"}}}},
        {"replyTo": {"S": "a string"}},
        {"mentions": {"SS": ["ada"]}},
        {"deleted": {"S": "true"}},
    ],
)
def test_malformed_rich_fields_are_left_out_not_refused(rich: dict[str, Any]) -> None:
    message = from_item(outside_item(**rich))
    assert (message.edited_at, message.reply_to, message.mentions, message.deleted) == (
        None,
        None,
        (),
        False,
    )


async def test_a_reply_is_stored_with_its_parent_knowing_it(
    store: MessageStore, dynamo: DynamoClient, tables: TableNames, room: str
) -> None:
    parent = make_message(room=room)
    await store.put(parent)
    reply = replace(make_message(room=room), reply_to=Quote.of(parent))
    await store.put(reply)
    await store.put(reply)  # a retry: stored once, no error
    assert await store.get(room, reply.id) == reply
    raw = await dynamo.get_item(TableName=tables.messages, Key=store._key(room, parent.id))
    assert raw["Item"]["replies"] == {"SS": [reply.id]}
    orphan = replace(make_message(room=room), reply_to=Quote(new_ulid(), "ada", "gone"))
    with pytest.raises(ParentGone):
        await store.put(orphan)
    assert await store.get(room, orphan.id) is None


async def test_the_last_reaction_off_frees_the_emoji(
    store: MessageStore, dynamo: DynamoClient, tables: TableNames, room: str
) -> None:
    message = make_message(room=room)
    await store.put(message)
    await store.react(room, message.id, emoji="👍", username="ada", change=new_ulid(), now_ms=1)
    await store.unreact(room, message.id, emoji="👍", username="ada", change=new_ulid())
    raw = await dynamo.get_item(TableName=tables.messages, Key=store._key(room, message.id))
    assert not [name for name in raw["Item"] if name.startswith("reaction")]


async def test_changes_are_read_in_change_order(store: MessageStore, room: str) -> None:
    messages = [make_message(room=room, username="ada") for _ in range(3)]
    for message in messages:
        await store.put(message)
    since = new_ulid()
    for message in reversed(messages):
        await store.edit(
            room,
            message.id,
            author="ada",
            text="e",
            mentions=(),
            edited_at="2026-01-02T03:04:05.000Z",
            change=new_ulid(),
        )
    first = await store.changes(room, since=since, limit=2)
    assert [m.id for m in first.messages] == [messages[2].id, messages[1].id]
    assert first.next is not None
    rest = await store.changes(room, since=first.next, limit=2)
    assert ([m.id for m in rest.messages], rest.next) == ([messages[0].id], None)
    with pytest.raises(NotApplied) as refused_:
        await store.edit(
            room,
            messages[0].id,
            author="bob",
            text="x",
            mentions=(),
            edited_at="2026-01-02T03:04:05.000Z",
            change=new_ulid(),
        )
    assert refused_.value.current is not None
    assert refused_.value.current.text == "e"
