"""Sessions in Redis (OWASP Session Management Cheat Sheet).

`sess:<digest>` holds a session's JSON, where `<digest>` is the SHA-256 (hex) of the cookie's
secret: whoever reads Redis (a dump, a replica, `MONITOR`) finds nothing a browser could present.
The key expires after the idle TTL, restarted on use, and never later than the absolute lifetime
counted from login; a missing key means logged out, wherever the request lands.

`sessions:<username, lower-cased>` indexes a user's sessions: a sorted set of digests scored by
creation time, so they can be listed and ended by their public `id`. It is capped (the oldest
session ends to make room), pruned of dead sessions whenever it is read, and expires with the
absolute lifetime of its newest session.

On a Redis Cluster a session and its user's index live in different hash slots (`sess:` keys
are found from the cookie alone, so they cannot carry the user's tag), so nothing here writes
both in one transaction. The order makes every interruption harmless: a session is written
before its index entry (a session left unindexed by a failure in between was never handed to
its browser, and expires idle), and removed before it (an entry whose session is gone is pruned
the next time the index is read). The other order would let a concurrent read of the index
prune the entry of a session being created, which a later "end every other session" would
then miss."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from parley.ids import iso_utc
from parley.storage.redis_keys import RedisClient

# 32 random bytes: far above the 128 bits of entropy OWASP asks of a session id.
_KEY_BYTES = 32
# The public id names a session in the API; it is random, not derived from the secret.
_ID_BYTES = 12
# Sessions one account may hold at once; a new login ends the oldest past this.
MAX_SESSIONS_PER_USER = 50
# The User-Agent is shown to the user, not parsed here: kept short so a client cannot make
# the session (or the list of sessions) large.
MAX_USER_AGENT = 256

# One round trip per request and socket event: the session, its `lastSeenAt` moved on, and its
# TTL restarted, but never past its absolute end (`endsAt`, epoch seconds). A session written
# by hand without `endsAt` has only the idle limit.
_TOUCH = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local session = cjson.decode(raw)
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local left = ttl
if type(session.endsAt) == 'number' then
  left = math.min(ttl, session.endsAt - now)
end
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
session.lastSeenAt = ARGV[3]
raw = cjson.encode(session)
redis.call('SET', KEYS[1], raw, 'EX', left)
return raw
"""


@dataclass(frozen=True, slots=True)
class Session:
    """A live session as the caller presented it: `key` is the cookie's secret."""

    key: str
    username: str
    id: str

    @property
    def ref(self) -> str:
        """A non-secret handle for the session, safe to use as a room name or in logs."""
        return session_ref(self.key)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as its owner sees it in the list; never its secret."""

    id: str
    username: str
    created_at: str
    last_seen_at: str
    user_agent: str
    digest: str

    @property
    def ref(self) -> str:
        return _ref_of(self.digest)


def session_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def session_ref(key: str) -> str:
    return _ref_of(session_digest(key))


def _ref_of(digest: str) -> str:
    return digest[:32]


def _redis_key(digest: str) -> str:
    return f"sess:{digest}"


def _index_key(username: str) -> str:
    return f"sessions:{username.lower()}"


def _info(digest: str, raw: str) -> SessionInfo:
    data: dict[str, Any] = orjson.loads(raw)
    created = str(data.get("createdAt", ""))
    return SessionInfo(
        id=str(data.get("id", "")),
        username=str(data["username"]),
        created_at=created,
        last_seen_at=str(data.get("lastSeenAt", created)),
        user_agent=str(data.get("userAgent", "")),
        digest=digest,
    )


class SessionStore:
    def __init__(
        self,
        redis: RedisClient,
        *,
        ttl_seconds: int,
        max_age_seconds: int = 30 * 24 * 3600,
        max_per_user: int = MAX_SESSIONS_PER_USER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._max_age = max_age_seconds
        self._max_per_user = max_per_user
        self._clock = clock
        self._touch = redis.register_script(_TOUCH)

    def _now(self) -> tuple[int, str]:
        now = self._clock()
        return int(now), iso_utc(datetime.fromtimestamp(now, UTC))

    async def create(self, username: str, *, user_agent: str = "") -> Session:
        """A new session, indexed under its user; past the cap, the user's oldest sessions end
        (their sockets hear it at the next sweep)."""
        key = secrets.token_urlsafe(_KEY_BYTES)
        digest = session_digest(key)
        session_id = secrets.token_urlsafe(_ID_BYTES)
        now, now_iso = self._now()
        value = orjson.dumps(
            {
                "username": username,
                "id": session_id,
                "createdAt": now_iso,
                "lastSeenAt": now_iso,
                "userAgent": user_agent[:MAX_USER_AGENT],
                "endsAt": now + self._max_age,
            }
        )
        live = [digest for digest, _ in await self._live(username)]
        index = _index_key(username)
        await self._redis.set(_redis_key(digest), value, ex=min(self._ttl, self._max_age))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(index, {digest: now})
            # Every entry's session is over by then, so an abandoned index disappears.
            pipe.expire(index, self._max_age)
            await pipe.execute()
        await self._end(username, live[: max(len(live) + 1 - self._max_per_user, 0)])
        return Session(key=key, username=username, id=session_id)

    async def touch(self, key: str) -> Session | None:
        """The live session for this key, its idle TTL restarted; None when it is gone."""
        if not key or len(key) > 128:
            return None
        now, now_iso = self._now()
        raw = await self._touch(
            keys=[_redis_key(session_digest(key))], args=[now, self._ttl, now_iso]
        )
        if raw is None:
            return None
        data = orjson.loads(raw)
        return Session(key=key, username=data["username"], id=str(data.get("id", "")))

    async def delete(self, key: str) -> None:
        """Logout: the session ends, and leaves its user's index."""
        digest = session_digest(key)
        raw = await self._redis.getdel(_redis_key(digest))
        if raw is not None:
            await self._redis.zrem(_index_key(orjson.loads(raw)["username"]), digest)

    async def which_alive(self, keys: list[str]) -> list[bool]:
        """One round trip for many sessions (the socket sweeper checks all of a process's)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.exists(_redis_key(session_digest(key)))
            return [bool(found) for found in await pipe.execute()]

    async def for_user(self, username: str) -> list[SessionInfo]:
        """The user's live sessions, most recently seen first."""
        found = [_info(digest, raw) for digest, raw in await self._live(username)]
        mine = [info for info in found if info.username.lower() == username.lower()]
        return sorted(mine, key=lambda info: info.last_seen_at, reverse=True)

    async def end(self, username: str, session_id: str) -> SessionInfo | None:
        """End the user's session with this public id; None when they have none such."""
        for info in await self.for_user(username):
            if info.id == session_id:
                await self._end(username, [info.digest])
                return info
        return None

    async def end_others(self, username: str, *, keep: Session) -> list[SessionInfo]:
        """End every session of the user but `keep`; the ones ended."""
        keep_digest = session_digest(keep.key)
        others = [info for info in await self.for_user(username) if info.digest != keep_digest]
        await self._end(username, [info.digest for info in others])
        return others

    async def _live(self, username: str) -> list[tuple[str, str]]:
        """The user's live sessions as (digest, JSON), oldest first; the dead are pruned from
        the index."""
        index = _index_key(username)
        digests = [str(digest) for digest in await self._redis.zrange(index, 0, -1)]
        if not digests:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for digest in digests:
                pipe.get(_redis_key(digest))
            values: list[str | None] = await pipe.execute()
        dead = [digest for digest, raw in zip(digests, values, strict=True) if raw is None]
        if dead:
            await self._redis.zrem(index, *dead)
        return [
            (digest, raw) for digest, raw in zip(digests, values, strict=True) if raw is not None
        ]

    async def _end(self, username: str, digests: Sequence[str]) -> None:
        if not digests:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for digest in digests:  # one key a command: the sessions lie in many slots
                pipe.delete(_redis_key(digest))
            await pipe.execute()
        await self._redis.zrem(_index_key(username), *digests)
