"""An unbounded queue and an event with asyncio's semantics, holding nothing while idle.

Every open socket has two queues (Engine.IO's outgoing packets, uvicorn's incoming events) and
an event (uvicorn's `writable`). An `asyncio.Queue` makes three deques and an `asyncio.Event`
with a deque of its own when it is created, an `asyncio.Event` one deque: some 6.5 KiB of every
idle socket (bench/socket_memory.py), for containers that are empty nearly all the time. These
make their containers when something is waiting in them and drop them when it is gone.
tests/unit/realtime/test_slim.py runs the same scenarios on them and on asyncio's classes."""

from __future__ import annotations

import asyncio
import collections
from typing import Any


def _wake_first(waiters: list[asyncio.Future[Any]]) -> None:
    while waiters:
        waiter = waiters.pop(0)
        if not waiter.done():
            waiter.set_result(None)
            return


class SlimQueue:
    """`asyncio.Queue()` (unbounded) as Engine.IO and uvicorn use it: put, put_nowait, get,
    get_nowait, task_done, join, empty, qsize, full."""

    __slots__ = ("_finished", "_getters", "_items", "_unfinished")

    maxsize = 0

    def __init__(self) -> None:
        self._items: collections.deque[Any] | None = None
        self._getters: list[asyncio.Future[Any]] | None = None
        self._finished: list[asyncio.Future[Any]] | None = None  # join() waiters
        self._unfinished = 0

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return False

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        self._unfinished += 1
        if self._getters:
            _wake_first(self._getters)

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()  # not done yet, if the caller was cancelled
                getters = self._getters
                if getters is not None and getter in getters:
                    getters.remove(getter)
                if self._items and not getter.cancelled() and getters:
                    _wake_first(getters)  # the item it was woken for goes to the next
                raise
            finally:
                if not self._getters:
                    self._getters = None
        return self.get_nowait()

    def get_nowait(self) -> Any:
        items = self._items
        if not items:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self._items = None
        return item

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._finished is not None:
            finished, self._finished = self._finished, None
            for waiter in finished:
                if not waiter.done():
                    waiter.set_result(None)

    async def join(self) -> None:
        if self._unfinished > 0:
            waiter = asyncio.get_running_loop().create_future()
            if self._finished is None:
                self._finished = []
            self._finished.append(waiter)
            try:
                await waiter
            finally:
                if self._finished is not None and waiter in self._finished:
                    self._finished.remove(waiter)
                if not self._finished:
                    self._finished = None


class SlimEvent:
    """`asyncio.Event`: is_set, set, clear, wait."""

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = False
        self._waiters: list[asyncio.Future[Any]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            for waiter in self._waiters or ():
                if not waiter.done():
                    waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            self._waiters.remove(waiter)
            if not self._waiters:
                self._waiters = None
