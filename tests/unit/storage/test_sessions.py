"""Sessions in Redis: a random key per login stored under its SHA-256, an idle TTL restarted on
use within an absolute lifetime, a per-user index that is capped and pruned, gone when deleted."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from redis.asyncio import Redis

from parley.storage.sessions import SessionStore, session_digest, session_ref


class Clock:
    """Seconds since the epoch, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sessions(redis: Redis) -> SessionStore:
    return SessionStore(redis, ttl_seconds=60)


def sess(key: str) -> str:
    return f"sess:{hashlib.sha256(key.encode()).hexdigest()}"


async def test_a_created_session_is_found_by_its_key(sessions: SessionStore) -> None:
    session = await sessions.create("Ada")
    assert len(session.key) >= 43  # 32 random bytes, base64url
    found = await sessions.touch(session.key)
    assert found == session
    assert found.username == "Ada"


async def test_keys_are_random(sessions: SessionStore) -> None:
    assert (await sessions.create("ada")).key != (await sessions.create("ada")).key


async def test_touch_restarts_the_idle_ttl(sessions: SessionStore, redis: Redis) -> None:
    session = await sessions.create("ada")
    await redis.expire(sess(session.key), 5)
    await sessions.touch(session.key)
    assert 55 <= await redis.ttl(sess(session.key)) <= 60


@pytest.mark.parametrize("key", ["", "unknown", "x" * 129])
async def test_no_session_for_an_unknown_or_absurd_key(sessions: SessionStore, key: str) -> None:
    assert await sessions.touch(key) is None


async def test_a_deleted_session_is_gone(sessions: SessionStore) -> None:
    session = await sessions.create("ada")
    await sessions.delete(session.key)
    assert await sessions.touch(session.key) is None


async def test_which_alive_answers_for_many_keys_at_once(sessions: SessionStore) -> None:
    alive, ended = await sessions.create("ada"), await sessions.create("bob")
    await sessions.delete(ended.key)
    assert await sessions.which_alive([alive.key, ended.key, "unknown"]) == [True, False, False]
    assert await sessions.which_alive([]) == []


async def test_the_ref_is_stable_and_does_not_reveal_the_key(sessions: SessionStore) -> None:
    session = await sessions.create("ada")
    assert session.ref == session_ref(session.key)
    assert len(session.ref) == 32
    assert session.key not in session.ref


async def test_redis_holds_the_hash_of_the_secret_never_the_secret(
    sessions: SessionStore, redis: Redis
) -> None:
    session = await sessions.create("ada", user_agent="Firefox")
    keys = [key async for key in redis.scan_iter()]
    assert sess(session.key) in keys
    assert session_digest(session.key) == hashlib.sha256(session.key.encode()).hexdigest()
    for key in keys:
        assert session.key not in key
        value = await redis.get(key) if await redis.type(key) == "string" else ""
        assert session.key not in value
    stored = orjson.loads(await redis.get(sess(session.key)))
    assert stored["username"] == "ada"
    assert stored["userAgent"] == "Firefox"
    assert stored["id"] == session.id
    assert stored["id"] not in (session.key, session_digest(session.key))
    assert stored["createdAt"] == stored["lastSeenAt"]


async def test_a_session_ends_at_its_absolute_lifetime_however_active(redis: Redis) -> None:
    clock = Clock()
    sessions = SessionStore(redis, ttl_seconds=60, max_age_seconds=3600, clock=clock)
    session = await sessions.create("ada")
    for _ in range(59):  # active every minute, so the idle limit is never reached
        clock.now += 60
        assert await sessions.touch(session.key) == session
    assert await redis.ttl(sess(session.key)) <= 60
    clock.now += 60  # 3600 s after login
    assert await sessions.touch(session.key) is None
    assert not await redis.exists(sess(session.key))
    assert await sessions.for_user("ada") == []


async def test_the_ttl_never_reaches_past_the_absolute_end(redis: Redis) -> None:
    clock = Clock()
    sessions = SessionStore(redis, ttl_seconds=600, max_age_seconds=900, clock=clock)
    session = await sessions.create("ada")
    clock.now += 700
    await sessions.touch(session.key)
    assert 199 <= await redis.ttl(sess(session.key)) <= 200


async def test_touch_moves_last_seen_on(redis: Redis) -> None:
    clock = Clock()
    sessions = SessionStore(redis, ttl_seconds=600, clock=clock)
    session = await sessions.create("ada", user_agent="Mozilla/5.0 (X11; Linux x86_64)")
    clock.now += 90
    await sessions.touch(session.key)
    [info] = await sessions.for_user("ada")
    assert (info.id, info.user_agent) == (session.id, "Mozilla/5.0 (X11; Linux x86_64)")
    assert info.created_at == "2027-01-15T08:00:00.000Z"
    assert info.last_seen_at == "2027-01-15T08:01:30.000Z"


async def test_a_hand_written_session_with_only_a_username_works(
    sessions: SessionStore, redis: Redis
) -> None:
    await redis.set(sess("by-hand"), '{"username": "ada"}', ex=5)
    found = await sessions.touch("by-hand")
    assert found is not None
    assert found.username == "ada"
    assert 55 <= await redis.ttl(sess("by-hand")) <= 60


async def test_a_user_lists_their_own_live_sessions_newest_seen_first(redis: Redis) -> None:
    clock = Clock()
    sessions = SessionStore(redis, ttl_seconds=600, clock=clock)
    first = await sessions.create("Ada", user_agent="phone")
    clock.now += 1
    second = await sessions.create("Ada", user_agent="laptop")
    await sessions.create("bob")
    ended = await sessions.create("ada")
    await sessions.delete(ended.key)
    clock.now += 1
    await sessions.touch(first.key)
    listed = await sessions.for_user("ada")
    assert [(info.id, info.user_agent) for info in listed] == [
        (first.id, "phone"),
        (second.id, "laptop"),
    ]


async def test_an_expired_session_leaves_the_index(sessions: SessionStore, redis: Redis) -> None:
    gone, kept = await sessions.create("ada"), await sessions.create("ada")
    await redis.delete(sess(gone.key))  # as its TTL would
    assert [info.id for info in await sessions.for_user("ada")] == [kept.id]
    assert await redis.zcard("sessions:ada") == 1


async def test_the_index_expires_with_the_absolute_lifetime(redis: Redis) -> None:
    sessions = SessionStore(redis, ttl_seconds=60, max_age_seconds=3600)
    await sessions.create("Ada")
    assert 3590 <= await redis.ttl("sessions:ada") <= 3600


async def test_past_the_cap_the_oldest_sessions_end(redis: Redis) -> None:
    clock = Clock()
    sessions = SessionStore(redis, ttl_seconds=600, max_per_user=3, clock=clock)
    made = []
    for _ in range(5):
        clock.now += 1
        made.append(await sessions.create("ada"))
    assert await sessions.which_alive([s.key for s in made]) == [False, False, True, True, True]
    assert await redis.zcard("sessions:ada") == 3


async def test_dead_sessions_do_not_count_against_the_cap(redis: Redis) -> None:
    clock = Clock()
    sessions = SessionStore(redis, ttl_seconds=600, max_per_user=2, clock=clock)
    kept = await sessions.create("ada")
    for _ in range(3):
        clock.now += 1
        await sessions.delete((await sessions.create("ada")).key)
    await redis.zadd("sessions:ada", {"0" * 64: clock.now})  # an entry whose session expired
    clock.now += 1
    await sessions.create("ada")
    assert await sessions.touch(kept.key) == kept


async def test_end_by_public_id_only_the_users_own(sessions: SessionStore) -> None:
    mine, theirs = await sessions.create("ada"), await sessions.create("bob")
    assert await sessions.end("ada", theirs.id) is None
    assert await sessions.end("ada", "no-such-id") is None
    ended = await sessions.end("ADA", mine.id)
    assert ended is not None
    assert ended.ref == mine.ref
    assert await sessions.which_alive([mine.key, theirs.key]) == [False, True]
    assert await sessions.end("ada", mine.id) is None


async def test_end_others_keeps_only_the_one(sessions: SessionStore) -> None:
    keep, *others = [await sessions.create("ada") for _ in range(3)]
    bob = await sessions.create("bob")
    ended = await sessions.end_others("ada", keep=keep)
    assert sorted(info.ref for info in ended) == sorted(s.ref for s in others)
    alive = await sessions.which_alive([keep.key, *(s.key for s in others), bob.key])
    assert alive == [True, False, False, True]
    assert [info.id for info in await sessions.for_user("ada")] == [keep.id]


async def test_logout_leaves_the_index(sessions: SessionStore, redis: Redis) -> None:
    session = await sessions.create("Ada")
    await sessions.delete(session.key)
    assert await redis.zcard("sessions:ada") == 0


async def test_a_long_user_agent_is_cut(sessions: SessionStore) -> None:
    await sessions.create("ada", user_agent="x" * 5000)
    [info] = await sessions.for_user("ada")
    assert info.user_agent == "x" * 256
