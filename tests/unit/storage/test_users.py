"""The users table: one account per name regardless of case, the name kept as registered."""

from __future__ import annotations

import pytest

from parley.models import User
from parley.storage.dynamo import DynamoClient, StorageUnavailable, TableNames
from parley.storage.users import UsernameTaken, UserStore
from tests.unit.support import new_name, refused


@pytest.fixture
def users(dynamo: DynamoClient, tables: TableNames) -> UserStore:
    return UserStore(dynamo, tables.users)


async def test_a_user_is_found_whatever_the_case(users: UserStore) -> None:
    name = new_name("Ada")
    created = await users.create(username=name, password_hash="hash")
    assert created == User(username=name, password_hash="hash")
    assert await users.get(name.lower()) == created
    assert await users.get(name.upper()) == created


async def test_a_name_is_taken_whatever_the_case(users: UserStore) -> None:
    name = new_name("ada")
    await users.create(username=name, password_hash="first")
    with pytest.raises(UsernameTaken):
        await users.create(username=name.upper(), password_hash="second")
    user = await users.get(name)
    assert user is not None
    assert user.password_hash == "first"


async def test_a_registration_retried_after_its_answer_was_lost_succeeds(
    users: UserStore,
) -> None:
    # The retry finds the item its own first attempt wrote: the same (salted) hash.
    name = new_name("ada")
    first = await users.create(username=name, password_hash="salted hash")
    assert await users.create(username=name, password_hash="salted hash") == first
    with pytest.raises(UsernameTaken):
        await users.create(username=name, password_hash="another salt")


async def test_an_unknown_user_is_none(users: UserStore) -> None:
    assert await users.get(new_name("nobody")) is None


async def test_dynamodb_away_is_storage_unavailable(users: UserStore, dynamo: DynamoClient) -> None:
    with refused(dynamo, "PutItem"), pytest.raises(StorageUnavailable):
        await users.create(username=new_name(), password_hash="hash")
    with refused(dynamo, "GetItem"), pytest.raises(StorageUnavailable):
        await users.get(new_name())


async def test_a_password_hash_is_replaced(users: UserStore) -> None:
    name = new_name("Ada")
    await users.create(username=name, password_hash="old")
    assert await users.set_password_hash(name.upper(), "new")
    assert await users.get(name) == User(username=name, password_hash="new")


async def test_no_hash_is_set_for_an_unknown_user(users: UserStore) -> None:
    name = new_name("nobody")
    assert not await users.set_password_hash(name, "new")
    assert await users.get(name) is None
