"""Sessions in Redis: a random key per login, an idle TTL restarted on use, gone when deleted."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from parley.storage.sessions import SessionStore, session_ref


@pytest.fixture
def sessions(redis: Redis) -> SessionStore:
    return SessionStore(redis, ttl_seconds=60)


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
    await redis.expire(f"sess:{session.key}", 5)
    await sessions.touch(session.key)
    assert 55 <= await redis.ttl(f"sess:{session.key}") <= 60


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
