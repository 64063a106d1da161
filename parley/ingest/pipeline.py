"""The processing core every runner shares (the in-app consumer and the Lambda): DynamoDB
Stream records in, each new valid message handed once to the broadcaster."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from parley.messaging import Broadcaster
from parley.models import Message
from parley.storage.messages import InvalidItem, from_item

log = logging.getLogger(__name__)

StreamRecord = Mapping[str, Any]


class Deliveries(Protocol):  # storage.sends.DeliveryMarks
    async def claim_delivery(self, room: str, message_id: str) -> bool: ...

    async def unclaim_delivery(self, room: str, message_id: str) -> None: ...


@dataclass
class IngestStats:
    records: int = 0
    ignored: int = 0  # MODIFY / REMOVE events
    invalid: int = 0
    duplicates: int = 0  # sent through the app, or delivered already
    delivered: int = 0


def message_of(record: StreamRecord) -> Message | None:
    """The message an INSERT record carries; None for other events and invalid items."""
    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage")
    if not isinstance(image, dict):
        raise InvalidItem("record has no new image")
    return from_item(image)


async def process_record(
    record: StreamRecord,
    *,
    deliveries: Deliveries,
    broadcaster: Broadcaster,
    stats: IngestStats,
) -> None:
    """Deliver one record's message unless it was delivered before. Raises only when the
    broadcast could not be done (Redis away): the caller retries this record."""
    stats.records += 1
    try:
        message = message_of(record)
    except InvalidItem as exc:
        stats.invalid += 1
        log.warning("stream record %s skipped: %s", _sequence_number(record), exc)
        return
    if message is None:
        stats.ignored += 1
        return
    if not await deliveries.claim_delivery(message.room, message.id):
        stats.duplicates += 1
        return
    try:
        await broadcaster.message(message)
    except BaseException:
        await deliveries.unclaim_delivery(message.room, message.id)
        raise
    stats.delivered += 1


async def process_records(
    records: Iterable[StreamRecord],
    *,
    deliveries: Deliveries,
    broadcaster: Broadcaster,
    stats: IngestStats,
) -> None:
    for record in records:
        await process_record(record, deliveries=deliveries, broadcaster=broadcaster, stats=stats)


def _sequence_number(record: StreamRecord) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", "?"))
