"""Who is online per room: one entry per socket, refreshed by its instance, fading when the
instance dies."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from parley.storage import presence
from parley.storage.presence import PresenceEntry, PresenceStore


@pytest.fixture
def store(redis: Redis) -> PresenceStore:
    return PresenceStore(redis)


def entry(sid: str, username: str, room: str = "general") -> PresenceEntry:
    return PresenceEntry(room=room, sid=sid, username=username)


async def test_users_are_distinct_and_sorted_without_case(store: PresenceStore) -> None:
    await store.add(entry("s1", "bob"))
    await store.add(entry("s2", "Ada"))
    assert await store.add(entry("s3", "bob")) == ["Ada", "bob"]
    assert await store.users("random") == []


async def test_a_user_stays_while_one_of_their_sockets_does(store: PresenceStore) -> None:
    await store.add(entry("s1", "ada"))
    await store.add(entry("s2", "ada"))
    assert await store.remove(entry("s1", "ada")) == ["ada"]
    assert await store.remove(entry("s2", "ada")) == []


async def test_rooms_are_separate(store: PresenceStore) -> None:
    await store.add(entry("s1", "ada", room="general"))
    assert await store.add(entry("s1", "ada", room="random")) == ["ada"]
    assert await store.remove(entry("s1", "ada", room="general")) == []
    assert await store.users("random") == ["ada"]


async def test_entries_not_refreshed_fade(
    store: PresenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "PRESENCE_TTL_SECONDS", -1)  # a dead instance's entries
    await store.add(entry("s1", "gone"))
    monkeypatch.undo()
    assert await store.add(entry("s2", "ada")) == ["ada"]


async def test_a_refresh_keeps_entries_alive(
    store: PresenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "PRESENCE_TTL_SECONDS", -1)
    await store.add(entry("s1", "ada"))
    await store.add(entry("s2", "bob", room="random"))
    monkeypatch.undo()
    await store.refresh([entry("s1", "ada"), entry("s2", "bob", room="random")])
    assert await store.users("general") == ["ada"]
    assert await store.users("random") == ["bob"]
    await store.refresh([])


async def test_enter_and_leave_write_without_reading(store: PresenceStore) -> None:
    await store.enter(entry("s1", "ada"))
    await store.enter(entry("s2", "bob"))
    assert await store.users("general") == ["ada", "bob"]
    await store.leave(entry("s1", "ada"))
    assert await store.users("general") == ["bob"]
