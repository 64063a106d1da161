"""The in-app stream consumer's runner: the consumer (built by parley.container) reads in the
background for as long as the context is open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from parley.ingest.consumer import StreamConsumer


@asynccontextmanager
async def running_in_background(consumer: StreamConsumer) -> AsyncIterator[None]:
    task = asyncio.create_task(consumer.run(), name="stream-consumer")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
