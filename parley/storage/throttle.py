"""Login and registration throttling in Redis (OWASP Authentication Cheat Sheet, "Login
Throttling"; ASVS 2.2.1). Nothing here locks an account: usernames are public, so a lock per
account would let anyone lock its owner out. Instead

- each (account, address) pair has a few free failures, after which every further attempt
  must wait an interval that doubles with each failure (capped at the window);
- each address may fail a fixed number of times per window, whatever the accounts;
- an account that fails from many addresses is reported (one warning per window), for a
  person to look at: a distributed guessing attack that the two limits above only slow down.

An attempt is reserved in one Lua script *before* the password is checked, so concurrent
attempts cannot all slip past the limits while each waits for bcrypt; a success gives its
reservation back, and so does an attempt the database could not answer (no password checked).

Each script touches the keys of one hash tag only (parley/storage/redis_keys.py): the pair
and the address counter are tagged with the address, the account's counter and its set of
addresses with the account, so on a Redis Cluster each runs in one slot."""

from __future__ import annotations

import math
from dataclasses import dataclass

from parley.storage.redis_keys import RedisClient, address_tag, user_tag

# KEYS: the pair, the address. ARGV: free failures, first delay ms, longest delay ms,
# per-address limit, window s. Counts this attempt as a failure in advance.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local free, delay, longest = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, window = tonumber(ARGV[4]), tonumber(ARGV[5])
if tonumber(redis.call('GET', KEYS[2]) or '0') >= limit then
  return math.max(redis.call('PTTL', KEYS[2]), 1)
end
local not_before = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
if not_before > now then return not_before - now end
local failures = redis.call('HINCRBY', KEYS[1], 'n', 1)
local at = 0
if failures >= free then at = now + math.min(delay * 2 ^ (failures - free), longest) end
redis.call('HSET', KEYS[1], 'at', string.format('%d', at))
redis.call('PEXPIRE', KEYS[1], window * 1000 + longest)
if redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], window) end
return 0
"""

# KEYS: the pair, the address. A success forgets the pair and gives back its reservation.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0
"""

# KEYS: the pair, the address. ARGV: free failures. An attempt that checked no password (the
# database did not answer) gives its count back; a delay already begun by earlier failures
# stays. A pair that expired meanwhile is left alone (no key without a TTL).
_RELEASE = """
local failures = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if failures > 0 then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
  if failures - 1 < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'at', '0') end
end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0
"""

# KEYS: the account's failure counter, its set of failing addresses. ARGV: address, how many
# addresses make an alert, window s. Returns {failures, 1 when this failure crosses the
# threshold}. The set stops growing at the threshold, so it stays small.
_FAILED = """
local failures = redis.call('INCR', KEYS[1])
if failures == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local threshold = tonumber(ARGV[2])
if redis.call('SCARD', KEYS[2]) >= threshold then return {failures, 0} end
local added = redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if added == 1 and redis.call('SCARD', KEYS[2]) == threshold then return {failures, 1} end
return {failures, 0}
"""

# KEYS: the address's registration counter. ARGV: limit, window s. Counts the attempt.
_REGISTER = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return math.max(redis.call('PTTL', KEYS[1]), 1) end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    free_failures: int  # per account and address, before the delays start
    first_delay_seconds: int  # doubled after each further failure
    per_address: int  # failures from one address within the window
    window_seconds: int  # the address counter's window, and the longest delay
    alert_addresses: int  # addresses failing for one account within the window: a warning


@dataclass(frozen=True, slots=True)
class FailureCount:
    failures: int  # the account's failures within the window, from any address
    alert: bool  # this failure made the account reach the alert threshold


def pair_keys(account: str, address: str) -> list[str]:
    """The keys of the reserve and success scripts: one account from one address, and the
    address (one hash slot: the address's)."""
    tag = address_tag(address)
    return [f"loginfail:{tag}:pair:{account.lower()}", f"loginfail:{tag}:address"]


def account_keys(account: str) -> list[str]:
    """The keys of the failure script: the account's failure counter and its set of failing
    addresses (one hash slot: the account's)."""
    tag = user_tag(account)
    return [f"loginfail:{tag}:account", f"loginfail:{tag}:addresses"]


def registrations_key(address: str) -> str:
    return f"registrations:address:{address}"


def _seconds(milliseconds: int) -> int:
    return max(math.ceil(milliseconds / 1000), 1)


class LoginThrottle:
    def __init__(self, redis: RedisClient, limits: LoginLimits) -> None:
        self._redis = redis
        self._limits = limits
        self._reserve = redis.register_script(_RESERVE)
        self._succeeded = redis.register_script(_SUCCEEDED)
        self._release = redis.register_script(_RELEASE)
        self._failed = redis.register_script(_FAILED)

    async def reserve(self, *, account: str, address: str) -> int | None:
        """Count this attempt as a failure before the password is checked. Returns None when
        it may go ahead, or the seconds to wait."""
        limits = self._limits
        wait = await self._reserve(
            keys=pair_keys(account, address),
            args=[
                limits.free_failures,
                limits.first_delay_seconds * 1000,
                limits.window_seconds * 1000,
                limits.per_address,
                limits.window_seconds,
            ],
        )
        return _seconds(int(wait)) if int(wait) > 0 else None

    async def succeeded(self, *, account: str, address: str) -> None:
        """The password was right: the pair starts afresh and the address gets its
        reservation back (successes never count), but keeps its other failures, so one valid
        account cannot be used to reset a credential-stuffing address."""
        await self._succeeded(keys=pair_keys(account, address))

    async def release(self, *, account: str, address: str) -> None:
        """No password was checked after all: the attempt does not count."""
        await self._release(keys=pair_keys(account, address), args=[self._limits.free_failures])

    async def failed(self, *, account: str, address: str) -> FailureCount:
        failures, alert = await self._failed(
            keys=account_keys(account),
            args=[address, self._limits.alert_addresses, self._limits.window_seconds],
        )
        return FailureCount(failures=int(failures), alert=bool(int(alert)))


class RegistrationThrottle:
    """Registrations per address in a fixed window: each costs a bcrypt hash and a user."""

    def __init__(self, redis: RedisClient, *, per_address: int, window_seconds: int) -> None:
        self._script = redis.register_script(_REGISTER)
        self._limit = per_address
        self._window = window_seconds

    async def reserve(self, address: str) -> int | None:
        """Count this attempt; None when it may go ahead, or the seconds to wait."""
        wait = await self._script(
            keys=[registrations_key(address)], args=[self._limit, self._window]
        )
        return _seconds(int(wait)) if int(wait) > 0 else None
