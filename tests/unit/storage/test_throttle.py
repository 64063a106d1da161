"""Failed logins counted per account and per address; over a limit, locked until the window
ends (OWASP Authentication Cheat Sheet, "Login Throttling")."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from parley.storage.throttle import LoginThrottle


@pytest.fixture
def throttle(redis: Redis) -> LoginThrottle:
    return LoginThrottle(redis, per_account=3, per_address=5, window_seconds=60)


async def fail(throttle: LoginThrottle, times: int, account: str, address: str) -> None:
    for _ in range(times):
        await throttle.record_failure(account=account, address=address)


async def test_nobody_is_locked_at_first(throttle: LoginThrottle) -> None:
    assert await throttle.retry_after(account="ada", address="192.0.2.1") is None


async def test_an_account_is_locked_at_its_limit(throttle: LoginThrottle) -> None:
    await fail(throttle, 2, "ada", "192.0.2.1")
    assert await throttle.retry_after(account="ada", address="192.0.2.1") is None
    await fail(throttle, 1, "ADA", "192.0.2.2")
    wait = await throttle.retry_after(account="Ada", address="192.0.2.3")
    assert wait is not None
    assert 55 <= wait <= 60
    assert await throttle.retry_after(account="bob", address="192.0.2.3") is None


async def test_an_address_is_locked_at_its_limit(throttle: LoginThrottle) -> None:
    for name in ("a1", "a2", "a3", "a4", "a5"):
        await fail(throttle, 1, name, "192.0.2.1")
    assert await throttle.retry_after(account="fresh", address="192.0.2.1") is not None
    assert await throttle.retry_after(account="fresh", address="192.0.2.9") is None


async def test_the_window_starts_at_the_first_failure(
    throttle: LoginThrottle, redis: Redis
) -> None:
    await fail(throttle, 1, "ada", "192.0.2.1")
    await redis.expire("loginfail:account:ada", 10)
    await fail(throttle, 2, "ada", "192.0.2.1")
    assert await throttle.retry_after(account="ada", address="192.0.2.2") == await redis.ttl(
        "loginfail:account:ada"
    )
    assert await redis.ttl("loginfail:account:ada") <= 10


async def test_a_success_resets_the_account_but_not_the_address(
    throttle: LoginThrottle,
) -> None:
    await fail(throttle, 3, "ada", "192.0.2.1")
    await fail(throttle, 2, "bob", "192.0.2.1")
    await throttle.forget_account("Ada")
    assert await throttle.retry_after(account="ada", address="192.0.2.2") is None
    assert await throttle.retry_after(account="ada", address="192.0.2.1") is not None
