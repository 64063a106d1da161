"""The processing core every runner shares (the in-app consumer and the Lambda): DynamoDB
Stream records in; each new valid message, and each change to one, handed once to the
broadcaster. A new message written outside the app has its mentions resolved and told as the
app's send does (parley/mentions.py); the app's own messages are claimed by their send, so they
are skipped here and nobody is told twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from parley.ids import iso_utc, ulid_seconds
from parley.mentions import Mentions
from parley.messaging import VISIBILITY_BOUND, Broadcaster
from parley.models import Message
from parley.storage.messages import CHANGED_AT, InvalidItem, Item, from_item, string_of

log = logging.getLogger(__name__)

StreamRecord = Mapping[str, Any]


class Deliveries(Protocol):  # storage.sends.DeliveryMarks (keyed by sender, room and id)
    async def claim_delivery(self, message: Message) -> bool: ...

    async def unclaim_delivery(self, message: Message) -> None: ...

    async def claim_change(self, room: str, message_id: str, change: str) -> bool: ...

    async def unclaim_change(self, room: str, message_id: str, change: str) -> None: ...


@dataclass
class IngestStats:
    records: int = 0
    ignored: int = 0  # nothing a client shows changed (or an event of another kind)
    invalid: int = 0
    duplicates: int = 0  # sent or changed through the app, or delivered already
    delivered: int = 0  # new messages and changes alike


@dataclass(frozen=True, slots=True)
class Arrival:
    """What a record brings to the room: a new message (`change` None), or the new state of
    one (`message_updated`) with the token of that change's "delivered once" mark."""

    message: Message
    change: str | None = None


def arrival_of(record: StreamRecord) -> Arrival | None:
    """What the record brings the room's clients; None when nothing they show changed. An
    INSERT is a new message, a MODIFY a change (an edit when its text changed: `editedAt` is
    the record's time unless the writer set one), a REMOVE a deletion (the item's tombstone).
    A MODIFY or REMOVE without its old image (a stream of new images only, from before the
    table was upgraded: docs/deploy.md) cannot be told apart, and is ignored as it was then.
    Raises InvalidItem for an item that is not a message."""
    event = record.get("eventName")
    data = record.get("dynamodb", {})
    if event == "INSERT":
        return Arrival(from_item(_image(data, "NewImage", "new image")))
    old_image = data.get("OldImage")
    if event not in ("MODIFY", "REMOVE") or not isinstance(old_image, dict):
        return None
    if event == "REMOVE":
        before = from_item(old_image)
        return None if before.deleted else Arrival(before.as_deleted(), _outside(record))
    return _modified(record, _image(data, "NewImage", "new image"), old_image)


def message_of(record: StreamRecord) -> Message | None:
    """The message an INSERT record carries; None for other events."""
    arrival = arrival_of(record) if record.get("eventName") == "INSERT" else None
    return arrival.message if arrival is not None else None


def _image(data: Mapping[str, Any], name: str, what: str) -> Item:
    image = data.get(name)
    if not isinstance(image, dict):
        raise InvalidItem(f"record has no {what}")
    return image


def _modified(record: StreamRecord, new_image: Item, old_image: Item) -> Arrival | None:
    message = from_item(new_image)
    before = _valid(old_image)
    if (
        before is not None
        and not message.deleted
        and message.text != before.text
        and message.edited_at is None
    ):
        at = datetime.fromtimestamp(_arrived_at(record), UTC)
        message = replace(message, edited_at=iso_utc(at))
    if message == before:
        return None  # bookkeeping (a parent's replies, a freed emoji), or a no-op write
    changed = string_of(new_image, CHANGED_AT)
    # The app marks its changes by the new `changedAt` it writes; a change made outside keeps
    # the old one, and its record's sequence number (the same on every retry) marks it.
    if changed is not None and changed != string_of(old_image, CHANGED_AT):
        return Arrival(message, changed)
    return Arrival(message, _outside(record))


def _outside(record: StreamRecord) -> str:
    return f"seq:{_sequence_number(record)}"


def _valid(item: Item) -> Message | None:
    try:
        return from_item(item)
    except InvalidItem:
        return None


async def process_record(
    record: StreamRecord,
    *,
    deliveries: Deliveries,
    broadcaster: Broadcaster,
    mentions: Mentions,
    stats: IngestStats,
) -> None:
    """Deliver what one record brings unless it was delivered before. Raises only when the
    broadcast could not be done (Redis or, for a text naming someone, DynamoDB away): the
    caller retries this record."""
    stats.records += 1
    try:
        arrival = arrival_of(record)
    except InvalidItem as exc:
        stats.invalid += 1
        log.warning("stream record %s skipped: %s", _sequence_number(record), exc)
        return
    if arrival is None:
        stats.ignored += 1
        return
    message, change = arrival.message, arrival.change
    if change is None:
        _warn_if_late(message, record)
        claimed = await deliveries.claim_delivery(message)
    else:
        claimed = await deliveries.claim_change(message.room, message.id, change)
    if not claimed:
        stats.duplicates += 1
        return
    try:
        if change is None:
            await _deliver_new(message, broadcaster, mentions)
        else:
            await broadcaster.message_updated(message)
    except BaseException:
        if change is None:
            await deliveries.unclaim_delivery(message)
        else:
            await deliveries.unclaim_change(message.room, message.id, change)
        raise
    stats.delivered += 1


async def _deliver_new(message: Message, broadcaster: Broadcaster, mentions: Mentions) -> None:
    """As the app's send: the room's members the text names (never the item's own `mentions`,
    which anyone writing the table could fill with non-members), the broadcast, then `mention`
    to each of them."""
    message = replace(message, mentions=await mentions.resolve(message.room, message.text))
    await broadcaster.message(message)
    await mentions.notify(message)


async def process_records(
    records: Iterable[StreamRecord],
    *,
    deliveries: Deliveries,
    broadcaster: Broadcaster,
    mentions: Mentions,
    stats: IngestStats,
) -> None:
    for record in records:
        await process_record(
            record,
            deliveries=deliveries,
            broadcaster=broadcaster,
            mentions=mentions,
            stats=stats,
        )


def _warn_if_late(message: Message, record: StreamRecord) -> None:
    """An item written straight into the table may carry an id much older than its arrival: a
    client that catches up from its newest id minus the visibility bound can miss it (it is
    still in the history, and in the join's page while it is among the latest)."""
    late = _arrived_at(record) - ulid_seconds(message.id)
    if late > VISIBILITY_BOUND.seconds:
        log.warning(
            "message %s in room %s arrived %.0f s after its id's time (bound %.0f s): clients "
            "catching up may miss it",
            message.id,
            message.room,
            late,
            VISIBILITY_BOUND.seconds,
        )


def _arrived_at(record: StreamRecord) -> float:
    """When the change was made, as DynamoDB says (seconds since the epoch)."""
    # boto3 parses the record's creation time into a datetime; a Lambda event has epoch seconds.
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        return created.timestamp()
    if isinstance(created, int | float):
        return float(created)
    return time.time()


def _sequence_number(record: StreamRecord) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", "?"))
