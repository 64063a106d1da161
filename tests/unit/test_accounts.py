"""Registering and logging in: one error for an unknown name or a wrong password, failures
throttled, a success starting a session. Changing the password: checked and throttled like a
login, and every other session ends."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from parley.accounts import Accounts, InvalidCredentials, LoginLocked, WrongPassword
from parley.passwords import PasswordHasher
from parley.storage.dynamo import DynamoClient, TableNames
from parley.storage.sessions import SessionStore
from parley.storage.throttle import LoginThrottle
from parley.storage.users import UsernameTaken, UserStore
from tests.unit.support import new_name

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(dynamo: DynamoClient, tables: TableNames, redis: Redis) -> Accounts:
    return Accounts(
        users=UserStore(dynamo, tables.users),
        sessions=SessionStore(redis, ttl_seconds=60),
        throttle=LoginThrottle(redis, per_account=2, per_address=10, window_seconds=60),
        hasher=PasswordHasher(4),
    )


async def test_register_then_log_in_with_any_case(accounts: Accounts) -> None:
    name = new_name("Ada")
    assert await accounts.register(username=name, password=PASSWORD) == name
    session = await accounts.login(username=name.lower(), password=PASSWORD, address="192.0.2.1")
    assert session.username == name
    assert await accounts.sessions.touch(session.key) == session


async def test_a_taken_name_is_refused(accounts: Accounts) -> None:
    name = new_name("ada")
    await accounts.register(username=name, password=PASSWORD)
    with pytest.raises(UsernameTaken):
        await accounts.register(username=name.upper(), password=PASSWORD)


async def test_unknown_name_and_wrong_password_are_one_error(accounts: Accounts) -> None:
    name = new_name("ada")
    await accounts.register(username=name, password=PASSWORD)
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address="192.0.2.1")
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=new_name("nobody"), password=PASSWORD, address="192.0.2.1")


async def test_too_many_failures_lock_even_the_right_password(accounts: Accounts) -> None:
    name = new_name("ada")
    await accounts.register(username=name, password=PASSWORD)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await accounts.login(username=name, password="wrong password", address="192.0.2.1")
    with pytest.raises(LoginLocked) as locked:
        await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
    assert 55 <= locked.value.retry_after <= 60
    assert str(locked.value) == f"locked for {locked.value.retry_after} s"


async def test_a_success_forgets_the_accounts_failures(accounts: Accounts) -> None:
    name = new_name("ada")
    await accounts.register(username=name, password=PASSWORD)
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address="192.0.2.1")
    await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address="192.0.2.1")
    await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")


async def test_login_records_the_user_agent(accounts: Accounts) -> None:
    name = new_name("ada")
    await accounts.register(username=name, password=PASSWORD)
    await accounts.login(username=name, password=PASSWORD, address="192.0.2.1", user_agent="UA/1")
    [info] = await accounts.sessions.for_user(name)
    assert info.user_agent == "UA/1"


async def test_changing_the_password_ends_every_other_session(accounts: Accounts) -> None:
    name = new_name("ada")
    await accounts.register(username=name, password=PASSWORD)
    here, there, elsewhere = [
        await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
        for _ in range(3)
    ]
    ended = await accounts.change_password(
        session=here, current=PASSWORD, new="a new passphrase", address="192.0.2.1"
    )
    assert sorted(info.ref for info in ended) == sorted([there.ref, elsewhere.ref])
    assert await accounts.sessions.which_alive([here.key, there.key, elsewhere.key]) == [
        True,
        False,
        False,
    ]
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
    await accounts.login(username=name, password="a new passphrase", address="192.0.2.1")


async def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_login(
    accounts: Accounts,
) -> None:
    name = new_name("ada")
    await accounts.register(username=name, password=PASSWORD)
    here = await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
    other = await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
    for _ in range(2):  # per_account=2
        with pytest.raises(WrongPassword):
            await accounts.change_password(
                session=here, current="not the password", new="whatever-new", address="192.0.2.9"
            )
    assert await accounts.sessions.which_alive([here.key, other.key]) == [True, True]
    with pytest.raises(LoginLocked):
        await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
    with pytest.raises(LoginLocked):
        await accounts.change_password(
            session=here, current=PASSWORD, new="whatever-new", address="192.0.2.1"
        )
