"""Registering and logging in: one error for an unknown name or a wrong password, failures
throttled (never a lock of the account), a success starting a session, common passwords and
too many registrations refused, each event logged without a secret."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.asyncio import Redis

from parley.accounts import Accounts, InvalidCredentials, TooManyAttempts, WeakPassword
from parley.passwords import PasswordHasher, PasswordPolicy
from parley.storage.dynamo import DynamoClient, TableNames
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
