"""Sessions in Redis: `sess:<key>` holds JSON with the username, expiring after the idle TTL.
The key is the cookie's value; a missing key means logged out, wherever the request lands."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from redis.asyncio import Redis

from parley.ids import iso_utc

# 32 random bytes: far above the 128 bits of entropy OWASP asks of a session id.
_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class Session:
    key: str
    username: str

    @property
    def ref(self) -> str:
        """A non-secret handle for the session, safe to use as a room name or in logs."""
        return session_ref(self.key)


def session_ref(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _redis_key(key: str) -> str:
    return f"sess:{key}"


class SessionStore:
    def __init__(self, redis: Redis, *, ttl_seconds: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds

    async def create(self, username: str) -> Session:
        key = secrets.token_urlsafe(_KEY_BYTES)
        value = orjson.dumps({"username": username, "createdAt": iso_utc(datetime.now(UTC))})
        await self._redis.set(_redis_key(key), value, ex=self._ttl)
        return Session(key=key, username=username)

    async def touch(self, key: str) -> Session | None:
        """The live session for this key, its idle TTL restarted; None when it is gone."""
        if not key or len(key) > 128:
            return None
        raw = await self._redis.getex(_redis_key(key), ex=self._ttl)
        if raw is None:
            return None
        return Session(key=key, username=orjson.loads(raw)["username"])

    async def delete(self, key: str) -> None:
        await self._redis.delete(_redis_key(key))

    async def which_alive(self, keys: list[str]) -> list[bool]:
        """One round trip for many sessions (the socket sweeper checks all of a process's)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.exists(_redis_key(key))
            return [bool(found) for found in await pipe.execute()]
