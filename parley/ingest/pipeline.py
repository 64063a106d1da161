"""The processing core every runner shares (the in-app consumer and the Lambda): DynamoDB
Stream records in, each new valid message handed once to the broadcaster."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from parley.ids import ulid_seconds
from parley.messaging import VISIBILITY_BOUND, Broadcaster
from parley.models import Message
from parley.storage.messages import InvalidItem, from_item

log = logging.getLogger(__name__)

StreamRecord = Mapping[str, Any]


class Deliveries(Protocol):  # storage.sends.DeliveryMarks (keyed by sender, room and id)
    async def claim_delivery(self, message: Message) -> bool: ...

    async def unclaim_delivery(self, message: Message) -> None: ...


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
    _warn_if_late(message, record)
    if not await deliveries.claim_delivery(message):
        stats.duplicates += 1
        return
    try:
        await broadcaster.message(message)
    except BaseException:
        await deliveries.unclaim_delivery(message)
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


def _warn_if_late(message: Message, record: StreamRecord) -> None:
    """An item written straight into the table may carry an id much older than its arrival: a
    client that catches up from its newest id minus the visibility bound can miss it (it is
    still in the history, and in the join's page while it is among the latest)."""
    # boto3 parses the record's creation time into a datetime; a Lambda event has epoch seconds.
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        arrived = created.timestamp()
    elif isinstance(created, int | float):
        arrived = float(created)
    else:
        arrived = time.time()
    late = arrived - ulid_seconds(message.id)
    if late > VISIBILITY_BOUND.seconds:
        log.warning(
            "message %s in room %s arrived %.0f s after its id's time (bound %.0f s): clients "
            "catching up may miss it",
            message.id,
            message.room,
            late,
            VISIBILITY_BOUND.seconds,
        )


def _sequence_number(record: StreamRecord) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", "?"))
