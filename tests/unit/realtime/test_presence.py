"""Presence announcements (parley/realtime/presence.py): a few changes are announced at once,
each with the list right after it; a burst is coalesced into one event per interval whose
last one carries the room's current list. Against the real Redis store."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from parley.realtime.presence import PresenceAnnouncer
from parley.storage.presence import PresenceEntry, PresenceStore

INTERVAL = 0.2


@pytest.fixture
def announced() -> list[tuple[str, list[str]]]:
    return []


@pytest.fixture
def announcer(redis: Redis, announced: list[tuple[str, list[str]]]) -> PresenceAnnouncer:
    async def announce(room: str, users: list[str]) -> None:
        announced.append((room, users))

    return PresenceAnnouncer(PresenceStore(redis), announce, burst=3, interval=INTERVAL)


def entry(i: int, room: str = "general") -> PresenceEntry:
    return PresenceEntry(room=room, sid=f"s{i}", username=f"user{i:03d}")


async def settled(announcer: PresenceAnnouncer) -> None:
    while announcer._pending:
        await asyncio.gather(*announcer._pending.values())


async def test_changes_within_the_burst_are_announced_at_once(
    announcer: PresenceAnnouncer, announced: list[tuple[str, list[str]]]
) -> None:
    await announcer.changed("general", joined=entry(1))
    await announcer.changed("general", joined=entry(2))
    await announcer.changed("general", left=entry(1))
    assert announced == [
        ("general", ["user001"]),
        ("general", ["user001", "user002"]),
        ("general", ["user002"]),
    ]
    assert not announcer._pending


async def test_a_burst_of_joins_is_coalesced(
    announcer: PresenceAnnouncer, announced: list[tuple[str, list[str]]]
) -> None:
    everyone = [entry(i) for i in range(50)]
    for person in everyone:
        await announcer.changed("general", joined=person)
    await settled(announcer)
    # Three at once (the burst), then the rest in one event after the interval.
    assert len(announced) <= 4
    assert announced[-1] == ("general", [p.username for p in everyone])


async def test_rooms_have_their_own_budget(
    announcer: PresenceAnnouncer, announced: list[tuple[str, list[str]]]
) -> None:
    for i in range(5):
        await announcer.changed("general", joined=entry(i))
    await announcer.changed("random", joined=entry(9, room="random"))
    assert ("random", ["user009"]) in announced
    await settled(announcer)
    assert announced[-1][0] == "general"
    assert len(announced[-1][1]) == 5


async def test_a_change_during_an_announcement_is_announced_after_it(
    redis: Redis, announced: list[tuple[str, list[str]]]
) -> None:
    store = PresenceStore(redis)
    gate, sending = asyncio.Event(), asyncio.Event()

    async def slow_announce(room: str, users: list[str]) -> None:
        announced.append((room, users))
        if len(announced) == 2:
            sending.set()
            await gate.wait()  # the coalesced announcement is being sent

    announcer = PresenceAnnouncer(store, slow_announce, burst=1, interval=INTERVAL)
    await announcer.changed("general", joined=entry(1))  # at once
    await announcer.changed("general", joined=entry(2))  # coalesced
    await sending.wait()
    await announcer.changed("general", joined=entry(3))  # while that one is being sent
    gate.set()
    await settled(announcer)
    assert announced[-1] == ("general", ["user001", "user002", "user003"])


async def test_close_cancels_what_is_waiting(
    announcer: PresenceAnnouncer, announced: list[tuple[str, list[str]]]
) -> None:
    for i in range(5):
        await announcer.changed("general", joined=entry(i))
    assert announcer._pending
    await announcer.close()
    assert not announcer._pending
    assert len(announced) == 3
