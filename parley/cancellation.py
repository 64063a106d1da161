"""A task asked to stop can miss it: a CancelledError thrown into a library's read at the
wrong moment is sometimes swallowed there (seen with redis-py and aiohttp: the call returns
normally and the task runs on). Python keeps the request (`Task.cancelling()` stays above
zero until someone uncancels), so a loop that runs until cancelled checks it at every turn
instead of trusting the exception to arrive."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise CancelledError if the current task was asked to stop and is still running."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
