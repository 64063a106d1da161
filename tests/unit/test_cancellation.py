"""A loop that runs until cancelled stops even when a library loses the CancelledError (redis-py
and aiohttp were seen to: a call cancelled at the wrong moment returns normally)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from parley.cancellation import stop_if_cancelled


async def swallowing_call(entered: asyncio.Event) -> None:
    """A call that loses a cancellation thrown into it, as those libraries sometimes do."""
    entered.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(3600)


async def test_a_loop_stops_after_a_call_lost_its_cancellation() -> None:
    entered = asyncio.Event()
    turns = 0

    async def loop() -> None:
        """Runs until cancelled; gives up after 100 turns so that a lost stop fails the test."""
        nonlocal turns
        while turns < 100:
            stop_if_cancelled()
            turns += 1
            await swallowing_call(entered) if turns == 1 else await asyncio.sleep(0)

    task = asyncio.create_task(loop())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert turns == 1


async def test_nothing_happens_in_a_task_not_asked_to_stop() -> None:
    stop_if_cancelled()


async def test_a_timeout_that_expired_is_no_request_to_stop() -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0):
            await asyncio.sleep(1)
    stop_if_cancelled()
