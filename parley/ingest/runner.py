"""Wiring of the in-app stream consumer to the process's services."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from parley.ingest.consumer import StreamConsumer
from parley.messaging import Broadcaster
from parley.services import Services
from parley.storage.dynamo import open_client
from parley.storage.stream_state import StreamCheckpoints, StreamLease


@asynccontextmanager
async def consuming_stream(
    services: Services, broadcaster: Broadcaster
) -> AsyncIterator[StreamConsumer]:
    """Run the consumer in the background for as long as the context is open."""
    async with open_client(services.settings, "dynamodbstreams") as streams:
        table = services.tables.messages
        consumer = StreamConsumer(
            dynamo=services.dynamo,
            streams=streams,
            table=table,
            lease=StreamLease(services.redis, table=table, holder=secrets.token_hex(8)),
            checkpoints_for=lambda arn: StreamCheckpoints(services.redis, stream_arn=arn),
            deliveries=services.deliveries,
            broadcaster=broadcaster,
            metrics=services.metrics,
        )
        task = asyncio.create_task(consumer.run(), name="stream-consumer")
        try:
            yield consumer
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
