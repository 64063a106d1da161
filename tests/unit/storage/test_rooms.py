"""The rooms table: ids derived from names, never deleted (so known once seen), the kinds of
room, and the directory index of public rooms."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from parley.access import Kind, RoomRecord
from parley.storage.dynamo import (
    DynamoClient,
    StorageUnavailable,
    TableNames,
    create_missing_tables,
)
from parley.storage.members import MemberStore
from parley.storage.rooms import GENERAL, BadCursor, RoomQuota, RoomStore, room_id_for
from tests.unit.support import new_name, refused


@pytest.mark.parametrize(
    ("name", "room_id"),
    [
        ("Random Talk!", "random-talk"),
        ("general", "general"),
        ("  --C++ & Rust--  ", "c-rust"),
        ("Ünïcode", "n-code"),
        ("!!!", ""),
    ],
)
def test_room_id_for(name: str, room_id: str) -> None:
    assert room_id_for(name) == room_id


@pytest.fixture
def rooms(dynamo: DynamoClient, tables: TableNames) -> RoomStore:
    return RoomStore(dynamo, tables.rooms)


@pytest.fixture
def members(dynamo: DynamoClient, tables: TableNames) -> MemberStore:
    return MemberStore(dynamo, tables.members, rooms_table=tables.rooms)


async def make_room(
    members: MemberStore, name: str, *, kind: Kind = Kind.PUBLIC, topic: str = ""
) -> RoomRecord:
    record = RoomRecord(id=room_id_for(name), name=name, kind=kind, topic=topic)
    return await members.create_room(record, owner="ada")


async def test_a_created_room_is_read_back(rooms: RoomStore, members: MemberStore) -> None:
    name = new_name("Room")
    room = await make_room(members, name, kind=Kind.PRIVATE, topic="Plans")
    assert await rooms.get(room.id) == RoomRecord(
        id=name.lower(),
        name=name,
        kind=Kind.PRIVATE,
        topic="Plans",
        members=1,
        owners=1,
        created_by="ada",
    )
    assert await rooms.exists(room.id)


async def test_a_room_written_before_conversations_reads_as_public(
    rooms: RoomStore, dynamo: DynamoClient, tables: TableNames
) -> None:
    room_id = new_name("old")
    # The item as the code before conversations wrote it.
    item = {"id": {"S": room_id}, "name": {"S": room_id}, "createdBy": {"S": "ada"}}
    await dynamo.put_item(TableName=tables.rooms, Item=item)
    assert await rooms.get(room_id) == RoomRecord(
        id=room_id, name=room_id, kind=Kind.PUBLIC, created_by="ada"
    )
    assert [room.id for room in await rooms.kindless() if room.id == room_id] == [room_id]
    await rooms.make_public(RoomRecord(id=room_id, name=room_id))
    assert room_id not in {room.id for room in await rooms.kindless()}
    page = await rooms.directory(query=room_id, limit=10, cursor=None)
    assert [room.id for room in page.rooms] == [room_id]


async def test_an_unknown_room_does_not_exist(rooms: RoomStore) -> None:
    assert not await rooms.exists(new_name("nowhere"))
    assert await rooms.get(new_name("nowhere")) is None
    assert await rooms.get_many([new_name("nowhere")]) == {}


async def test_a_room_seen_once_is_known_without_asking(
    rooms: RoomStore, members: MemberStore, dynamo: DynamoClient
) -> None:
    room = await make_room(members, new_name("r"))
    assert await rooms.exists(room.id)
    with refused(dynamo, "GetItem"):
        assert await rooms.exists(room.id)


async def test_many_rooms_are_read_in_batches(rooms: RoomStore, members: MemberStore) -> None:
    made = [await make_room(members, new_name("batch")) for _ in range(3)]
    found = await rooms.get_many([room.id for room in made] + [new_name("missing")])
    assert set(found) == {room.id for room in made}


async def test_renaming_a_public_room_moves_it_in_the_directory(
    rooms: RoomStore, members: MemberStore
) -> None:
    tag = new_name("zz")
    room = await make_room(members, f"{tag} before")
    renamed = await rooms.update(room, name=f"{tag} after", topic="New topic")
    assert (renamed.id, renamed.name, renamed.topic) == (room.id, f"{tag} after", "New topic")
    page = await rooms.directory(query=tag, limit=10, cursor=None)
    assert [(r.id, r.name) for r in page.rooms] == [(room.id, f"{tag} after")]
    by_topic = await rooms.directory(query=f"{tag.upper()} AFTER", limit=10, cursor=None)
    assert [r.id for r in by_topic.rooms] == [room.id]


async def test_the_directory_lists_public_rooms_by_name_in_pages(
    rooms: RoomStore, members: MemberStore
) -> None:
    tag = new_name("dir")
    public = [await make_room(members, f"{tag} {letter}") for letter in "cab"]
    await make_room(members, f"{tag} hidden", kind=Kind.PRIVATE)
    first = await rooms.directory(query=tag, limit=2, cursor=None)
    assert [room.name for room in first.rooms] == [f"{tag} a", f"{tag} b"]
    assert first.next is not None
    second = await rooms.directory(query=tag, limit=2, cursor=first.next)
    assert [room.name for room in second.rooms] == [f"{tag} c"]
    assert {room.id for room in first.rooms + second.rooms} == {room.id for room in public}


@pytest.mark.parametrize("cursor", ["not base64!", "e30", "eyJsaXN0ZWQiOiAicHJpdmF0ZSJ9"])
async def test_a_cursor_the_server_did_not_make_is_refused(rooms: RoomStore, cursor: str) -> None:
    with pytest.raises(BadCursor):
        await rooms.directory(query="", limit=10, cursor=cursor)


async def test_ensuring_general_is_idempotent_and_keeps_it_public(rooms: RoomStore) -> None:
    await rooms.ensure_general()
    await rooms.ensure_general()
    general = await rooms.get(GENERAL.id)
    assert general is not None
    assert (general.name, general.kind) == ("general", Kind.PUBLIC)


async def test_dynamodb_away_is_storage_unavailable(rooms: RoomStore, dynamo: DynamoClient) -> None:
    with refused(dynamo, "PutItem"), pytest.raises(StorageUnavailable):
        await rooms.ensure_general()
    with refused(dynamo, "GetItem"), pytest.raises(StorageUnavailable):
        await rooms.exists(new_name("r"))
    with refused(dynamo, "Query"), pytest.raises(StorageUnavailable):
        await rooms.directory(query="", limit=5, cursor=None)
    with refused(dynamo, "BatchGetItem"), pytest.raises(StorageUnavailable):
        await rooms.get_many(["general"])


# --- the per-user quota of room creations ---------------------------------------------------


async def test_the_quota_admits_its_count_then_says_how_long_to_wait(redis: Redis) -> None:
    quota = RoomQuota(redis, per_day=2, window_seconds=600)
    assert [await quota.take("Ada") for _ in range(2)] == [None, None]
    wait = await quota.take("ada")  # the same user, whatever the case
    assert wait is not None
    assert 595 <= wait <= 600
    assert await redis.get("roomquota:ada") == "2"  # the refusal did not count
    assert await quota.take("bob") is None


async def test_a_creation_given_back_does_not_count(redis: Redis) -> None:
    quota = RoomQuota(redis, per_day=1, window_seconds=600)
    assert await quota.take("ada") is None
    await quota.give_back("ada")
    assert await quota.take("ada") is None
    await quota.give_back("nobody")  # no window open: nothing to give back, nothing made
    assert await redis.exists("roomquota:nobody") == 0


async def test_ensuring_general_makes_it_public_again(dynamo: DynamoClient) -> None:
    names = TableNames.with_prefix(new_name("gen") + "-")  # tables of its own: general changes
    await create_missing_tables(dynamo, names)
    try:
        store = RoomStore(dynamo, names.rooms)
        for kind in (None, "private"):
            item = {"id": {"S": "general"}, "name": {"S": "general"}}
            if kind is not None:
                item["kind"] = {"S": kind}
            await dynamo.put_item(TableName=names.rooms, Item=item)
            await store.ensure_general()
            general = await store.get("general")
            assert general is not None
            assert general.kind == Kind.PUBLIC
            page = await store.directory(query="general", limit=5, cursor=None)
            assert [room.id for room in page.rooms] == ["general"]
    finally:
        for name in names.all():
            await dynamo.delete_table(TableName=name)
