"""SlimQueue and SlimEvent behave as asyncio.Queue and asyncio.Event do in every scenario
Engine.IO and uvicorn use them in (each test runs on both), and hold no container while idle."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from parley.realtime.slim import SlimEvent, SlimQueue

QUEUES = [pytest.param(asyncio.Queue, id="asyncio"), pytest.param(SlimQueue, id="slim")]
EVENTS = [pytest.param(asyncio.Event, id="asyncio"), pytest.param(SlimEvent, id="slim")]


async def _turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@pytest.mark.parametrize("make", QUEUES)
async def test_queue_is_fifo_and_counts(make: Any) -> None:
    queue = make()
    assert queue.empty()
    assert queue.qsize() == 0
    assert not queue.full()
    assert queue.maxsize == 0
    for item in ("a", None, "b"):
        await queue.put(item)
    queue.put_nowait("c")
    assert queue.qsize() == 4
    assert not queue.empty()
    assert [queue.get_nowait() for _ in range(4)] == ["a", None, "b", "c"]
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


@pytest.mark.parametrize("make", QUEUES)
async def test_get_waits_for_a_put_and_getters_are_served_in_order(make: Any) -> None:
    queue = make()
    first = asyncio.create_task(queue.get())
    second = asyncio.create_task(queue.get())
    await _turns()
    assert not first.done()
    assert not second.done()
    queue.put_nowait(1)
    queue.put_nowait(2)
    assert await first == 1
    assert await second == 2


@pytest.mark.parametrize("make", QUEUES)
async def test_a_cancelled_get_passes_its_item_to_the_next_getter(make: Any) -> None:
    queue = make()
    cancelled = asyncio.create_task(queue.get())
    waiting = asyncio.create_task(queue.get())
    await _turns()
    queue.put_nowait("x")  # wakes `cancelled`, which is cancelled before it runs
    cancelled.cancel()
    assert await waiting == "x"
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert queue.empty()


@pytest.mark.parametrize("make", QUEUES)
async def test_a_get_timed_out_leaves_the_queue_usable(make: Any) -> None:
    queue = make()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await queue.get()
    queue.put_nowait("later")
    assert await queue.get() == "later"


@pytest.mark.parametrize("make", QUEUES)
async def test_join_waits_for_every_task_done(make: Any) -> None:
    queue = make()
    await queue.join()  # nothing unfinished: at once
    queue.put_nowait("a")
    queue.put_nowait("b")
    joined = asyncio.create_task(queue.join())
    queue.get_nowait()
    queue.task_done()
    await _turns()
    assert not joined.done()
    queue.get_nowait()
    queue.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError, match="too many"):
        queue.task_done()


@pytest.mark.parametrize("make", EVENTS)
async def test_event_wakes_every_waiter_and_clears(make: Any) -> None:
    event = make()
    assert not event.is_set()
    waiters = [asyncio.create_task(event.wait()) for _ in range(2)]
    await _turns()
    assert not any(w.done() for w in waiters)
    event.set()
    assert event.is_set()
    assert [await w for w in waiters] == [True, True]
    assert await event.wait() is True  # set: at once
    event.clear()
    assert not event.is_set()
    late = asyncio.create_task(event.wait())
    await _turns()
    assert not late.done()
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late
    event.set()


async def test_idle_slim_queue_and_event_hold_no_container() -> None:
    """The saving itself (bench/socket_memory.py): nothing allocated while nothing waits."""
    queue, event = SlimQueue(), SlimEvent()
    assert (queue._items, queue._getters, queue._finished) == (None, None, None)
    assert event._waiters is None
    getter = asyncio.create_task(queue.get())
    waiter = asyncio.create_task(event.wait())
    await _turns()
    queue.put_nowait("x")
    queue.task_done()
    event.set()
    assert await getter == "x"
    assert await waiter is True
    assert (queue._items, queue._getters, queue._finished) == (None, None, None)
    assert event._waiters is None
