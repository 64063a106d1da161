"""The rooms table: ids derived from names, unique, never deleted (so cached once seen)."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from parley.models import Room
from parley.storage.dynamo import DynamoClient, StorageUnavailable, TableNames
from parley.storage.rooms import GENERAL, RoomExists, RoomQuota, RoomStore, room_id_for
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


async def test_a_created_room_exists_and_is_listed(rooms: RoomStore) -> None:
    name = new_name("Room")
    room = await rooms.create(name=name, created_by="ada")
    assert room == Room(id=name.lower(), name=name)
    assert await rooms.exists(room.id)
    assert room in await rooms.list()


async def test_a_second_room_with_the_same_id_is_refused(rooms: RoomStore) -> None:
    name = new_name("room")
    await rooms.create(name=name, created_by="ada")
    with pytest.raises(RoomExists) as exists:
        await rooms.create(name=name.upper(), created_by="bob")
    assert str(exists.value) == name


async def test_an_unknown_room_does_not_exist(rooms: RoomStore) -> None:
    assert not await rooms.exists(new_name("nowhere"))


async def test_a_room_made_by_another_instance_is_found(
    rooms: RoomStore, dynamo: DynamoClient, tables: TableNames
) -> None:
    room = await RoomStore(dynamo, tables.rooms).create(name=new_name("r"), created_by="ada")
    assert await rooms.exists(room.id)
    assert room in await rooms.list()


async def test_a_room_seen_once_is_known_without_asking(
    rooms: RoomStore, dynamo: DynamoClient
) -> None:
    room = await rooms.create(name=new_name("r"), created_by="ada")
    with refused(dynamo, "GetItem"):
        assert await rooms.exists(room.id)


async def test_general_comes_first_and_ensuring_it_is_idempotent(rooms: RoomStore) -> None:
    await rooms.ensure_general()
    await rooms.ensure_general()
    await rooms.create(name=new_name("a"), created_by="ada")
    listed = await rooms.list()
    assert listed[0] == GENERAL
    assert [room.id for room in listed[1:]] == sorted(room.id for room in listed[1:])


async def test_dynamodb_away_is_storage_unavailable(rooms: RoomStore, dynamo: DynamoClient) -> None:
    with refused(dynamo, "PutItem"), pytest.raises(StorageUnavailable):
        await rooms.create(name=new_name("r"), created_by="ada")
    with refused(dynamo, "PutItem"), pytest.raises(StorageUnavailable):
        await rooms.ensure_general()
    with refused(dynamo, "GetItem"), pytest.raises(StorageUnavailable):
        await rooms.exists(new_name("r"))
    with refused(dynamo, "Scan"), pytest.raises(StorageUnavailable):
        await rooms.list()


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
