"""Announcing who is in a room, without a presence event per join to the whole room.

Every join, leave and disconnect changes the room's presence (parley/storage/presence.py) and
the room hears the new list as one `presence {"room", "users"}` event. Sent for every change,
500 people joining one room cost 500 lists to up to 500 sockets: quadratic (issue #13). Here
each room on this instance has a budget of PRESENCE_BURST events, refilled at one per
PRESENCE_INTERVAL_SECONDS: a change within the budget is announced at once with the list right
after it (as before: a few people arriving see each other immediately); past it, changes are
written but their announcement waits for the next token, and all the changes of that wait go
out as one event carrying the list as it then is. So a burst of joins costs each recipient at
most PRESENCE_BURST events plus one per interval, and the last event always carries the
current list."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from parley.realtime.limits import Budget, TokenBucket
from parley.storage.presence import PresenceEntry, PresenceStore

log = logging.getLogger(__name__)

PRESENCE_BURST = 5
PRESENCE_INTERVAL_SECONDS = 0.5
# Rooms whose budget this instance remembers; past it, rooms whose budget is full again are
# forgotten (they would start full anyway).
MAX_TRACKED_ROOMS = 10_000

Announce = Callable[[str, list[str]], Awaitable[None]]


class PresenceAnnouncer:
    def __init__(
        self,
        store: PresenceStore,
        announce: Announce,
        *,
        burst: int = PRESENCE_BURST,
        interval: float = PRESENCE_INTERVAL_SECONDS,
    ) -> None:
        self._store = store
        self._announce = announce
        self._budget = Budget(1 / interval, burst)
        self._buckets: dict[str, TokenBucket] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}  # an announcement due, per room
        self._dirty: set[str] = set()  # rooms changed while their announcement was being sent

    async def changed(
        self, room: str, *, joined: PresenceEntry | None = None, left: PresenceEntry | None = None
    ) -> None:
        """Record a join or leave (or neither: announce the room's list) and announce it, at
        once or with the room's next coalesced event."""
        store = self._store
        if room not in self._pending and self._bucket(room).take(time.monotonic()) == 0:
            if joined is not None:
                users = await store.add(joined)
            elif left is not None:
                users = await store.remove(left)
            else:
                users = await store.users(room)
            await self._announce(room, users)
            return
        if joined is not None:
            await store.enter(joined)
        elif left is not None:
            await store.leave(left)
        self._coalesce(room)

    def _coalesce(self, room: str) -> None:
        """After a change was written: the room's next announcement will carry it."""
        if room in self._pending:
            self._dirty.add(room)  # the announcement under way reads again after it is sent
            return
        wait = self._bucket(room).take(time.monotonic())
        task = asyncio.get_running_loop().create_task(self._later(room, wait))
        self._pending[room] = task

    def _bucket(self, room: str) -> TokenBucket:
        bucket = self._buckets.get(room)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_ROOMS:
                self._forget_idle_rooms()
            bucket = self._buckets[room] = TokenBucket(self._budget)
        return bucket

    def _forget_idle_rooms(self) -> None:
        now = time.monotonic()
        for room, bucket in list(self._buckets.items()):
            refilled = bucket.tokens + (now - bucket.updated) * self._budget.rate
            if room not in self._pending and refilled >= self._budget.burst:
                del self._buckets[room]

    async def _later(self, room: str, wait: float) -> None:
        """`wait` 0: a token was taken for this announcement; else the time until one is."""
        try:
            while True:
                if wait > 0:
                    await asyncio.sleep(wait)
                    wait = self._bucket(room).take(time.monotonic())
                    if wait > 0:
                        continue
                self._dirty.discard(room)
                await self._announce(room, await self._store.users(room))
                if room not in self._dirty:
                    return
                wait = self._bucket(room).take(time.monotonic())
        except Exception as exc:  # Redis away: the next change tells the room
            log.warning("presence not announced: %s", exc)
        finally:
            self._pending.pop(room, None)
            self._dirty.discard(room)

    async def close(self) -> None:
        """Cancel the announcements still waiting (shutdown)."""
        pending = list(self._pending.values())
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
