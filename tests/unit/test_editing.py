"""The rules of changing a message (parley/editing.py), against the real DynamoDB endpoint and
Redis: who may, what a refusal says and that it writes nothing, idempotency, exact counts under
concurrency, the erasure of a deleted parent's quotes, and the "delivered once" marks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest
from botocore.exceptions import ClientError
from redis.asyncio import Redis

from parley.editing import Editor, EditRefused, canonical_emoji, is_one_emoji
from parley.errors import ErrorCode
from parley.ids import new_ulid
from parley.models import Message, Quote
from parley.storage.dynamo import DynamoClient, StorageUnavailable, TableNames
from parley.storage.messages import CHANGED_AT, MessageStore
from parley.storage.sends import DeliveryMarks, change_key
from tests.unit.support import RecordingBroadcaster, failing, make_message, new_name, refused


@pytest.fixture
def store(dynamo: DynamoClient, tables: TableNames) -> MessageStore:
    return MessageStore(dynamo, tables.messages)


@pytest.fixture
def broadcaster() -> RecordingBroadcaster:
    return RecordingBroadcaster()


@pytest.fixture
def editor(store: MessageStore, redis: Redis, broadcaster: RecordingBroadcaster) -> Editor:
    return Editor(
        messages=store,
        deliveries=DeliveryMarks(redis),
        broadcaster=broadcaster,
        mentions=broadcaster.mentions("ada", "bob"),
        clock=lambda: 1e9,
    )


@pytest.fixture
async def stored(store: MessageStore) -> Message:
    message = make_message(room=new_name("room"), username="ada", text="helo", client_id="c1")
    await store.put(message)
    return message


async def refusal(call: Awaitable[Message]) -> ErrorCode:
    with pytest.raises(EditRefused) as refused_:
        await call
    return refused_.value.problem.code


@pytest.mark.parametrize(
    ("value", "one"),
    [
        ("👍", True),
        ("👍🏽", True),  # a skin tone
        ("👨‍👩‍👧", True),  # a ZWJ sequence
        ("🇫🇷", True),  # a flag
        ("#️⃣", True),  # a keycap
        ("❤️", True),
        ("a", False),
        ("1", False),
        ("👍👍", False),
        ("", False),
        ("\u200d", False),
        ("👍 ", False),
    ],
)
def test_one_emoji(value: str, one: bool) -> None:
    assert is_one_emoji(value) is one


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("👍", "👍"),
        ("👍\ufe0f", "👍"),  # a picker's presentation selector on an emoji that needs none
        ("❤️", "❤️"),  # the data's own spelling keeps it
        ("❤", "❤"),
        ("a\ufe0f", None),
        ("\ufe0f", None),
        ("👍\ufe0f\ufe0f", None),
    ],
)
def test_canonical_emoji(value: str, canonical: str | None) -> None:
    assert canonical_emoji(value) == canonical


# ------------------------------------------------------------------------------------ edit


async def test_the_author_edits(
    editor: Editor, store: MessageStore, stored: Message, broadcaster: RecordingBroadcaster
) -> None:
    edited = await editor.edit(
        username="ada", room=stored.room, message_id=stored.id, text=" hello @Bob and @eve "
    )
    assert edited.text == "hello @Bob and @eve"
    assert edited.edited_at == "2001-09-09T01:46:40.000Z"
    assert edited.mentions == ("bob",)  # a member; eve is not
    assert edited.client_id == "c1"
    assert await store.get(stored.room, stored.id) == edited
    assert broadcaster.updates == [edited]
    again = await editor.edit(username="ada", room=stored.room, message_id=stored.id, text="hi")
    assert again.mentions == ()  # the new text's mentions
    assert broadcaster.to_users == []  # an edit tells nobody again


async def test_edit_refusals_write_nothing(
    editor: Editor, store: MessageStore, stored: Message, broadcaster: RecordingBroadcaster
) -> None:
    def edit(**fields: str) -> Awaitable[Message]:
        args = {"username": "ada", "room": stored.room, "message_id": stored.id, "text": "x"}
        return editor.edit(**(args | fields))

    assert await refusal(edit(username="bob")) is ErrorCode.FORBIDDEN
    assert await refusal(edit(message_id=new_ulid())) is ErrorCode.NOT_FOUND
    assert await refusal(edit(room=new_name("room"))) is ErrorCode.NOT_FOUND
    assert await refusal(edit(text="  ")) is ErrorCode.INVALID
    assert await store.get(stored.room, stored.id) == stored
    await editor.delete(username="ada", room=stored.room, message_id=stored.id)
    assert await refusal(edit()) is ErrorCode.CONFLICT
    assert [m.deleted for m in broadcaster.updates] == [True]


# ---------------------------------------------------------------------------------- delete


async def test_delete_leaves_the_tombstone_once(
    editor: Editor, store: MessageStore, stored: Message, broadcaster: RecordingBroadcaster
) -> None:
    await editor.react(username="bob", room=stored.room, message_id=stored.id, emoji="👍", on=True)
    gone = await editor.delete(username="ada", room=stored.room, message_id=stored.id)
    assert gone == stored.as_deleted()
    assert await store.get(stored.room, stored.id) == gone
    assert await editor.delete(username="ada", room=stored.room, message_id=stored.id) == gone
    assert broadcaster.updates[1:] == [gone]  # the repeat broadcast nothing


async def test_only_the_author_deletes_unless_the_room_says_otherwise(
    editor: Editor, store: MessageStore, stored: Message
) -> None:
    refused_ = editor.delete(username="bob", room=stored.room, message_id=stored.id)
    assert await refusal(refused_) is ErrorCode.FORBIDDEN
    assert await store.get(stored.room, stored.id) == stored
    missing = editor.delete(username="ada", room=stored.room, message_id=new_ulid())
    assert await refusal(missing) is ErrorCode.NOT_FOUND
    moderated = await editor.delete(
        username="bob", room=stored.room, message_id=stored.id, may_delete_others=True
    )
    assert moderated.deleted


async def test_deleting_a_parent_erases_its_replies_quotes(
    editor: Editor, store: MessageStore, stored: Message, broadcaster: RecordingBroadcaster
) -> None:
    replies = [
        Message(
            id=new_ulid(),
            room=stored.room,
            username=name,
            text="re",
            created_at=stored.created_at,
            reply_to=Quote.of(stored),
        )
        for name in ("bob", "cy")
    ]
    for reply in replies:
        await store.put(reply)
    await editor.delete(username="ada", room=stored.room, message_id=stored.id)
    blanked = [await store.get(stored.room, reply.id) for reply in replies]
    assert [m.reply_to for m in blanked if m] == [Quote(stored.id, "ada", "")] * 2
    assert broadcaster.updates[1:] == blanked


# ----------------------------------------------------------------------------------- react


async def test_reactions_toggle_and_repeats_change_nothing(
    editor: Editor, stored: Message, broadcaster: RecordingBroadcaster
) -> None:
    def react(username: str, emoji: str, on: bool = True) -> Awaitable[Message]:
        return editor.react(
            username=username, room=stored.room, message_id=stored.id, emoji=emoji, on=on
        )

    first = await react("bob", "👍")
    assert [(r.emoji, r.users) for r in first.reactions] == [("👍", ("bob",))]
    assert await react("bob", "👍") == first
    assert await react("ada", "🎉") != first
    off = await react("bob", "👍", on=False)
    assert [(r.emoji, r.users) for r in off.reactions] == [("🎉", ("ada",))]
    assert await react("bob", "👍", on=False) == off
    assert len(broadcaster.updates) == 3
    # With a picker's presentation selector it is the same reaction, not a second one.
    both = await react("cyd", "🎉\ufe0f")
    assert [(r.emoji, r.users) for r in both.reactions] == [("🎉", ("ada", "cyd"))]


async def test_concurrent_reactions_all_count(editor: Editor, stored: Message) -> None:
    names = [f"user{n}" for n in range(30)]
    await asyncio.gather(
        *(
            editor.react(username=name, room=stored.room, message_id=stored.id, emoji=e, on=True)
            for name in names
            for e in ("👍", "🎉")
        )
    )
    latest = await editor.react(
        username=names[0], room=stored.room, message_id=stored.id, emoji="👍", on=True
    )
    assert [(r.emoji, len(r.users)) for r in latest.reactions] in (
        [("👍", 30), ("🎉", 30)],
        [("🎉", 30), ("👍", 30)],
    )


async def test_react_refusals(editor: Editor, store: MessageStore, stored: Message) -> None:
    def react(emoji: str, message_id: str = stored.id) -> Awaitable[Message]:
        return editor.react(
            username="bob", room=stored.room, message_id=message_id, emoji=emoji, on=True
        )

    assert await refusal(react("x")) is ErrorCode.INVALID
    assert await refusal(react("👍", new_ulid())) is ErrorCode.NOT_FOUND
    faces = [chr(0x1F600 + n) for n in range(20)]
    for face in faces:
        await react(face)
    assert await refusal(react("🤗")) is ErrorCode.INVALID
    assert len((await store.get(stored.room, stored.id) or stored).reactions) == 20
    await editor.delete(username="ada", room=stored.room, message_id=stored.id)
    assert await refusal(react("👍")) is ErrorCode.CONFLICT


# -------------------------------------------------------------------------- delivered once


async def test_each_change_is_marked_delivered_before_it_is_made(
    editor: Editor, store: MessageStore, stored: Message, redis: Redis, dynamo: DynamoClient,
    tables: TableNames,
) -> None:  # fmt: skip
    await editor.edit(username="ada", room=stored.room, message_id=stored.id, text="hello")
    item = await dynamo.get_item(
        TableName=tables.messages,
        Key={"room": {"S": stored.room}, "id": {"S": stored.id}},
        ConsistentRead=True,
    )
    change = item["Item"][CHANGED_AT]["S"]
    assert await redis.get(change_key(stored.room, stored.id, change)) == "1"


async def test_a_write_that_may_not_have_happened_gives_its_mark_back(
    editor: Editor, stored: Message, redis: Redis, dynamo: DynamoClient
) -> None:
    with refused(dynamo, "UpdateItem", times=2), pytest.raises(StorageUnavailable):
        await editor.edit(username="ada", room=stored.room, message_id=stored.id, text="x")
    assert await redis.keys(f"delivered:{stored.room}:{stored.id}:*") == []


async def test_a_change_past_dynamodbs_item_size_is_refused_as_too_large(
    editor: Editor, store: MessageStore, stored: Message, dynamo: DynamoClient
) -> None:
    """Many people reacting with many emoji would pass the 400 KB an item may hold; DynamoDB
    refuses the update (its answer is injected here: filling an item takes minutes on moto)."""
    too_large = ClientError(
        {
            "Error": {
                "Code": "ValidationException",
                "Message": "Item size to update has exceeded the maximum allowed size",
            }
        },
        "UpdateItem",
    )
    with failing(dynamo, "UpdateItem", too_large):
        big = editor.react(
            username="bob", room=stored.room, message_id=stored.id, emoji="👍", on=True
        )
        assert await refusal(big) is ErrorCode.TOO_LARGE
    assert await store.get(stored.room, stored.id) == stored
