"""Registering and logging in: one error for an unknown name or a wrong password, failures
throttled (never a lock of the account), a success starting a session, common passwords and
too many registrations refused, each event logged without a secret. Changing the password:
checked and throttled like a login, and every other session ends."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from parley.accounts import (
    Accounts,
    InvalidCredentials,
    TooManyAttempts,
    WeakPassword,
    WrongPassword,
)
from parley.models import User
from parley.passwords import PasswordHasher, PasswordPolicy
from parley.storage.dynamo import DynamoClient, StorageUnavailable, TableNames
from parley.storage.sessions import SessionStore
from parley.storage.throttle import LoginLimits, LoginThrottle, RegistrationThrottle
from parley.storage.users import UsernameTaken, UserStore
from tests.unit.support import new_name

PASSWORD = "correct horse battery"
HOME, ELSEWHERE = "192.0.2.1", "198.51.100.7"


@pytest.fixture
def accounts(dynamo: DynamoClient, tables: TableNames, redis: Redis) -> Accounts:
    return Accounts(
        users=UserStore(dynamo, tables.users),
        sessions=SessionStore(redis, ttl_seconds=60),
        throttle=LoginThrottle(
            redis,
            LoginLimits(
                free_failures=2,
                first_delay_seconds=60,
                per_address=10,
                window_seconds=600,
                alert_addresses=2,
            ),
        ),
        registrations=RegistrationThrottle(redis, per_address=5, window_seconds=60),
        hasher=PasswordHasher(4),
        policy=PasswordPolicy.shipped(),
    )


async def register(accounts: Accounts, name: str, password: str = PASSWORD) -> str:
    return await accounts.register(username=name, password=password, address=HOME)


async def test_register_then_log_in_with_any_case(accounts: Accounts) -> None:
    name = new_name("Ada")
    assert await register(accounts, name) == name
    session = await accounts.login(username=name.lower(), password=PASSWORD, address="192.0.2.1")
    assert session.username == name
    assert await accounts.sessions.touch(session.key) == session


async def test_a_taken_name_is_refused(accounts: Accounts) -> None:
    name = new_name("ada")
    await register(accounts, name)
    with pytest.raises(UsernameTaken):
        await register(accounts, name.upper())


async def test_unknown_name_and_wrong_password_are_one_error(accounts: Accounts) -> None:
    name = new_name("ada")
    await register(accounts, name)
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address="192.0.2.1")
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=new_name("nobody"), password=PASSWORD, address="192.0.2.1")


async def test_failures_make_that_address_wait_but_the_owner_logs_in_elsewhere(
    accounts: Accounts,
) -> None:
    name = new_name("ada")
    await register(accounts, name)
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await accounts.login(username=name, password="wrong password", address=HOME)
    with pytest.raises(TooManyAttempts) as throttled:
        await accounts.login(username=name, password=PASSWORD, address=HOME)
    assert 59 <= throttled.value.retry_after <= 60
    assert str(throttled.value) == f"wait {throttled.value.retry_after} s"
    session = await accounts.login(username=name, password=PASSWORD, address=ELSEWHERE)
    assert session.username == name


async def test_concurrent_wrong_logins_check_only_the_free_attempts(accounts: Accounts) -> None:
    name = new_name("ada")
    await register(accounts, name)
    outcomes = await asyncio.gather(
        *(
            accounts.login(username=name, password="wrong password", address=HOME)
            for _ in range(12)
        ),
        return_exceptions=True,
    )
    kinds = sorted(type(outcome).__name__ for outcome in outcomes)
    assert kinds == ["InvalidCredentials"] * 2 + ["TooManyAttempts"] * 10


async def test_a_common_password_is_refused_before_anything_is_stored(
    accounts: Accounts,
) -> None:
    name = new_name("ada")
    with pytest.raises(WeakPassword, match="one of the most common ones"):
        await register(accounts, name, "Password1")
    assert await accounts.users.get(name) is None


async def test_registrations_from_one_address_are_limited(accounts: Accounts) -> None:
    for _ in range(5):
        await register(accounts, new_name("ada"))
    with pytest.raises(TooManyAttempts):
        await register(accounts, new_name("ada"))
    await accounts.register(username=new_name("ada"), password=PASSWORD, address=ELSEWHERE)


async def test_security_events_are_logged_without_secrets(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    name = new_name("ada")
    caplog.set_level(logging.INFO, logger="parley.security")
    await register(accounts, name)
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address=HOME)
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address=ELSEWHERE)
    session = await accounts.login(username=name, password=PASSWORD, address=ELSEWHERE)
    events = [(r.levelname, r.parley_fields) for r in caplog.records]  # type: ignore[attr-defined]
    assert events == [
        ("INFO", {"event": "registered", "username": name, "address": HOME}),
        ("INFO", {"event": "login_failed", "username": name, "address": HOME}),
        ("INFO", {"event": "login_failed", "username": name, "address": ELSEWHERE}),
        (
            "WARNING",
            {"event": "login_failures_from_many_addresses", "username": name, "failures": 2},
        ),
        (
            "INFO",
            {"event": "logged_in", "username": name, "session": session.ref, "address": ELSEWHERE},
        ),
    ]
    assert caplog.records[1].getMessage() == (f'login_failed username="{name}" address="{HOME}"')
    for secret in (PASSWORD, "wrong password", session.key):
        assert secret not in caplog.text


async def test_a_success_forgets_the_accounts_failures(accounts: Accounts) -> None:
    name = new_name("ada")
    await register(accounts, name)
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address="192.0.2.1")
    await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")
    with pytest.raises(InvalidCredentials):
        await accounts.login(username=name, password="wrong password", address="192.0.2.1")
    await accounts.login(username=name, password=PASSWORD, address="192.0.2.1")


class UsersAway(UserStore):
    """The users table while DynamoDB does not answer."""

    async def get(self, username: str) -> User | None:
        raise StorageUnavailable("DynamoDB: read timeout")


async def test_logins_the_database_could_not_answer_do_not_count_as_failures(
    accounts: Accounts, dynamo: DynamoClient, tables: TableNames
) -> None:
    name = new_name("ada")
    await register(accounts, name)
    during_the_outage = replace(accounts, users=UsersAway(dynamo, tables.users))
    for _ in range(5):  # a client retrying its 503s, past the 2 free failures
        with pytest.raises(StorageUnavailable):
            await during_the_outage.login(username=name, password=PASSWORD, address=HOME)
    await accounts.login(username=name, password=PASSWORD, address=HOME)


async def test_login_records_the_user_agent(accounts: Accounts) -> None:
    name = new_name("ada")
    await register(accounts, name)
    await accounts.login(username=name, password=PASSWORD, address="192.0.2.1", user_agent="UA/1")
    [info] = await accounts.sessions.for_user(name)
    assert info.user_agent == "UA/1"


async def test_changing_the_password_ends_every_other_session(accounts: Accounts) -> None:
    name = new_name("ada")
    await register(accounts, name)
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
    await register(accounts, name)
    here = await accounts.login(username=name, password=PASSWORD, address=HOME)
    other = await accounts.login(username=name, password=PASSWORD, address=HOME)
    for _ in range(2):  # free_failures=2 for this account from ELSEWHERE
        with pytest.raises(WrongPassword):
            await accounts.change_password(
                session=here, current="not the password", new="whatever-new", address=ELSEWHERE
            )
    assert await accounts.sessions.which_alive([here.key, other.key]) == [True, True]
    # From that address both a login and a change now wait; the owner at home is never locked.
    with pytest.raises(TooManyAttempts):
        await accounts.login(username=name, password=PASSWORD, address=ELSEWHERE)
    with pytest.raises(TooManyAttempts):
        await accounts.change_password(
            session=here, current=PASSWORD, new="whatever-new", address=ELSEWHERE
        )
    await accounts.login(username=name, password=PASSWORD, address=HOME)


async def test_a_common_new_password_is_refused_before_the_current_one_is_checked(
    accounts: Accounts,
) -> None:
    name = new_name("ada")
    await register(accounts, name)
    here = await accounts.login(username=name, password=PASSWORD, address=HOME)
    with pytest.raises(WeakPassword):
        await accounts.change_password(
            session=here, current="not the password", new="password1", address=HOME
        )
    await accounts.login(username=name, password=PASSWORD, address=HOME)
