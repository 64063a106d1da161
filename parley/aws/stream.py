"""The stream Lambda: a DynamoDB Streams event source mapping on the messages table calls this
with a batch of records; each new message reaches its room's clients through the Socket.IO
Redis channel the app instances listen on, and the members it mentions get `mention` on
their own channels.

Partial batch responses (ReportBatchItemFailures): on the first record that could not be
delivered, that record and everything after it are reported, and Lambda retries from there
(https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from parley.aws.runtime import cold_start_settings
from parley.config import Settings
from parley.container import Container
from parley.ingest.pipeline import IngestStats, StreamRecord, process_record

log = logging.getLogger(__name__)


# Read on the first invocation and kept for the life of the Lambda container.
_settings: Settings | None = None


def handler(event: dict[str, Any], context: object = None) -> dict[str, list[dict[str, str]]]:
    global _settings
    if _settings is None:
        _settings = cold_start_settings()
    return asyncio.run(handle_records(event.get("Records", []), _settings))


async def handle_records(
    records: Sequence[StreamRecord], settings: Settings
) -> dict[str, list[dict[str, str]]]:
    stats = IngestStats()
    failures: list[dict[str, str]] = []
    async with Container(settings).open_delivery() as delivery:
        for record in records:
            try:
                await process_record(
                    record,
                    deliveries=delivery.marks,
                    broadcaster=delivery.broadcaster,
                    mentions=delivery.mentions,
                    stats=stats,
                )
            except Exception as exc:
                log.warning("stream record not delivered, batch retried from it: %s", exc)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
                break
    log.info("stream batch: %s", stats)
    return {"batchItemFailures": failures}
