"""Failed-login counters in Redis, per account and per client address (OWASP Authentication
Cheat Sheet, "Login Throttling"). Only failures count; while a counter is over its limit, even
the right password is refused until the window ends."""

from __future__ import annotations

from redis.asyncio import Redis


class LoginThrottle:
    def __init__(
        self, redis: Redis, *, per_account: int, per_address: int, window_seconds: int
    ) -> None:
        self._redis = redis
        self._limits = {"account": per_account, "address": per_address}
        self._window = window_seconds

    def _keys(self, account: str, address: str) -> dict[str, str]:
        return {
            "account": f"loginfail:account:{account.lower()}",
            "address": f"loginfail:address:{address}",
        }

    async def retry_after(self, *, account: str, address: str) -> int | None:
        """Seconds until a locked account or address may try again; None when not locked."""
        keys = self._keys(account, address)
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys.values():
                pipe.get(key)
                pipe.ttl(key)
            results = await pipe.execute()
        counts_and_ttls = zip(results[::2], results[1::2], strict=True)
        waits = [
            max(int(ttl), 1)
            for kind, (count, ttl) in zip(keys, counts_and_ttls, strict=True)
            if count is not None and int(count) >= self._limits[kind]
        ]
        return max(waits) if waits else None

    async def record_failure(self, *, account: str, address: str) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in self._keys(account, address).values():
                # SET NX starts the window on the first failure; INCR keeps the TTL.
                pipe.set(key, 0, ex=self._window, nx=True)
                pipe.incr(key)
            await pipe.execute()

    async def forget_account(self, account: str) -> None:
        """After a successful login the account starts afresh; the address counter does not,
        so one valid account cannot be used to reset a credential-stuffing address."""
        await self._redis.delete(self._keys(account, "")["account"])
