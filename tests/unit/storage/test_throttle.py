"""Login throttling without a lock: free failures per account and address, then waits that
double; a limit per address; an alert when one account fails from many addresses. Attempts
are reserved atomically before the password check. Registrations are limited per address."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from parley.storage.throttle import LoginLimits, LoginThrottle, RegistrationThrottle, pair_keys

LIMITS = LoginLimits(
    free_failures=3, first_delay_seconds=10, per_address=20, window_seconds=600, alert_addresses=3
)
A, B = "192.0.2.1", "192.0.2.2"


@pytest.fixture
def throttle(redis: Redis) -> LoginThrottle:
    return LoginThrottle(redis, LIMITS)


async def reserve(
    throttle: LoginThrottle, times: int, account: str, address: str
) -> list[int | None]:
    return [await throttle.reserve(account=account, address=address) for _ in range(times)]


async def time_passes(redis: Redis, account: str, address: str) -> None:
    """The pair's wait is over (its failures are still counted)."""
    await redis.hset(pair_keys(account, address)[0], "at", 0)


async def test_the_free_failures_go_ahead_then_each_wait_doubles(
    throttle: LoginThrottle, redis: Redis
) -> None:
    assert await reserve(throttle, 3, "ada", A) == [None, None, None]
    wait = await throttle.reserve(account="ADA", address=A)
    assert wait in range(9, 11)
    await time_passes(redis, "ada", A)
    assert await throttle.reserve(account="ada", address=A) is None
    wait = await throttle.reserve(account="ada", address=A)
    assert wait in range(19, 21)


async def test_the_wait_never_exceeds_the_window(throttle: LoginThrottle, redis: Redis) -> None:
    for _ in range(12):  # 10 s * 2**9 would be far past the 600 s window
        await time_passes(redis, "ada", A)
        assert await throttle.reserve(account="ada", address=A) is None
    wait = await throttle.reserve(account="ada", address=A)
    assert wait in range(599, 601)


async def test_a_waiting_pair_holds_back_neither_the_account_elsewhere_nor_the_address(
    throttle: LoginThrottle,
) -> None:
    await reserve(throttle, 3, "ada", A)
    assert await throttle.reserve(account="ada", address=A) is not None
    assert await throttle.reserve(account="ada", address=B) is None  # the owner, elsewhere
    assert await throttle.reserve(account="bob", address=A) is None


async def test_concurrent_attempts_get_only_the_free_reservations(
    throttle: LoginThrottle,
) -> None:
    waits = await asyncio.gather(*(throttle.reserve(account="ada", address=A) for _ in range(20)))
    assert waits.count(None) == 3


async def test_an_address_is_held_back_at_its_limit(redis: Redis) -> None:
    throttle = LoginThrottle(redis, LoginLimits(3, 10, 5, 600, 3))
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert await throttle.reserve(account=name, address=A) is None
    wait = await throttle.reserve(account="fresh", address=A)
    assert wait in range(599, 601)
    assert await throttle.reserve(account="fresh", address=B) is None


async def test_a_success_forgets_the_pair_and_gives_back_its_reservation(
    redis: Redis,
) -> None:
    throttle = LoginThrottle(redis, LoginLimits(3, 10, 4, 600, 3))
    await reserve(throttle, 3, "ada", A)
    await throttle.succeeded(account="Ada", address=A)
    assert await throttle.reserve(account="ada", address=A) is None  # the pair starts afresh
    await throttle.succeeded(account="ada", address=A)
    assert await redis.get(pair_keys("ada", A)[1]) == "2"  # the two failures still count
    assert await reserve(throttle, 2, "bob", A) == [None, None]
    assert await throttle.reserve(account="carol", address=A) is not None


async def test_failures_from_many_addresses_alert_once(throttle: LoginThrottle) -> None:
    counts = [
        await throttle.failed(account="ada", address=address)
        for address in ("10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.3")
    ]
    assert [count.failures for count in counts] == [1, 2, 3, 4, 5, 6]
    assert [count.alert for count in counts] == [False, False, False, True, False, False]
    assert not (await throttle.failed(account="bob", address="10.0.0.1")).alert


async def test_registrations_are_limited_per_address(redis: Redis) -> None:
    registrations = RegistrationThrottle(redis, per_address=2, window_seconds=3600)
    assert await registrations.reserve(A) is None
    assert await registrations.reserve(A) is None
    wait = await registrations.reserve(A)
    assert wait in range(3599, 3601)
    assert await registrations.reserve(B) is None
